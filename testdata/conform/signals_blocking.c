/*
 * signals_blocking.c - conformance test: signals that arrive while a thread is
 * blocked in a system call.
 *
 * Family: EINTR and syscall restart (SA_RESTART, -ERESTARTSYS,
 * -ERESTARTNOHAND, -ERESTART_RESTARTBLOCK), sigsuspend, sigwaitinfo /
 * sigtimedwait, signalfd, pthread_kill while the target blocks in poll, and
 * the atomic mask swap of ppoll/epoll_pwait. Sub-cases:
 *   1. read(2) on an empty pipe, SIGALRM from a periodic setitimer, handler
 *      without SA_RESTART: -1/EINTR.
 *   2. same with SA_RESTART: the read is restarted; the handler writes a byte
 *      into the pipe, which the restarted read returns.
 *   3. nanosleep(5 s) interrupted (SA_RESTART has no effect on it): EINTR and
 *      the remaining time written to *rem; clock_nanosleep TIMER_ABSTIME
 *      interrupted (returns EINTR, does not touch rem).
 *   4. futex FUTEX_WAIT: no timeout without SA_RESTART -> EINTR; no timeout
 *      with SA_RESTART -> restarted, the handler changed the word, so the
 *      restarted wait fails with EAGAIN; with a timeout and SA_RESTART ->
 *      EINTR anyway (ERESTART_RESTARTBLOCK is not restarted after a handler).
 *   5. wait4 on a live child interrupted: EINTR without SA_RESTART; with
 *      SA_RESTART it is restarted, and the handler tells the child to exit, so
 *      the restarted wait returns the child's pid and status.
 *   6. sigsuspend woken by sigqueue from a child process (si_pid = child,
 *      SI_QUEUE, si_value) and by pthread_kill from a sibling thread.
 *   7. sigwaitinfo on a signal queued by a child; sigtimedwait timing out
 *      (EAGAIN); realtime signals dequeued in order with their values;
 *      sigtimedwait interrupted by an unrelated caught signal (EINTR).
 *   8. signalfd: blocking read woken by signals sent from a child (ssi_pid,
 *      ssi_code, ssi_int), non-blocking read EAGAIN, poll reports POLLIN.
 *   9. pthread_kill from another thread while this one blocks in poll(2)
 *      (the sender first waits, via /proc/self/task/TID/syscall, until the
 *      target is inside poll): EINTR even with SA_RESTART. ppoll and
 *      epoll_pwait with a mask that unblocks the signal only during the wait
 *      (so it is deterministic whenever the signal is sent).
 *
 * Why it is hard for record/replay: the signal is asynchronous (timer, other
 * thread, other process), so the interesting state is WHERE it lands: in the
 * middle of a blocking syscall, which then returns EINTR, or is restarted by
 * the kernel behind the tracer's back (the syscall is entered twice, with a
 * handler running in between, or resumed through restart_syscall), or returns
 * partial results (nanosleep's remaining time). The kernel writes siginfo
 * (sender pid, uid, si_code, si_value) into the handler's frame, into
 * sigwaitinfo's buffer and into signalfd reads; ppoll/epoll_pwait swap the
 * signal mask only for the duration of the call. A replayer must reproduce
 * the return value, the memory written and the handler's run at the same point.
 *
 * Build: gcc -O1 -g -pthread -o signals_blocking signals_blocking.c
 * Usage: signals_blocking [scratchdir]   (creates no files)
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/futex.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/wait.h>
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

/* ---- SIGALRM machinery ---- */
enum { M_COUNT, M_WRITE_PIPE, M_SET_WORD, M_TELL_CHILD };
static volatile sig_atomic_t alrm_hits;
static volatile int alrm_mode;
static int alrm_fd = -1;
static int futex_word;

static void on_alrm(int s) {
	(void)s;
	int e = errno;
	if (alrm_hits++ == 0) {
		switch (alrm_mode) {
		case M_WRITE_PIPE:
		case M_TELL_CHILD:
			if (write(alrm_fd, "R", 1) != 1)
				_exit(3);
			break;
		case M_SET_WORD:
			__atomic_store_n(&futex_word, 1, __ATOMIC_SEQ_CST);
			break;
		}
	}
	errno = e;
}

