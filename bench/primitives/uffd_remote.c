/* Exp 2b + 5: WP-async tracking of ANOTHER process: PAGEMAP_SCAN on /proc/PID/pagemap,
 * uffd stolen with pidfd_getfd and driven from the tracer, privilege checks.
 * usage: ./uffd_remote [SIZE_MB] [REPS]    (run as root and as nobody) */
#include "common.h"
#include <sys/ptrace.h>
#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif
#ifndef SYS_pidfd_getfd
#define SYS_pidfd_getfd 438
#endif

static int cmd[2], rsp[2];
struct msg { long op, arg; uint64_t addr; long fd; };
static void snd(int fd, struct msg m) { if (write(fd, &m, sizeof m) != sizeof m) exit(2); }
static struct msg rcv(int fd) { struct msg m; if (read(fd, &m, sizeof m) != sizeof m) exit(0); return m; }

static void child(size_t len) {
	size_t np = len / PAGE;
	int uffd = syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK | UFFD_USER_MODE_ONLY);
	if (uffd < 0) { printf("child: userfaultfd(UFFD_USER_MODE_ONLY) failed errno=%d %s\n", errno, strerror(errno)); snd(rsp[1], (struct msg){-1}); exit(1); }
	struct uffdio_api api = { .api = UFFD_API, .features = UFFD_FEATURE_WP_ASYNC | UFFD_FEATURE_WP_UNPOPULATED };
	CHECK(ioctl(uffd, UFFDIO_API, &api));
	char *a = mmap(0, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	memset(a, 1, len);
	struct uffdio_register reg = { .range = { (uintptr_t)a, len }, .mode = UFFDIO_REGISTER_MODE_WP };
	CHECK(ioctl(uffd, UFFDIO_REGISTER, &reg));
	struct uffdio_writeprotect wp = { .range = { (uintptr_t)a, len }, .mode = UFFDIO_WRITEPROTECT_MODE_WP };
	CHECK(ioctl(uffd, UFFDIO_WRITEPROTECT, &wp));
	snd(rsp[1], (struct msg){ 0, 0, (uintptr_t)a, uffd });
	char *b = 0;
	for (;;) {
		struct msg m = rcv(cmd[0]);
		if (m.op == 1) { size_t off = rand() % np; for (long i = 0; i < m.arg; i++) a[((off + i * 7919) % np) * PAGE] ^= 1; }
		else if (m.op == 2) { close(uffd); }                 /* drop own copy of the uffd */
		else if (m.op == 3) { b = mmap(0, 1 << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0); memset(b, 1, 1 << 20); m.addr = (uintptr_t)b; }
		else if (m.op == 4) { for (long i = 0; i < m.arg; i++) b[i * PAGE] ^= 1; }
		snd(rsp[1], m);
	}
}

static long rscan(int pmfd, uint64_t s, uint64_t e, int wp, struct page_region *vec, size_t vl) {
	long pages = 0;
	struct pm_scan_arg arg = { .size = sizeof arg, .flags = (wp ? PM_SCAN_WP_MATCHING : 0) | PM_SCAN_CHECK_WPASYNC,
		.start = s, .end = e, .vec = (uintptr_t)vec, .vec_len = vl,
		.category_mask = PAGE_IS_WRITTEN, .return_mask = PAGE_IS_WRITTEN };
	for (;;) {
		long n = ioctl(pmfd, PAGEMAP_SCAN, &arg);
		if (n < 0) return -errno;
		for (long i = 0; i < n; i++) pages += (vec[i].end - vec[i].start) / PAGE;
		if (arg.walk_end >= arg.end || n < (long)arg.vec_len) break;
		arg.start = arg.walk_end;
	}
	return pages;
}

