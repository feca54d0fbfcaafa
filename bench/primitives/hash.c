/* Exp 3: read N scattered pages of another process with process_vm_readv and hash them.
 * usage: ./hash [REPS] */
#include "common.h"
#define BATCH 256            /* pages per process_vm_readv call (1 MiB local buffer, <= IOV_MAX) */
int main(int argc, char **argv) {
	int reps = argc > 1 ? atoi(argv[1]) : 20; long stride = argc > 2 ? atol(argv[2]) : 7919;  /* 1 = contiguous */
	size_t len = 1024UL << 20, np = len / PAGE;
	char *a = mmap(0, len, 3, MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	uint64_t x = 88172645463325252ULL;
	for (size_t i = 0; i < len / 8; i++) { x ^= x << 13; x ^= x >> 7; x ^= x << 17; ((uint64_t *)a)[i] = x; }
	/* NB: the child must own its pages exclusively. If they are COW-shared with the parent after fork,
	   process_vm_readv's FOLL_PIN forces an unshare (page copy) per page: 15+ us/page. */
	int go[2], ad[2]; if (pipe(go) || pipe(ad)) return 1;
	pid_t pid = fork();
	if (pid == 0) {
		char *c = mmap(0, len, 3, MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
		memcpy(c, a, len); munmap(a, len);
		if (write(ad[1], &c, sizeof c)) {}
		char ch; if (read(go[0], &ch, 1)) {} _exit(0);
	}
	char *ra; if (read(ad[0], &ra, sizeof ra) != sizeof ra) return 1;
	static char buf[BATCH * PAGE]; struct iovec liov[1] = { { buf, sizeof buf } }, riov[BATCH];
	long Ns[] = { 1, 10, 100, 1000, 2560, 26214 };
	uint64_t *tr = malloc(8 * reps), *tx = malloc(8 * reps), *tf = malloc(8 * reps), *tl = malloc(8 * reps);
	printf("%-7s %12s %12s %12s %12s | %10s %10s %10s\n", "pages", "readv us", "xxh64 us", "fnv-w us", "local xxh us",
	       "rd us/pg", "xxh us/pg", "rd+xxh MB/s");
	volatile uint64_t sink = 0;
	for (int ni = 0; ni < 6; ni++) {
		long N = Ns[ni];
		for (int r = 0; r < reps; r++) {
			size_t off = rand() % np; uint64_t rd = 0, hx = 0, hf = 0;
			for (long done = 0; done < N; done += BATCH) {
				long b = N - done < BATCH ? N - done : BATCH;
				for (long i = 0; i < b; i++) { riov[i].iov_base = ra + ((off + (done + i) * stride) % np) * PAGE; riov[i].iov_len = PAGE; }
				liov[0].iov_len = b * PAGE;
				uint64_t t0 = now_ns();
				if (process_vm_readv(pid, liov, 1, riov, b, 0) != b * (long)PAGE) { perror("process_vm_readv"); return 1; }
				uint64_t t1 = now_ns();
				for (long i = 0; i < b; i++) sink ^= xxh64(buf + i * PAGE, PAGE, 0);
				uint64_t t2 = now_ns();
				for (long i = 0; i < b; i++) sink ^= fnv64w(buf + i * PAGE, PAGE);
				uint64_t t3 = now_ns();
				rd += t1 - t0; hx += t2 - t1; hf += t3 - t2;
			}
			/* in-process alternative (e.g. hashing stub inside the tracee): hash directly, no copy */
			uint64_t t0 = now_ns();
			for (long i = 0; i < N; i++) sink ^= xxh64(a + ((off + i * stride) % np) * PAGE, PAGE, 0);
			tl[r] = now_ns() - t0; tr[r] = rd; tx[r] = hx; tf[r] = hf;
		}
		double mr = median_us(tr, reps), mx = median_us(tx, reps), mf = median_us(tf, reps), ml = median_us(tl, reps);
		printf("%-7ld %12.2f %12.2f %12.2f %12.2f | %10.3f %10.3f %10.0f\n", N, mr, mx, mf, ml, mr / N, mx / N,
		       N * PAGE / ((mr + mx) * 1e-6) / (1 << 20));
	}
	if (write(go[1], "x", 1)) {} waitpid(pid, 0, 0);
	return 0;
}