static void set_alrm(int flags, int mode, int fd) {
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_alrm;
	sa.sa_flags = flags;
	sigemptyset(&sa.sa_mask);
	CHECK(sigaction(SIGALRM, &sa, NULL) == 0);
	alrm_hits = 0;
	alrm_mode = mode;
	alrm_fd = fd;
}

/* A periodic timer: whichever tick comes first while the caller is blocked
 * interrupts it, so the outcome does not depend on when the first one fires. */
static void timer_on(void) {
	struct itimerval it = {{0, 3000}, {0, 3000}};
	CHECK(setitimer(ITIMER_REAL, &it, NULL) == 0);
}
static void timer_off(void) {
	struct itimerval it = {{0, 0}, {0, 0}};
	CHECK(setitimer(ITIMER_REAL, &it, NULL) == 0);
}

/* ---- siginfo-recording handler for SIGUSR1 ---- */
static volatile sig_atomic_t usr1_hits;
static siginfo_t usr1_info;
static void on_usr1(int s, siginfo_t *si, void *uc) {
	(void)s;
	(void)uc;
	usr1_info = *si;
	usr1_hits++;
}
static void set_usr1(int flags) {
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_sigaction = on_usr1;
	sa.sa_flags = SA_SIGINFO | flags;
	sigemptyset(&sa.sa_mask);
	CHECK(sigaction(SIGUSR1, &sa, NULL) == 0);
	usr1_hits = 0;
	memset(&usr1_info, 0, sizeof usr1_info);
}

static void block(int how, int sig) {
	sigset_t s;
	sigemptyset(&s);
	sigaddset(&s, sig);
	CHECK(sigprocmask(how, &s, NULL) == 0);
}

static int is_tkill_code(int code) { return code == SI_TKILL || code == SI_USER; }

/* ---- 1/2: read on a pipe ---- */
static void case_read(void) {
	int p[2];
	char c = 0;
	CHECK(pipe(p) == 0);
	set_alrm(0, M_COUNT, -1);
	timer_on();
	ssize_t r = read(p[0], &c, 1);
	int e = errno;
	timer_off();
	CHECK(r == -1 && e == EINTR);
	CHECK(alrm_hits >= 1);
	printf("1 read, no SA_RESTART: ret=%zd errno=EINTR\n", r);

	set_alrm(SA_RESTART, M_WRITE_PIPE, p[1]);
	timer_on();
	r = read(p[0], &c, 1);
	e = errno;
	timer_off();
	CHECK(r == 1 && c == 'R');
	CHECK(alrm_hits >= 1);
	printf("2 read, SA_RESTART: restarted, ret=%zd byte='%c' (written by the handler)\n", r, c);
	close(p[0]);
	close(p[1]);
}

/* ---- 3: nanosleep / clock_nanosleep ---- */
static void case_nanosleep(void) {
	set_alrm(SA_RESTART, M_COUNT, -1);
	struct timespec req = {5, 0}, rem = {-1, -1};
	timer_on();
	int r = nanosleep(&req, &rem);
	int e = errno;
	timer_off();
	CHECK(r == -1 && e == EINTR);
	CHECK(rem.tv_sec >= 0 && rem.tv_sec <= 5 && rem.tv_nsec >= 0 && rem.tv_nsec < 1000000000);
	CHECK(rem.tv_sec > 0 || rem.tv_nsec > 0);
	CHECK(rem.tv_sec < 5 || rem.tv_nsec == 0);
	printf("3 nanosleep(5s), SA_RESTART: EINTR, rem=%ld.%09ld\n", (long)rem.tv_sec, rem.tv_nsec);

	struct timespec now, sentinel = {-7, -7};
	CHECK(clock_gettime(CLOCK_MONOTONIC, &now) == 0);
	now.tv_sec += 5;
	rem = sentinel;
	set_alrm(0, M_COUNT, -1);
	timer_on();
	r = clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &now, &rem);
	timer_off();
	CHECK(r == EINTR);
	CHECK(rem.tv_sec == -7 && rem.tv_nsec == -7);
	printf("3 clock_nanosleep(ABSTIME): returned EINTR, rem untouched\n");
}

