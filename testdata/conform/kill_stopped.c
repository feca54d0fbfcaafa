/*
 * kill_stopped.c - conformance test: tasks killed while the recorder holds
 * them.
 *
 * Family: SIGKILL from one recorded process to another that is stopped in
 * the recorder between two of its own events (waiting at a syscall's exit
 * with output the recorder has yet to read, or at an entry), and to a
 * multi-threaded process whose threads are all mid-syscall. The victim's
 * memory is gone by the time the recorder looks at it; the recording must
 * go on, and the parent must see each death as SIGKILL.
 * Sub-cases:
 *   A. 100 times: a child reads /dev/zero into a 64 KiB buffer in a loop;
 *      the parent kills it as soon as it has started.
 *   B. 30 times: a child with four threads, each reading /dev/zero in a
 *      loop, killed as a whole.
 *   C. 50 times: a child whose threads are blocked reading pipes; the main
 *      thread fills every pipe and calls exit_group at once, so the
 *      readers' reads complete as the group dies around them.
 */
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

static char buf[1 << 16];

static void *reader(void *arg)
{
	int fd = *(int *)arg;
	for (;;)
		if (read(fd, buf, sizeof buf) < 0)
			_exit(3);
	return NULL;
}

/* Start a child running body(nthreads), wait until it has begun, kill it. */
static int run_and_kill(int nthreads)
{
	int p[2];
	if (pipe(p) < 0)
		return -1;
	pid_t c = fork();
	if (c < 0)
		return -1;
	if (c == 0) {
		close(p[0]);
		int fd = open("/dev/zero", O_RDONLY);
		if (fd < 0)
			_exit(2);
		pthread_t t;
		for (int i = 1; i < nthreads; i++)
			if (pthread_create(&t, NULL, reader, &fd) != 0)
				_exit(4);
		if (write(p[1], "x", 1) != 1)
			_exit(5);
		reader(&fd);
	}
	close(p[1]);
	char x;
	if (read(p[0], &x, 1) != 1)
		return -1;
	close(p[0]);
	kill(c, SIGKILL);
	int st;
	if (waitpid(c, &st, 0) != c)
		return -1;
	return WIFSIGNALED(st) ? WTERMSIG(st) : 1000 + WEXITSTATUS(st);
}

static int pipes[4][2];

static void *pipe_reader(void *arg)
{
	int *p = arg;
	for (;;)
		if (read(p[0], buf, sizeof buf) <= 0)
			_exit(6);
	return NULL;
}

static int exit_with_readers(void)
{
	pid_t c = fork();
	if (c < 0)
		return -1;
	if (c == 0) {
		pthread_t t;
		for (int i = 0; i < 4; i++) {
			if (pipe(pipes[i]) < 0 ||
			    pthread_create(&t, NULL, pipe_reader, pipes[i]) != 0)
				_exit(4);
		}
		static char fill[4096];
		for (int i = 0; i < 4; i++)
			if (write(pipes[i][1], fill, sizeof fill) != sizeof fill)
				_exit(5);
		_exit(0);
	}
	int st;
	if (waitpid(c, &st, 0) != c)
		return -1;
	return WIFSIGNALED(st) ? 1000 + WTERMSIG(st) : WEXITSTATUS(st);
}

int main(void)
{
	int bad = 0;
	for (int i = 0; i < 100; i++) {
		int r = run_and_kill(1);
		if (r != SIGKILL) {
			printf("A%d: child ended with %d\n", i, r);
			bad++;
		}
	}
	printf("A: 100 single-threaded children killed\n");
	for (int i = 0; i < 30; i++) {
		int r = run_and_kill(4);
		if (r != SIGKILL) {
			printf("B%d: child ended with %d\n", i, r);
			bad++;
		}
	}
	printf("B: 30 four-thread children killed\n");
	for (int i = 0; i < 50; i++) {
		int r = exit_with_readers();
		if (r != 0) {
			printf("C%d: child ended with %d\n", i, r);
			bad++;
		}
	}
	printf("C: 50 children exited around their readers\n");
	return bad != 0;
}
