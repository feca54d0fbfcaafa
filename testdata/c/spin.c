// spin: a thread spins on a flag that another thread sets. rewind switches
// threads only at syscalls, so under recording the setter never runs; the
// recorder must warn, naming the spinning thread, instead of hanging
// silently. Natively it prints "flag seen" at once.
#include <pthread.h>
#include <stdio.h>

static volatile int flag;

static void *setter(void *arg) {
	(void)arg;
	flag = 1;
	return NULL;
}

int main(void) {
	pthread_t t;
	pthread_create(&t, NULL, setter, NULL);
	while (!flag) {
	}
	pthread_join(t, NULL);
	printf("flag seen\n");
	return 0;
}
