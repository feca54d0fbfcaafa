/*
 * exec_thread.c - conformance test: execve from a multi-threaded process.
 *
 * Family: execve(2) while other threads exist (de_thread in the kernel), and
 * the signal state that survives execve (signal mask, pending signals,
 * ignored vs. caught dispositions).
 *
 * The program re-executes /proc/self/exe several times, passing "@N" plus the
 * state to verify on the command line, so one run goes through four images:
 *   phase 1: a NON-main thread calls execve while one thread is blocked in
 *            read(2) on a pipe, one loops in sched_yield(), and the main thread
 *            is blocked in pthread_join. The exec'ing thread first blocks
 *            SIGUSR1 in its own mask only and tgkill()s SIGUSR1 to itself.
 *   phase 2: checks pid unchanged, tid == pid (the exec'ing thread took the
 *            leader's tid), one thread, non-CLOEXEC pipe survives with no byte
 *            eaten by the killed reader, the O_CLOEXEC fd is gone, the mask and
 *            the pending thread-directed SIGUSR1 (si_code SI_TKILL) came from
 *            the exec'ing thread, the caught handler was reset to SIG_DFL and
 *            SIG_IGN stayed. Then the MAIN thread calls execve while four other
 *            threads are blocked (read, futex wait, nanosleep) or yielding, with
 *            SIGUSR1 pending on the thread and SIGUSR2 pending process-wide.
 *   phase 3: checks both pending signals and the mask, then the main thread
 *            calls pthread_exit and a second thread execs while the leader is
 *            a zombie.
 *   phase 4: checks pid/tid/thread count and exits 0.
 *
 * Why it is hard for record/replay: on execve from a non-leader thread the
 * kernel kills every other thread (they vanish without an exit syscall of
 * their own, some in the middle of a blocking syscall), and the exec'ing
 * thread CHANGES ITS TID to the process id. A tracer sees a
 * PTRACE_EVENT_EXEC on a task whose tid it knew under another number, and
 * exit notifications for threads that never finished their syscalls. The
 * address space is replaced, so every mapping the tracer knew is gone; the
 * signal mask and the pending set (both per-thread and shared) must survive
 * into the new image exactly, and caught handlers are reset.
 *
 * Build: gcc -O1 -g -pthread -o exec_thread exec_thread.c
 * Usage: exec_thread [scratchdir]   (no files are created; "@N" args are internal)
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/futex.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define CHECK(c)                                                                                   \
	do {                                                                                       \
		if (!(c)) {                                                                        \
			fprintf(stderr, "FAIL: %s:%d: %s (errno=%d %s)\n", __FILE__, __LINE__, #c, \
				errno, strerror(errno));                                           \
			fflush(stdout);                                                            \
			exit(1);                                                                   \
		}                                                                                  \
	} while (0)

static pid_t gettid_(void) { return (pid_t)syscall(SYS_gettid); }

static int count_threads(void) {
	FILE *f = fopen("/proc/self/status", "r");
	char line[256];
	int n = -1;
	CHECK(f != NULL);
	while (fgets(line, sizeof line, f))
		if (sscanf(line, "Threads: %d", &n) == 1)
			break;
	fclose(f);
	return n;
}

static volatile sig_atomic_t usr1_hits;
static void on_usr1(int s) { (void)s; usr1_hits++; }

static int ready_pipe[2];
static int keep[2]; /* survives exec */
static int cx[2];   /* O_CLOEXEC: must be closed after exec */
static pid_t orig_pid;
static volatile unsigned long yields;
static int futex_word;

static void ready(char c) { CHECK(write(ready_pipe[1], &c, 1) == 1); }
static void wait_ready(int n) {
	char c;
	for (int i = 0; i < n; i++)
		CHECK(read(ready_pipe[0], &c, 1) == 1);
}

static void *reader_thread(void *a) {
	(void)a;
	char c;
	ready('r');
	ssize_t r = read(keep[0], &c, 1); /* blocks until the exec kills us */
	fprintf(stderr, "FAIL: reader woke before exec (r=%zd)\n", r);
	exit(1);
}
static void *yield_thread(void *a) {
	(void)a;
	ready('y');
	for (;;) {
		yields++;
		sched_yield();
	}
	return NULL;
}
static void *futex_thread(void *a) {
	(void)a;
	ready('f');
	for (;;)
		syscall(SYS_futex, &futex_word, FUTEX_WAIT_PRIVATE, 0, NULL, NULL, 0);
	return NULL;
}
static void *sleep_thread(void *a) {
	(void)a;
	ready('s');
	for (;;) {
		struct timespec ts = {30, 0};
		nanosleep(&ts, NULL);
	}
	return NULL;
}

/* When the leader is a zombie, /proc/self/exe is unreadable (ENOENT): /proc/self
 * names the leader, whose mm is gone. /proc/thread-self/exe still works. */
