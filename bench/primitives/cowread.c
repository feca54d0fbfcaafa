/* Exp 3b: reading COW-shared (post-fork, unwritten) pages of a child: process_vm_readv vs
 * pread(/proc/PID/mem), and both on exclusively-owned pages. usage: ./cowread */
#include "common.h"
int main(void) {
	size_t len = 256UL << 20, np = len / PAGE, N = 4096;
	char *a = mmap(0, len, 3, MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	for (size_t i = 0; i < len; i += 8) *(uint64_t *)(a + i) = i * 2654435761u;
	int go[2]; if (pipe(go)) return 1;
	pid_t pid = fork();
	if (pid == 0) {                 /* child: make the 2nd half exclusive by writing it */
		for (size_t i = np / 2; i < np; i++) a[i * PAGE] ^= 1;
		if (write(go[1], "r", 1)) {} pause(); _exit(0);
	}
	char c; if (read(go[0], &c, 1) != 1) return 1;
	char path[64]; snprintf(path, sizeof path, "/proc/%d/mem", pid);
	int mem = open(path, O_RDONLY); CHECK(mem);
	static char buf[PAGE];
	const char *names[4] = { "process_vm_readv, COW-shared pages", "pread /proc/PID/mem, COW-shared pages",
		"process_vm_readv, exclusive pages", "pread /proc/PID/mem, exclusive pages" };
	for (int m = 0; m < 4; m++) {
		size_t base = (m < 2 ? 0 : np / 2) + (m & 1) * (np / 4);   /* disjoint, never-read-before pages */
		uint64_t t0 = now_ns();
		for (size_t i = 0; i < N; i++) {
			char *p = a + (base + i * 7 % (np / 4)) * PAGE;
			if (m & 1) { if (pread(mem, buf, PAGE, (off_t)(uintptr_t)p) != PAGE) { perror("pread"); return 1; } }
			else { struct iovec l = { buf, PAGE }, r = { p, PAGE }; if (process_vm_readv(pid, &l, 1, &r, 1, 0) != PAGE) { perror("pvr"); return 1; } }
		}
		printf("%-45s %6.2f us/page (%zu pages, 1 page per call)\n", names[m], (now_ns() - t0) / 1e3 / N, N);
	}
	kill(pid, SIGKILL); waitpid(pid, 0, 0); return 0;
}
