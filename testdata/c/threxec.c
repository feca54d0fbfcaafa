// threxec calls execve from a second thread: the kernel kills the main
// thread and gives the exec'ing thread its tid.
#include <pthread.h>
#include <stdio.h>
#include <unistd.h>
static void *run(void *a) { (void)a; execlp("sh", "sh", "-c", "echo exec from thread $$", NULL); return NULL; }
int main(void) { pthread_t t; printf("main %d\n", getpid()); fflush(stdout); pthread_create(&t, NULL, run, NULL); pthread_join(t, NULL); return 1; }
