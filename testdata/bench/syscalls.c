// syscalls is the worst case for a ptrace recorder: N rounds of cheap
// syscalls (getpid, a 1-byte pipe write and read, clock_gettime, stat).
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv) {
	long n = argc > 1 ? atol(argv[1]) : 100000;
	int p[2];
	if (pipe(p) < 0) return 1;
	long sum = 0;
	struct stat st;
	struct timespec ts;
	char c = 'x';
	for (long i = 0; i < n; i++) {
		sum += getpid();
		write(p[1], &c, 1);
		read(p[0], &c, 1);
		clock_gettime(CLOCK_MONOTONIC, &ts);
		stat("/", &st);
	}
	printf("%ld rounds, sum %ld\n", n, sum);
	return 0;
}