/* ---- 4: futex wait ---- */
static long futex_wait(int *w, int val, const struct timespec *ts) {
	return syscall(SYS_futex, w, FUTEX_WAIT_PRIVATE, val, ts, NULL, 0);
}
static void case_futex(void) {
	futex_word = 0;
	set_alrm(0, M_COUNT, -1);
	timer_on();
	long r = futex_wait(&futex_word, 0, NULL);
	int e = errno;
	timer_off();
	CHECK(r == -1 && e == EINTR);
	printf("4 futex wait, no SA_RESTART: EINTR\n");

	futex_word = 0;
	set_alrm(SA_RESTART, M_SET_WORD, -1);
	timer_on();
	r = futex_wait(&futex_word, 0, NULL);
	e = errno;
	timer_off();
	CHECK(r == -1 && e == EAGAIN);
	CHECK(futex_word == 1);
	printf("4 futex wait, SA_RESTART: restarted, handler changed the word -> EAGAIN\n");

	futex_word = 0;
	set_alrm(SA_RESTART, M_COUNT, -1);
	struct timespec to = {5, 0};
	timer_on();
	r = futex_wait(&futex_word, 0, &to);
	e = errno;
	timer_off();
	CHECK(r == -1 && e == EINTR);
	printf("4 futex wait with timeout, SA_RESTART: EINTR (restart_block not used after a handler)\n");
}

/* ---- 5: wait4 ---- */
static void case_wait(void) {
	for (int restart = 0; restart <= 1; restart++) {
		int p[2];
		CHECK(pipe(p) == 0);
		pid_t ch = fork();
		CHECK(ch >= 0);
		if (ch == 0) {
			char c;
			close(p[1]);
			ssize_t n = read(p[0], &c, 1); /* until told (or EOF) */
			_exit(n == 1 ? 40 + restart : 50);
		}
		close(p[0]);
		set_alrm(restart ? SA_RESTART : 0, restart ? M_TELL_CHILD : M_COUNT, p[1]);
		int st = 0;
		timer_on();
		pid_t r = waitpid(ch, &st, 0);
		int e = errno;
		timer_off();
		if (!restart) {
			CHECK(r == -1 && e == EINTR);
			printf("5 waitpid, no SA_RESTART: EINTR\n");
			CHECK(write(p[1], "x", 1) == 1);
			CHECK(waitpid(ch, &st, 0) == ch);
			CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 40);
		} else {
			CHECK(r == ch);
			CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 41);
			printf("5 waitpid, SA_RESTART: restarted, returned child %d status 0x%x\n", (int)r, st);
		}
		close(p[1]);
	}
}

/* ---- 6: sigsuspend ---- */
static pthread_t main_thread;
static int kick_pipe[2];
static void *kill_main_thread(void *a) {
	(void)a;
	char c;
	CHECK(read(kick_pipe[0], &c, 1) == 1);
	CHECK(pthread_kill(main_thread, SIGUSR1) == 0);
	return NULL;
}

static void case_sigsuspend(void) {
	sigset_t old;
	set_usr1(0);
	block(SIG_BLOCK, SIGUSR1);
	CHECK(sigprocmask(SIG_BLOCK, NULL, &old) == 0);
	sigdelset(&old, SIGUSR1);
	pid_t ch = fork();
	CHECK(ch >= 0);
	if (ch == 0) {
		union sigval v = {.sival_int = 77};
		_exit(sigqueue(getppid(), SIGUSR1, v) == 0 ? 0 : 1);
	}
	int r = sigsuspend(&old);
	CHECK(r == -1 && errno == EINTR);
	CHECK(usr1_hits == 1);
	CHECK(usr1_info.si_signo == SIGUSR1 && usr1_info.si_code == SI_QUEUE);
	CHECK(usr1_info.si_pid == ch && usr1_info.si_uid == getuid());
	CHECK(usr1_info.si_value.sival_int == 77);
	int st;
	CHECK(waitpid(ch, &st, 0) == ch && WIFEXITED(st) && WEXITSTATUS(st) == 0);
	printf("6 sigsuspend woken by sigqueue from child %d: si_code=%d si_value=%d\n", (int)ch,
	       usr1_info.si_code, usr1_info.si_value.sival_int);

	/* woken by a sibling thread's pthread_kill (it blocks SIGUSR1 through inheritance) */
	set_usr1(0);
	CHECK(pipe(kick_pipe) == 0);
	main_thread = pthread_self();
	pthread_t t;
	CHECK(pthread_create(&t, NULL, kill_main_thread, NULL) == 0);
	CHECK(write(kick_pipe[1], "k", 1) == 1);
	r = sigsuspend(&old);
	CHECK(r == -1 && errno == EINTR);
	CHECK(pthread_join(t, NULL) == 0);
	CHECK(usr1_hits == 1);
	CHECK(is_tkill_code(usr1_info.si_code) && usr1_info.si_pid == getpid());
	printf("6 sigsuspend woken by pthread_kill from a thread: si_code=%d si_pid=%d\n",
	       usr1_info.si_code, (int)usr1_info.si_pid);
	close(kick_pipe[0]);
	close(kick_pipe[1]);
	block(SIG_UNBLOCK, SIGUSR1);
}