static void do_exec(const char *phase, long extra) {
	const char *exe = phase[1] == '4' ? "/proc/thread-self/exe" : "/proc/self/exe";
	char a_pid[32], a_k0[16], a_k1[16], a_cx[16], a_extra[32];
	snprintf(a_pid, sizeof a_pid, "%d", (int)orig_pid);
	snprintf(a_k0, sizeof a_k0, "%d", keep[0]);
	snprintf(a_k1, sizeof a_k1, "%d", keep[1]);
	snprintf(a_cx, sizeof a_cx, "%d", cx[0]);
	snprintf(a_extra, sizeof a_extra, "%ld", extra);
	char *argv[] = {"exec_thread", (char *)phase, a_pid, a_k0, a_k1, a_cx, a_extra, NULL};
	fflush(stdout);
	execv(exe, argv);
	CHECK(!"execv failed");
}

/* Checks common to every new image. */
static void check_new_image(const char *name, int has_keep, const char *argv_cx) {
	CHECK(getpid() == orig_pid);
	CHECK(gettid_() == getpid());
	int nt = count_threads();
	CHECK(nt == 1);
	int cfd = atoi(argv_cx);
	errno = 0;
	CHECK(fcntl(cfd, F_GETFD) == -1 && errno == EBADF);
	if (has_keep) {
		int fl = fcntl(keep[0], F_GETFD);
		CHECK(fl >= 0 && !(fl & FD_CLOEXEC));
		char c = name[5]; /* phase digit */
		CHECK(write(keep[1], &c, 1) == 1);
		char got = 0;
		CHECK(read(keep[0], &got, 1) == 1); /* killed reader must not have eaten it */
		CHECK(got == c);
	}
	printf("%s: pid=%d tid=%d threads=%d cloexec_fd_closed=1 keep_pipe_ok=%d\n", name,
	       (int)getpid(), (int)gettid_(), nt, has_keep);
}

static void check_disp(int sig, void *want, const char *wname) {
	struct sigaction sa;
	CHECK(sigaction(sig, NULL, &sa) == 0);
	CHECK(!(sa.sa_flags & SA_SIGINFO));
	CHECK((void *)sa.sa_handler == want);
	printf("  disposition of %s is %s\n", strsignal(sig), wname);
}

static void take_pending(int sig, int want_code) {
	sigset_t s;
	siginfo_t si;
	struct timespec zero = {0, 0};
	sigemptyset(&s);
	sigaddset(&s, sig);
	memset(&si, 0, sizeof si);
	int r = sigtimedwait(&s, &si, &zero);
	CHECK(r == sig);
	CHECK(si.si_signo == sig);
	/* tgkill gives SI_TKILL on most kernels, SI_USER on some recent ones. */
	CHECK(si.si_code == want_code || (want_code == SI_TKILL && si.si_code == SI_USER));
	CHECK(si.si_pid == orig_pid);
	printf("  took pending %s: si_code=%d si_pid=%d\n", strsignal(sig), si.si_code, (int)si.si_pid);
}

/* Phase 1: execve from a non-main thread. */
static void *exec_thread1(void *a) {
	(void)a;
	wait_ready(2);
	pid_t me = gettid_();
	CHECK(me != getpid());
	sigset_t s, p;
	sigemptyset(&s);
	sigaddset(&s, SIGUSR1);
	CHECK(pthread_sigmask(SIG_BLOCK, &s, NULL) == 0);
	CHECK(syscall(SYS_tgkill, getpid(), me, SIGUSR1) == 0);
	CHECK(sigpending(&p) == 0 && sigismember(&p, SIGUSR1));
	printf("phase1: exec from non-main thread tid=%d (pid %d), reader blocked, yielder running\n",
	       (int)me, (int)getpid());
	do_exec("@2", me);
	return NULL;
}

static void phase1(void) {
	orig_pid = getpid();
	printf("phase1: pid=%d threads=%d\n", (int)orig_pid, count_threads());
	CHECK(pipe(ready_pipe) == 0);
	CHECK(pipe(keep) == 0);
	CHECK(pipe2(cx, O_CLOEXEC) == 0);
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_usr1;
	CHECK(sigaction(SIGUSR1, &sa, NULL) == 0);
	CHECK(signal(SIGHUP, SIG_IGN) != SIG_ERR);
	pthread_t r, y, e;
	CHECK(pthread_create(&r, NULL, reader_thread, NULL) == 0);
	CHECK(pthread_create(&y, NULL, yield_thread, NULL) == 0);
	CHECK(pthread_create(&e, NULL, exec_thread1, NULL) == 0);
	pthread_join(e, NULL);
	CHECK(!"pthread_join returned: exec did not happen");
}

