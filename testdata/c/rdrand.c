// rdrand contains an RDRAND instruction, executed only with the argument
// "run". The recorder traps it and records the value: replay prints the
// same number.
#include <stdio.h>
#include <string.h>

__attribute__((noinline)) unsigned long long use_rdrand(void) {
	unsigned long long v = 0;
	unsigned char ok;
	__asm__ volatile("rdrand %0; setc %1" : "=r"(v), "=qm"(ok));
	return ok ? v : 0;
}

int main(int argc, char **argv) {
	if (argc > 1 && strcmp(argv[1], "run") == 0)
		printf("rdrand %llu\n", use_rdrand());
	else
		printf("rdrand not executed\n");
	return 0;
}
