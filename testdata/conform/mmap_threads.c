/*
 * mmap_threads.c - conformance test: threads changing one address space at
 * once.
 *
 * Family: mmap, munmap, mprotect, madvise and brk from several threads. The
 * kernel hands a range one thread's munmap frees to another thread's mmap
 * straight away, before the first thread's call has returned; replay must
 * have the munmap done by then too, or the second thread's mprotect of its
 * new mapping fails (ENOMEM).
 * Sub-cases:
 *   1. two threads each map 1-4 MiB PROT_NONE 2000 times, make the first
 *      page writable, write and read it, and unmap the whole mapping.
 *   2. the same with a third thread calling madvise(MADV_DONTNEED) on a
 *      shared scratch mapping and checking it reads back zeros.
 * Every call must succeed and every value read must be the one written.
 */
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

#define ROUNDS 2000

static char *scratch;
static volatile int stop_advisor;

static void *mapper(void *arg) {
	long id = (long)arg, bad = 0;
	for (int i = 0; i < ROUNDS; i++) {
		size_t size = (size_t)(1 + (i + id) % 4) << 20;
		char *p = mmap(0, size, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (p == MAP_FAILED) {
			perror("mmap");
			return (void *)1;
		}
		if (mprotect(p, 4096, PROT_READ | PROT_WRITE)) {
			perror("mprotect");
			return (void *)1;
		}
		p[0] = (char)(i + id);
		bad += p[0] != (char)(i + id);
		if (munmap(p, size)) {
			perror("munmap");
			return (void *)1;
		}
	}
	return (void *)bad;
}

static void *advisor(void *arg) {
	(void)arg;
	long bad = 0;
	while (!stop_advisor) {
		memset(scratch, 7, 8192);
		if (madvise(scratch, 8192, MADV_DONTNEED)) {
			perror("madvise");
			return (void *)1;
		}
		bad += scratch[0] != 0 || scratch[4096] != 0;
	}
	return (void *)bad;
}

static long run(int with_advisor) {
	pthread_t t[3];
	long errors = 0;
	stop_advisor = 0;
	for (long i = 0; i < 2; i++)
		pthread_create(&t[i], 0, mapper, (void *)i);
	if (with_advisor)
		pthread_create(&t[2], 0, advisor, 0);
	for (int i = 0; i < 2; i++) {
		void *r;
		pthread_join(t[i], &r);
		errors += (long)r;
	}
	if (with_advisor) {
		void *r;
		stop_advisor = 1;
		pthread_join(t[2], &r);
		errors += (long)r;
	}
	return errors;
}

int main(void) {
	scratch = mmap(0, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (scratch == MAP_FAILED)
		return 1;
	long e1 = run(0), e2 = run(1);
	printf("mappers: %ld errors; with madvise: %ld errors\n", e1, e2);
	return e1 || e2;
}