/* ---- 7: sigwaitinfo / sigtimedwait ---- */
static void case_sigwait(void) {
	sigset_t s;
	siginfo_t si;
	block(SIG_BLOCK, SIGUSR2);
	sigemptyset(&s);
	sigaddset(&s, SIGUSR2);
	pid_t ch = fork();
	CHECK(ch >= 0);
	if (ch == 0) {
		union sigval v = {.sival_int = 1234};
		_exit(sigqueue(getppid(), SIGUSR2, v) == 0 ? 0 : 1);
	}
	memset(&si, 0, sizeof si);
	int r = sigwaitinfo(&s, &si);
	CHECK(r == SIGUSR2 && si.si_signo == SIGUSR2 && si.si_code == SI_QUEUE);
	CHECK(si.si_pid == ch && si.si_value.sival_int == 1234);
	int st;
	CHECK(waitpid(ch, &st, 0) == ch && WIFEXITED(st) && WEXITSTATUS(st) == 0);
	printf("7 sigwaitinfo: sig=%d from child %d si_code=%d value=%d\n", r, (int)si.si_pid, si.si_code,
	       si.si_value.sival_int);

	struct timespec to = {0, 20 * 1000 * 1000};
	r = sigtimedwait(&s, &si, &to);
	CHECK(r == -1 && errno == EAGAIN);
	printf("7 sigtimedwait(20ms) with nothing pending: EAGAIN\n");

	/* realtime signals queue, lowest number first, FIFO within a number */
	int rt0 = SIGRTMIN, rt1 = SIGRTMIN + 1;
	sigset_t rs;
	sigemptyset(&rs);
	sigaddset(&rs, rt0);
	sigaddset(&rs, rt1);
	CHECK(sigprocmask(SIG_BLOCK, &rs, NULL) == 0);
	union sigval v;
	v.sival_int = 9;
	CHECK(sigqueue(getpid(), rt1, v) == 0);
	for (int i = 1; i <= 3; i++) {
		v.sival_int = i;
		CHECK(sigqueue(getpid(), rt0, v) == 0);
	}
	int want_sig[4] = {rt0, rt0, rt0, rt1}, want_val[4] = {1, 2, 3, 9};
	printf("7 realtime queue:");
	for (int i = 0; i < 4; i++) {
		struct timespec z = {0, 0};
		memset(&si, 0, sizeof si);
		r = sigtimedwait(&rs, &si, &z);
		CHECK(r == want_sig[i] && si.si_value.sival_int == want_val[i] && si.si_pid == getpid());
		printf(" RTMIN+%d:%d", r - SIGRTMIN, si.si_value.sival_int);
	}
	printf("\n");
	struct timespec z = {0, 0};
	CHECK(sigtimedwait(&rs, &si, &z) == -1 && errno == EAGAIN);

	/* interrupted by a caught signal that is not in the set */
	set_alrm(SA_RESTART, M_COUNT, -1);
	struct timespec five = {5, 0};
	timer_on();
	r = sigtimedwait(&s, &si, &five);
	int e = errno;
	timer_off();
	CHECK(r == -1 && e == EINTR);
	CHECK(alrm_hits >= 1);
	printf("7 sigtimedwait(5s) interrupted by SIGALRM handler: EINTR\n");
	block(SIG_UNBLOCK, SIGUSR2);
	CHECK(sigprocmask(SIG_UNBLOCK, &rs, NULL) == 0);
}

