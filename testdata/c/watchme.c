// watchme changes a global three times; gdb's hardware watchpoint must stop
// at each write with the old and new values.
#include <stdio.h>

volatile int g;

int main(void) {
	for (int i = 0; i < 3; i++)
		g += 10;
	printf("g=%d\n", g);
	return 0;
}
