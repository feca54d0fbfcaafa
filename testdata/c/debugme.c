// debugme is driven by gdb in the debugger tests: compute() receives a
// value that was random when recorded; gdb must see the same value.
#include <stdio.h>
#include <sys/random.h>

static int counter;

__attribute__((noinline)) int compute(int x) {
	int y = x * 2;
	counter += y;
	return y + 1;
}

int main(void) {
	unsigned r = 0;
	getrandom(&r, sizeof r, 0);
	r %= 1000;
	printf("random %u\n", r);
	int v = compute((int)r);
	printf("computed %d\n", v);
	return 3;
}
