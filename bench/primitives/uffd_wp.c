/* Exp 2 (in-process): userfaultfd WP-async + PAGEMAP_SCAN written-page tracking.
 * usage: ./uffd_wp SIZE_MB REPS [thp] */
#include "common.h"

static int uffd, pmfd;
static struct page_region *vec; static size_t veclen = 1 << 20;

/* Find written pages in [a,a+len) and re-protect them. Returns #pages found, *nregions, *ncalls */
static long scan(char *a, size_t len, int wp, long *nreg, int *ncalls) {
	long pages = 0; *nreg = 0; *ncalls = 0;
	struct pm_scan_arg arg = { .size = sizeof arg,
		.flags = (wp ? PM_SCAN_WP_MATCHING : 0) | PM_SCAN_CHECK_WPASYNC,
		.start = (uintptr_t)a, .end = (uintptr_t)a + len,
		.vec = (uintptr_t)vec, .vec_len = veclen,
		.category_mask = PAGE_IS_WRITTEN, .return_mask = PAGE_IS_WRITTEN };
	for (;;) {
		long n = ioctl(pmfd, PAGEMAP_SCAN, &arg);
		(*ncalls)++;
		if (n < 0) { fprintf(stderr, "PAGEMAP_SCAN: %s (errno %d)\n", strerror(errno), errno); exit(1); }
		for (long i = 0; i < n; i++) pages += (vec[i].end - vec[i].start) / PAGE;
		*nreg += n;
		/* NB: kernel 6.18 may leave walk_end stale (< end) after a complete multi-chunk walk;
		   a return value below vec_len means the walk finished. */
		if (arg.walk_end >= arg.end || n < (long)arg.vec_len) break;
		arg.start = arg.walk_end;
	}
	return pages;
}

int main(int argc, char **argv) {
	size_t mb = argc > 1 ? atol(argv[1]) : 1; int reps = argc > 2 ? atoi(argv[2]) : 50;
	int thp = argc > 3 && !strcmp(argv[3], "thp");
	size_t len = mb << 20, npages = len / PAGE;
	vec = calloc(veclen, sizeof *vec);
	uint64_t *t = malloc(sizeof(uint64_t) * (reps + 8));

	uffd = syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK | UFFD_USER_MODE_ONLY); CHECK(uffd);
	struct uffdio_api api = { .api = UFFD_API, .features = UFFD_FEATURE_WP_ASYNC | UFFD_FEATURE_WP_UNPOPULATED };
	CHECK(ioctl(uffd, UFFDIO_API, &api));
	pmfd = open("/proc/self/pagemap", O_RDONLY); CHECK(pmfd);

	char *a = mmap(0, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | (thp ? 0 : MAP_POPULATE), -1, 0);
	if (a == MAP_FAILED) { perror("mmap"); return 1; }
	if (thp) { CHECK(madvise(a, len, MADV_HUGEPAGE)); memset(a, 1, len); }
	else memset(a, 1, len);     /* make pages private, not the zero page */
	printf("== size %zu MB (%zu pages)%s, features granted=%#llx\n", mb, npages, thp ? " THP" : "", (unsigned long long)api.features);

	uint64_t t0 = now_ns();
	struct uffdio_register reg = { .range = { (uintptr_t)a, len }, .mode = UFFDIO_REGISTER_MODE_WP };
	CHECK(ioctl(uffd, UFFDIO_REGISTER, &reg));
	printf("UFFDIO_REGISTER(WP)                                        %10.2f us\n", (now_ns() - t0) / 1e3);

	/* initial write-protect of the whole (fully written) range, repeated */
	struct uffdio_writeprotect wp = { .range = { (uintptr_t)a, len }, .mode = UFFDIO_WRITEPROTECT_MODE_WP };
	int wreps = reps < 10 ? reps : 10;
	for (int r = 0; r < wreps; r++) {
		wp.mode = 0; CHECK(ioctl(uffd, UFFDIO_WRITEPROTECT, &wp));       /* unprotect */
		wp.mode = UFFDIO_WRITEPROTECT_MODE_WP;
		t0 = now_ns(); CHECK(ioctl(uffd, UFFDIO_WRITEPROTECT, &wp)); t[r] = now_ns() - t0;
	}
	report("UFFDIO_WRITEPROTECT(whole range)", t, wreps);
	/* alternative initial protect: PAGEMAP_SCAN+WP_MATCHING over all-written range */
	long nreg; int nc; long got = 0;
	for (int r = 0; r < wreps; r++) {
		wp.mode = 0; CHECK(ioctl(uffd, UFFDIO_WRITEPROTECT, &wp));
		t0 = now_ns(); got = scan(a, len, 1, &nreg, &nc); t[r] = now_ns() - t0;
	}
	printf("  (scan found %ld pages in %ld regions, %d ioctl calls)\n", got, nreg, nc);
	report("PAGEMAP_SCAN WP_MATCHING, 100% written (=initial protect)", t, wreps);

	/* scan costs for k written pages since last scan */
	long ks[] = { 0, 1, 100, (long)npages / 10 };
	for (int ki = 0; ki < 4; ki++) {
		long k = ks[ki];
		for (int r = 0; r < reps; r++) {
			size_t off = (size_t)rand() % npages;
			for (long i = 0; i < k; i++) a[((off + (size_t)i * 7919) % npages) * PAGE] ^= 1;
			t0 = now_ns(); got = scan(a, len, 1, &nreg, &nc); t[r] = now_ns() - t0;
			if (got != k && !thp) { fprintf(stderr, "BUG: wrote %ld pages, scan found %ld\n", k, got); }
		}
		char name[100]; snprintf(name, sizeof name, "PAGEMAP_SCAN find+reprotect, %ld pages written", k);
		report(name, t, reps);
		printf("  (last: found %ld pages, %ld regions, %d ioctl calls)\n", got, nreg, nc);
	}
	/* same, but report-only (no WP_MATCHING): cost of the walk alone, 100 pages dirty */
	for (long i = 0; i < 100; i++) a[((size_t)i * 7919 % npages) * PAGE] ^= 1;
	for (int r = 0; r < reps; r++) { t0 = now_ns(); got = scan(a, len, 0, &nreg, &nc); t[r] = now_ns() - t0; }
	report("PAGEMAP_SCAN report-only (no WP_MATCHING), 100 written", t, reps);
	scan(a, len, 1, &nreg, &nc);

	/* write-fault cost: touch every page once, protected vs unprotected */
	int freps = reps < 10 ? reps : 10;
	uint64_t *tp = malloc(8 * freps), *tu = malloc(8 * freps);
	for (int r = 0; r < freps; r++) {
		scan(a, len, 1, &nreg, &nc);                      /* everything protected again */
		t0 = now_ns(); for (size_t p = 0; p < npages; p++) a[p * PAGE] ^= 1; tp[r] = now_ns() - t0;
		t0 = now_ns(); for (size_t p = 0; p < npages; p++) a[p * PAGE] ^= 1; tu[r] = now_ns() - t0;
	}
	double mp = median_us(tp, freps), mu = median_us(tu, freps);
	printf("first write to %zu protected pages: median %.1f us total = %.3f us/page\n", npages, mp, mp / npages);
	printf("write to %zu unprotected pages:     median %.1f us total = %.3f us/page\n", npages, mu, mu / npages);
	printf("=> WP-async write fault overhead ~ %.3f us/page\n", (mp - mu) / npages);
	return 0;
}