/* ---- 8: signalfd ---- */
static void case_signalfd(void) {
	sigset_t s;
	sigemptyset(&s);
	sigaddset(&s, SIGUSR1);
	sigaddset(&s, SIGUSR2);
	CHECK(sigprocmask(SIG_BLOCK, &s, NULL) == 0);
	int sfd = signalfd(-1, &s, SFD_CLOEXEC);
	CHECK(sfd >= 0);
	pid_t ch = fork();
	CHECK(ch >= 0);
	if (ch == 0) {
		union sigval v = {.sival_int = 555};
		if (sigqueue(getppid(), SIGUSR1, v) != 0)
			_exit(1);
		_exit(kill(getppid(), SIGUSR2) == 0 ? 0 : 2);
	}
	struct signalfd_siginfo got[2];
	int n = 0;
	while (n < 2) {
		ssize_t r = read(sfd, &got[n], sizeof(got[0]) * (2 - n)); /* blocks */
		CHECK(r > 0 && r % sizeof(got[0]) == 0);
		n += r / sizeof(got[0]);
	}
	CHECK(got[0].ssi_signo == SIGUSR1 && got[0].ssi_code == SI_QUEUE && got[0].ssi_int == 555);
	CHECK(got[1].ssi_signo == SIGUSR2 && got[1].ssi_code == SI_USER);
	CHECK((pid_t)got[0].ssi_pid == ch && (pid_t)got[1].ssi_pid == ch);
	CHECK(got[0].ssi_uid == getuid());
	int st;
	CHECK(waitpid(ch, &st, 0) == ch && WIFEXITED(st) && WEXITSTATUS(st) == 0);
	printf("8 signalfd blocking read: sig %u (code %d, int %d) then sig %u (code %d), both from child %d\n",
	       got[0].ssi_signo, got[0].ssi_code, got[0].ssi_int, got[1].ssi_signo, got[1].ssi_code, (int)ch);

	int nb = signalfd(-1, &s, SFD_NONBLOCK | SFD_CLOEXEC);
	CHECK(nb >= 0);
	CHECK(read(nb, &got[0], sizeof got[0]) == -1 && errno == EAGAIN);
	struct pollfd pf = {nb, POLLIN, 0};
	CHECK(poll(&pf, 1, 0) == 0);
	CHECK(raise(SIGUSR2) == 0);
	CHECK(poll(&pf, 1, 1000) == 1 && (pf.revents & POLLIN));
	CHECK(read(nb, &got[0], sizeof got[0]) == sizeof got[0]);
	CHECK(got[0].ssi_signo == SIGUSR2 && (pid_t)got[0].ssi_pid == getpid() &&
	      (pid_t)got[0].ssi_tid == 0);
	printf("8 signalfd nonblocking: EAGAIN, then poll POLLIN after raise, ssi_pid=%u code=%d\n",
	       got[0].ssi_pid, got[0].ssi_code);
	close(nb);
	close(sfd);
	CHECK(sigprocmask(SIG_UNBLOCK, &s, NULL) == 0);
}

/* ---- 9: pthread_kill while blocked in poll ---- */
static pid_t main_tid;
static int blocked_in(pid_t tid, const long *nrs, int nnr) {
	char path[64], buf[256];
	snprintf(path, sizeof path, "/proc/self/task/%d/syscall", (int)tid);
	for (int i = 0; i < 20000; i++) {
		int fd = open(path, O_RDONLY);
		if (fd < 0)
			return 0;
		ssize_t n = read(fd, buf, sizeof buf - 1);
		close(fd);
		if (n <= 0)
			return 0;
		buf[n] = 0;
		char *end;
		long nr = strtol(buf, &end, 10);
		if (end != buf)
			for (int k = 0; k < nnr; k++)
				if (nr == nrs[k])
					return 1;
		usleep(100);
	}
	return 0;
}
static void *poll_killer(void *a) {
	long nrs[2] = {SYS_poll, SYS_ppoll};
	int mode = (int)(long)a;
	if (mode == 0) {
		/* SIGUSR1 is blocked in this thread (set before create); wait until
		 * main sits in poll so that the signal interrupts it */
		int ok = blocked_in(main_tid, nrs, 2);
		(void)ok;
	} else {
		char c;
		CHECK(read(kick_pipe[0], &c, 1) == 1);
	}
	CHECK(pthread_kill(main_thread, SIGUSR1) == 0);
	return NULL;
}

