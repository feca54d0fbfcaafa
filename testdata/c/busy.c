// busy: computes for about a second without making a syscall, so that a
// debugger's Ctrl-C can only stop the replay by interrupting the task
// where it runs.
#include <stdio.h>

static volatile unsigned long counter;

__attribute__((noinline)) static void crunch(unsigned long n) {
	for (unsigned long i = 0; i < n; i++)
		counter++;
}

int main(void) {
	crunch(1UL << 31);
	printf("%lu\n", counter);
	return 7;
}
