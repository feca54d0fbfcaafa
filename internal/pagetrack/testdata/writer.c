/* writer: writes chosen pages of a mapping between int3 stops, for
 * pagetrack's test. rax holds the mapping's address at every stop. */
#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#define PAGES 64
#define PAGE 4096

static void stop(char *p) { __asm__ volatile("int3" ::"a"(p) : "memory"); }

int main(void) {
	char *p = mmap(0, PAGES * PAGE, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	if (p == MAP_FAILED)
		return 1;
	for (int i = 0; i < PAGES * PAGE; i += 64)
		((volatile char *)p)[i] = 1;
	stop(p); /* the tracer starts tracking */
	stop(p); /* nothing written since */
	p[3 * PAGE] = 2;
	p[10 * PAGE + 100] = 3;
	p[11 * PAGE] = 4;
	stop(p); /* pages 3, 10 and 11 */
	int fd = open("/dev/zero", O_RDONLY);
	if (fd < 0 || read(fd, p + 20 * PAGE + 8, 16) != 16)
		return 3;
	stop(p); /* page 20, written by the kernel */
	return p[3 * PAGE] + p[20 * PAGE + 8]; /* 2 */
}