int main(int argc, char **argv) {
	size_t mb = argc > 1 ? atol(argv[1]) : 100; int reps = argc > 2 ? atoi(argv[2]) : 50;
	size_t len = mb << 20, np = len / PAGE;
	printf("uid=%d euid=%d unprivileged_userfaultfd=", getuid(), geteuid()); fflush(stdout);
	if (system("cat /proc/sys/vm/unprivileged_userfaultfd")) {}
	/* flag-0 userfaultfd (kernel-mode faults too) needs CAP_SYS_PTRACE or the sysctl=1 */
	int f0 = syscall(SYS_userfaultfd, O_CLOEXEC);
	printf("userfaultfd(0): %s\n", f0 >= 0 ? "OK" : strerror(errno)); if (f0 >= 0) close(f0);
	int f1 = syscall(SYS_userfaultfd, O_CLOEXEC | UFFD_USER_MODE_ONLY);
	printf("userfaultfd(UFFD_USER_MODE_ONLY): %s\n", f1 >= 0 ? "OK" : strerror(errno)); if (f1 >= 0) close(f1);
	int dev = open("/dev/userfaultfd", O_RDWR | O_CLOEXEC);
	printf("open(/dev/userfaultfd): %s\n", dev >= 0 ? "OK" : strerror(errno));
	if (dev >= 0) { int u = ioctl(dev, _IO(0xAA, 0x00) /*USERFAULTFD_IOC_NEW*/, O_CLOEXEC); printf("USERFAULTFD_IOC_NEW(0): %s\n", u >= 0 ? "OK" : strerror(errno)); }

	if (pipe(cmd) || pipe(rsp)) return 1;
	pid_t pid = fork();
	if (pid == 0) { child(len); return 0; }
	struct msg m = rcv(rsp[0]);
	if (m.op < 0) { waitpid(pid, 0, 0); return 1; }
	uint64_t a = m.addr; int child_uffd = m.fd;

	char path[64]; snprintf(path, sizeof path, "/proc/%d/pagemap", pid);
	int pmfd = open(path, O_RDONLY);
	printf("open(%s): %s\n", path, pmfd >= 0 ? "OK" : strerror(errno));
	size_t vl = 1 << 18; struct page_region *vec = calloc(vl, sizeof *vec);
	uint64_t *t = malloc(8 * reps);
	long ks[] = { 0, 1, 100, (long)np / 10 };
	for (int ki = 0; ki < 4; ki++) {
		long got = 0;
		for (int r = 0; r < reps; r++) {
			snd(cmd[1], (struct msg){ 1, ks[ki] }); rcv(rsp[0]);
			uint64_t t0 = now_ns(); got = rscan(pmfd, a, a + len, 1, vec, vl); t[r] = now_ns() - t0;
			if (got < 0) { printf("remote PAGEMAP_SCAN failed: %s\n", strerror(-got)); goto steal; }
		}
		char name[100]; snprintf(name, sizeof name, "remote PAGEMAP_SCAN %zuMB, %ld written (found %ld)", mb, ks[ki], got);
		report(name, t, reps);
	}
steal:;
	/* pidfd_getfd: take the child's uffd, have the child close its copy, keep tracking from here */
	int pidfd = syscall(SYS_pidfd_open, pid, 0);
	int uffd = pidfd >= 0 ? syscall(SYS_pidfd_getfd, pidfd, child_uffd, 0) : -1;
	printf("pidfd_getfd(child uffd): %s\n", uffd >= 0 ? "OK" : strerror(errno));
	if (uffd < 0) goto out;
	snd(cmd[1], (struct msg){ 2 }); rcv(rsp[0]);                   /* child closes its uffd */
	snd(cmd[1], (struct msg){ 1, 10 }); rcv(rsp[0]);
	printf("after child closed its uffd copy: scan finds %ld written pages (expect 10)\n", rscan(pmfd, a, a + len, 1, vec, vl));
	/* register a NEW child mapping from the tracer through the stolen uffd */
	snd(cmd[1], (struct msg){ 3 }); m = rcv(rsp[0]);
	struct uffdio_register reg = { .range = { m.addr, 1 << 20 }, .mode = UFFDIO_REGISTER_MODE_WP };
	int rr = ioctl(uffd, UFFDIO_REGISTER, &reg);
	printf("tracer UFFDIO_REGISTER on child's new mapping: %s\n", rr == 0 ? "OK" : strerror(errno));
	struct uffdio_writeprotect wp = { .range = { m.addr, 1 << 20 }, .mode = UFFDIO_WRITEPROTECT_MODE_WP };
	rr = ioctl(uffd, UFFDIO_WRITEPROTECT, &wp);
	printf("tracer UFFDIO_WRITEPROTECT on child's new mapping: %s\n", rr == 0 ? "OK" : strerror(errno));
	snd(cmd[1], (struct msg){ 4, 7 }); rcv(rsp[0]);
	printf("new mapping: scan finds %ld written pages (expect 7)\n", rscan(pmfd, m.addr, m.addr + (1 << 20), 1, vec, vl));
	close(uffd);
	snd(cmd[1], (struct msg){ 4, 7 }); rcv(rsp[0]);
	long r2 = rscan(pmfd, m.addr, m.addr + (1 << 20), 1, vec, vl);
	printf("after tracer closed the last uffd ref: scan -> %s\n", r2 < 0 ? strerror(-r2) : "still works");
out:
	kill(pid, SIGKILL); waitpid(pid, 0, 0);
	return 0;
}
