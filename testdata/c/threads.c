// threads runs four pthreads that share a mutex-protected counter, a racy
// counter whose final value depends on the interleaving, and a condition
// variable that orders their last lines. Replay must print the same values.
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static long counter, racy;
static int turn;
static void *worker(void *arg) {
	long id = (long)arg;
	for (int i = 0; i < 2000; i++) {
		pthread_mutex_lock(&mu);
		counter++;
		pthread_mutex_unlock(&mu);
		long v = racy; if (i % 7 == 0) usleep(0); racy = v + 1;
	}
	pthread_mutex_lock(&mu);
	while (turn != id) pthread_cond_wait(&cv, &mu);
	printf("thread %ld done\n", id);
	turn++;
	pthread_cond_broadcast(&cv);
	pthread_mutex_unlock(&mu);
	return NULL;
}
int main(void) {
	pthread_t t[4];
	for (long i = 0; i < 4; i++) pthread_create(&t[i], NULL, worker, (void *)i);
	for (int i = 0; i < 4; i++) pthread_join(t[i], NULL);
	printf("counter %ld racy %ld\n", counter, racy);
	return 0;
}
