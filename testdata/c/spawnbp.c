// spawnbp calls work() around system(), which spawns with vfork-like
// CLONE_VM|CLONE_VFORK: a debugger's breakpoint on work() must survive the
// child that shares the parent's memory, and hit every time.
#include <stdio.h>
#include <stdlib.h>

__attribute__((noinline)) int work(int i) { return i * 3; }

int main(void) {
	int sum = 0;
	for (int i = 0; i < 3; i++) {
		sum += work(i);
		if (system("true") != 0)
			return 1;
	}
	printf("sum %d\n", sum);
	return 0;
}
