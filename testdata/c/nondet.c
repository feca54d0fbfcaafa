// nondet prints values that differ on every run: clocks, rdtsc, random bytes,
// its pid, file metadata, a directory listing, data through a pipe and a
// mapped file. Under replay each line must come out exactly as recorded.
// Usage: nondet SCRATCH_DIR
#define _GNU_SOURCE
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>
#include <x86intrin.h>

static void hex(const char *what, const unsigned char *b, int n) {
	printf("%s ", what);
	for (int i = 0; i < n; i++) printf("%02x", b[i]);
	printf("\n");
}

int main(int argc, char **argv) {
	if (argc < 2) { fprintf(stderr, "usage: nondet DIR\n"); return 2; }
	const char *dir = argv[1];
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	printf("realtime %ld.%09ld\n", (long)ts.tv_sec, ts.tv_nsec);
	clock_gettime(CLOCK_MONOTONIC, &ts);
	printf("monotonic %ld.%09ld\n", (long)ts.tv_sec, ts.tv_nsec);
	struct timeval tv;
	gettimeofday(&tv, NULL);
	printf("gettimeofday %ld.%06ld\n", (long)tv.tv_sec, (long)tv.tv_usec);
	printf("time %ld\n", (long)time(NULL));
	unsigned aux;
	unsigned long long t1 = __rdtsc(), t2 = __rdtscp(&aux);
	printf("rdtsc %llu rdtscp %llu aux %u\n", t1, t2, aux);
	unsigned char rnd[16];
	if (getrandom(rnd, sizeof rnd, 0) != sizeof rnd) return 3;
	hex("getrandom", rnd, sizeof rnd);
	int fd = open("/dev/urandom", O_RDONLY);
	if (fd < 0 || read(fd, rnd, sizeof rnd) != sizeof rnd) return 4;
	close(fd);
	hex("urandom", rnd, sizeof rnd);
	printf("pid %d ppid %d\n", getpid(), getppid());
	printf("rand %d\n", rand_r(&(unsigned){(unsigned)ts.tv_nsec}));

	char path[4096];
	snprintf(path, sizeof path, "%s/created-by-nondet", dir);
	fd = open(path, O_CREAT | O_TRUNC | O_RDWR, 0644);
	if (fd < 0) { perror(path); return 5; }
	char msg[64];
	int n = snprintf(msg, sizeof msg, "file written at %ld\n", (long)ts.tv_nsec);
	if (write(fd, msg, n) != n) return 6;
	struct stat st;
	fstat(fd, &st);
	printf("stat size %ld ino %lu mtime %ld.%09ld\n", (long)st.st_size, (unsigned long)st.st_ino,
	       (long)st.st_mtim.tv_sec, st.st_mtim.tv_nsec);
	char *m = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE, fd, 0);
	if (m == MAP_FAILED) { perror("mmap"); return 7; }
	printf("mapped: %.*s", n, m);
	munmap(m, 4096);
	close(fd);

	DIR *d = opendir(dir);
	if (!d) { perror(dir); return 8; }
	int entries = 0;
	struct dirent *de;
	while ((de = readdir(d)) != NULL) {
		printf("dirent %s ino %lu\n", de->d_name, (unsigned long)de->d_ino);
		entries++;
	}
	closedir(d);
	printf("entries %d\n", entries);

	int p[2];
	if (pipe(p) < 0) return 9;
	snprintf(msg, sizeof msg, "through the pipe %ld", (long)tv.tv_usec);
	write(p[1], msg, strlen(msg) + 1);
	char back[64] = {0};
	read(p[0], back, sizeof back);
	printf("pipe: %s\n", back);

	void *heap = malloc(1 << 20);
	printf("heap %p stack %p\n", heap, (void *)&heap);
	free(heap);
	unlink(path);
	fprintf(stderr, "nondet done at %ld\n", (long)ts.tv_nsec);
	return 42;
}
