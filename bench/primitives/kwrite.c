/* Are kernel-mode writes (read(2) into the buffer, process_vm_writev and PTRACE_POKEDATA from
 * another process) tracked by a UFFD_USER_MODE_ONLY + WP_ASYNC registration? */
#include "common.h"
#include <sys/ptrace.h>
static long scan(int pm, char *a, size_t len) {
	struct page_region v[64];
	struct pm_scan_arg arg = { .size = sizeof arg, .flags = PM_SCAN_WP_MATCHING | PM_SCAN_CHECK_WPASYNC,
		.start = (uintptr_t)a, .end = (uintptr_t)a + len, .vec = (uintptr_t)v, .vec_len = 64,
		.category_mask = PAGE_IS_WRITTEN, .return_mask = PAGE_IS_WRITTEN };
	long n = ioctl(pm, PAGEMAP_SCAN, &arg), p = 0; if (n < 0) return -errno;
	for (long i = 0; i < n; i++) p += (v[i].end - v[i].start) / PAGE;
	return p;
}
int main(void) {
	size_t len = 16 * PAGE; int c2p[2]; if (pipe(c2p)) return 1;
	int uffd = syscall(SYS_userfaultfd, O_CLOEXEC | UFFD_USER_MODE_ONLY); CHECK(uffd);
	struct uffdio_api api = { .api = UFFD_API, .features = UFFD_FEATURE_WP_ASYNC | UFFD_FEATURE_WP_UNPOPULATED }; CHECK(ioctl(uffd, UFFDIO_API, &api));
	char *a = mmap(0, len, 3, MAP_SHARED | MAP_ANONYMOUS, -1, 0); /* shared so parent's map == child's */
	char *u = mmap(0, len, 3, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);  /* UNPOPULATED private range */
	memset(a, 1, len);
	struct uffdio_register reg = { .range = { (uintptr_t)a, len }, .mode = UFFDIO_REGISTER_MODE_WP }; CHECK(ioctl(uffd, UFFDIO_REGISTER, &reg));
	struct uffdio_register reg2 = { .range = { (uintptr_t)u, len }, .mode = UFFDIO_REGISTER_MODE_WP }; CHECK(ioctl(uffd, UFFDIO_REGISTER, &reg2));
	int pm = open("/proc/self/pagemap", O_RDONLY);
	printf("shmem initial scan (before WRITEPROTECT): %ld written\n", scan(pm, a, len));
	printf("shmem rescan: %ld written (expect 0)\n", scan(pm, a, len));
	printf("unpopulated private range, before any WP scan: %ld written (all count as written until first WP_MATCHING scan)\n", scan(pm, u, len));
	u[5 * PAGE] = 1; printf("unpopulated: after 1 first-touch write: %ld (expect 1)\n", scan(pm, u, len));
	volatile char rd = u[6 * PAGE]; (void)rd; printf("unpopulated: after a read fault: %ld (expect 0)\n", scan(pm, u, len));
	int z = open("/dev/zero", O_RDONLY);
	if (read(z, a + 3 * PAGE, 100) != 100) perror("read");
	printf("after read(2) into page 3: %ld written (expect 1)\n", scan(pm, a, len));
	/* another process (our child, same uid) writes into OUR tracked memory */
	pid_t w = fork();
	if (w == 0) {
		pid_t target = getppid(); char buf[8] = "xyz";
		struct iovec l = { buf, 3 }, r = { a + 7 * PAGE, 3 };
		if (process_vm_writev(target, &l, 1, &r, 1, 0) != 3) perror("process_vm_writev");
		if (write(c2p[1], "x", 1) != 1) _exit(1);
		_exit(0);
	}
	char c; if (read(c2p[0], &c, 1) != 1) return 1; waitpid(w, 0, 0);
	printf("after process_vm_writev into page 7 from another process: %ld written (expect 1)\n", scan(pm, a, len));
	return 0;
}
