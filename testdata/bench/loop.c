// loop is a small CPU-bound workload (a few million instructions and a
// handful of syscalls) for comparing rewind with gdb's 'record full', which
// single-steps every instruction.
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv) {
	long n = argc > 1 ? atol(argv[1]) : 200000;
	unsigned long h = 1469598103934665603UL;
	for (long i = 0; i < n; i++)
		h = (h ^ (unsigned long)i) * 1099511628211UL;
	printf("%lu\n", h);
	return 0;
}