static void case_poll(void) {
	int p[2];
	CHECK(pipe(p) == 0);
	main_thread = pthread_self();
	main_tid = gettid_();
	set_usr1(SA_RESTART);

	/* 9a: plain poll, SIGUSR1 unblocked in main only */
	sigset_t s, old;
	sigemptyset(&s);
	sigaddset(&s, SIGUSR1);
	CHECK(pthread_sigmask(SIG_BLOCK, &s, &old) == 0);
	pthread_t t;
	CHECK(pthread_create(&t, NULL, poll_killer, (void *)0L) == 0);
	CHECK(pthread_sigmask(SIG_SETMASK, &old, NULL) == 0);
	struct pollfd pf = {p[0], POLLIN, 0};
	int r = poll(&pf, 1, 10000);
	int e = errno;
	CHECK(pthread_join(t, NULL) == 0);
	CHECK(r == -1 && e == EINTR);
	CHECK(usr1_hits == 1 && is_tkill_code(usr1_info.si_code) && usr1_info.si_pid == getpid());
	printf("9 poll interrupted by pthread_kill from a thread (SA_RESTART): EINTR, si_code=%d\n",
	       usr1_info.si_code);

	/* 9b: ppoll with SIGUSR1 blocked except during the call */
	set_usr1(SA_RESTART);
	CHECK(pipe(kick_pipe) == 0);
	CHECK(pthread_sigmask(SIG_BLOCK, &s, &old) == 0);
	CHECK(pthread_create(&t, NULL, poll_killer, (void *)1L) == 0);
	CHECK(write(kick_pipe[1], "k", 1) == 1);
	sigset_t during = old;
	sigdelset(&during, SIGUSR1);
	r = ppoll(&pf, 1, NULL, &during);
	e = errno;
	CHECK(pthread_join(t, NULL) == 0);
	CHECK(r == -1 && e == EINTR && usr1_hits == 1);
	sigset_t now;
	CHECK(pthread_sigmask(SIG_BLOCK, NULL, &now) == 0 && sigismember(&now, SIGUSR1));
	printf("9 ppoll with temporary mask: EINTR, mask restored afterwards\n");

	/* 9c: epoll_pwait likewise, with a pipe that also becomes readable */
	set_usr1(0);
	int ep = epoll_create1(EPOLL_CLOEXEC);
	CHECK(ep >= 0);
	struct epoll_event ev = {.events = EPOLLIN, .data.u64 = 0xfeedULL};
	CHECK(epoll_ctl(ep, EPOLL_CTL_ADD, p[0], &ev) == 0);
	CHECK(pthread_create(&t, NULL, poll_killer, (void *)1L) == 0);
	CHECK(write(kick_pipe[1], "k", 1) == 1);
	struct epoll_event out[2];
	memset(out, 0, sizeof out);
	r = epoll_pwait(ep, out, 2, -1, &during);
	e = errno;
	CHECK(pthread_join(t, NULL) == 0);
	CHECK(r == -1 && e == EINTR && usr1_hits == 1);
	CHECK(write(p[1], "d", 1) == 1);
	r = epoll_pwait(ep, out, 2, -1, &during);
	CHECK(r == 1 && out[0].data.u64 == 0xfeedULL && (out[0].events & EPOLLIN));
	printf("9 epoll_pwait: EINTR by signal, then 1 event data=0x%llx\n",
	       (unsigned long long)out[0].data.u64);
	CHECK(pthread_sigmask(SIG_SETMASK, &old, NULL) == 0);
	close(ep);
	close(kick_pipe[0]);
	close(kick_pipe[1]);
	close(p[0]);
	close(p[1]);
}

int main(void) {
	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("pid %d\n", (int)getpid());
	case_read();
	case_nanosleep();
	case_futex();
	case_wait();
	case_sigsuspend();
	case_sigwait();
	case_signalfd();
	case_poll();
	printf("PASS\n");
	return 0;
}