static void phase2(char **argv) {
	printf("phase2: previous exec'ing thread had tid %s\n", argv[6]);
	CHECK(atoi(argv[6]) != orig_pid);
	check_new_image("phase2", 1, argv[5]);
	sigset_t m, p;
	CHECK(sigprocmask(SIG_BLOCK, NULL, &m) == 0);
	CHECK(sigismember(&m, SIGUSR1)); /* the exec'ing thread's own mask */
	CHECK(!sigismember(&m, SIGUSR2));
	CHECK(sigpending(&p) == 0);
	CHECK(sigismember(&p, SIGUSR1));
	printf("  mask: SIGUSR1 blocked, SIGUSR2 not; SIGUSR1 pending\n");
	check_disp(SIGUSR1, SIG_DFL, "SIG_DFL (handler reset)");
	check_disp(SIGHUP, SIG_IGN, "SIG_IGN (kept)");
	take_pending(SIGUSR1, SI_TKILL);

	/* Set up: main thread execs while 4 others exist. */
	CHECK(pipe(ready_pipe) == 0);
	CHECK(pipe2(cx, O_CLOEXEC) == 0);
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_usr1;
	CHECK(sigaction(SIGUSR1, &sa, NULL) == 0);
	sigemptyset(&m);
	sigaddset(&m, SIGUSR1);
	sigaddset(&m, SIGUSR2);
	CHECK(sigprocmask(SIG_SETMASK, &m, NULL) == 0); /* inherited by the threads */
	pthread_t t[4];
	CHECK(pthread_create(&t[0], NULL, reader_thread, NULL) == 0);
	CHECK(pthread_create(&t[1], NULL, yield_thread, NULL) == 0);
	CHECK(pthread_create(&t[2], NULL, futex_thread, NULL) == 0);
	CHECK(pthread_create(&t[3], NULL, sleep_thread, NULL) == 0);
	wait_ready(4);
	CHECK(count_threads() == 5);
	CHECK(raise(SIGUSR1) == 0);               /* thread-directed, to main */
	CHECK(kill(getpid(), SIGUSR2) == 0);      /* process-directed, everyone blocks it */
	CHECK(sigpending(&p) == 0 && sigismember(&p, SIGUSR1) && sigismember(&p, SIGUSR2));
	CHECK(usr1_hits == 0);
	printf("phase2: exec from main thread with 4 other threads (reader, yielder, futex, nanosleep)\n");
	do_exec("@3", 0);
}

static volatile int go_fd = -1;
static void *exec_thread3(void *a) {
	(void)a;
	char c;
	CHECK(read(go_fd, &c, 1) == 1);
	/* Wait (bounded, with a syscall per turn) until the leader is a zombie. */
	char path[64], buf[512];
	snprintf(path, sizeof path, "/proc/self/task/%d/stat", (int)orig_pid);
	for (int i = 0; i < 2000; i++) {
		int fd = open(path, O_RDONLY);
		if (fd < 0)
			break;
		ssize_t n = read(fd, buf, sizeof buf - 1);
		close(fd);
		if (n <= 0)
			break;
		buf[n] = 0;
		char *rp = strrchr(buf, ')');
		if (rp && (rp[2] == 'Z' || rp[2] == 'X'))
			break;
		usleep(500);
	}
	printf("phase3: exec from second thread tid=%d after main called pthread_exit\n", (int)gettid_());
	do_exec("@4", gettid_());
	return NULL;
}

static void phase3(char **argv) {
	check_new_image("phase3", 1, argv[5]);
	sigset_t m, p;
	CHECK(sigprocmask(SIG_BLOCK, NULL, &m) == 0);
	CHECK(sigismember(&m, SIGUSR1) && sigismember(&m, SIGUSR2));
	CHECK(sigpending(&p) == 0);
	CHECK(sigismember(&p, SIGUSR1));
	CHECK(sigismember(&p, SIGUSR2));
	printf("  mask: SIGUSR1+SIGUSR2 blocked; both pending\n");
	check_disp(SIGUSR1, SIG_DFL, "SIG_DFL (handler reset)");
	check_disp(SIGHUP, SIG_IGN, "SIG_IGN (kept)");
	take_pending(SIGUSR1, SI_TKILL);
	take_pending(SIGUSR2, SI_USER);
	CHECK(sigpending(&p) == 0 && !sigismember(&p, SIGUSR1) && !sigismember(&p, SIGUSR2));

	/* Main thread exits; another thread execs. */
	int gp[2];
	CHECK(pipe(gp) == 0);
	CHECK(pipe2(cx, O_CLOEXEC) == 0);
	go_fd = gp[0];
	pthread_t e;
	CHECK(pthread_create(&e, NULL, exec_thread3, NULL) == 0);
	fflush(stdout);
	CHECK(write(gp[1], "g", 1) == 1);
	pthread_exit(NULL);
}

static void phase4(char **argv) {
	printf("phase4: previous exec'ing thread had tid %s\n", argv[6]);
	check_new_image("phase4", 1, argv[5]);
	sigset_t m;
	CHECK(sigprocmask(SIG_BLOCK, NULL, &m) == 0);
	CHECK(sigismember(&m, SIGUSR1) && sigismember(&m, SIGUSR2));
	printf("PASS\n");
	exit(0);
}

int main(int argc, char **argv) {
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc >= 7 && argv[1][0] == '@') {
		orig_pid = atoi(argv[2]);
		keep[0] = atoi(argv[3]);
		keep[1] = atoi(argv[4]);
		switch (argv[1][1]) {
		case '2': phase2(argv); break;
		case '3': phase3(argv); break;
		case '4': phase4(argv); break;
		}
		CHECK(!"bad phase");
	}
	phase1();
	return 1;
}
