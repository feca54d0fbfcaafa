/*
 * stop_cont.c - conformance test: job-control signals and process groups.
 *
 * Family: SIGSTOP / SIGCONT / SIGTSTP group-stop and the parent's view of it
 * (waitpid WUNTRACED / WCONTINUED, waitid WSTOPPED / WCONTINUED / WNOWAIT),
 * and signals sent to whole process groups (kill(0, sig), kill(-pgid, sig)).
 * Sub-cases:
 *   A. a child stops itself with raise(SIGSTOP); the parent sees it stopped
 *      (status printed, /proc state T), sends SIGCONT, sees WIFCONTINUED,
 *      then lets it exit with status 7.
 *   B. the parent stops a child blocked in read(2) with kill(SIGSTOP)
 *      (waitid CLD_STOPPED), writes to the pipe while it is stopped (no answer
 *      can come), continues it (CLD_CONTINUED): the interrupted read is
 *      restarted transparently and returns the data; exit seen with WNOWAIT
 *      first, then reaped.
 *   C. SIGTSTP caught by a handler that stops the process with raise(SIGSTOP)
 *      (what interactive programs do); a caught SIGCONT runs inside the
 *      SIGTSTP handler; the order of handler steps and the senders' pids are
 *      reported back by the child.
 *   D. kill(0, SIGUSR1) inside a fresh process group (so the test never
 *      signals its own recorder or shell): handlers in both the group leader
 *      and its child run with si_pid = the sender; the test's own process,
 *      in another group, gets nothing.
 *   E. a child in its own process group (setpgid by both sides) that has a
 *      child of its own, killed with kill(-pgid, SIGTERM): the parent sees
 *      WTERMSIG == SIGTERM and the grandchild's death as EOF on a pipe.
 *   F. a child puts itself in its own group and ends itself with
 *      kill(0, SIGABRT) (non-dumpable, so no core): the parent sees
 *      WIFSIGNALED with SIGABRT.
 *
 * Why it is hard for record/replay: under ptrace a group-stop becomes a
 * tracer-visible stop that the tracer must not swallow or resume by itself
 * (PTRACE_LISTEN semantics), SIGCONT must resume a stopped tracee and still
 * run its handler, a blocking syscall interrupted by a stop is restarted by
 * the kernel (the tracer sees it entered twice), and the parent's wait
 * statuses (stopped/continued/exited) and siginfo (si_pid, si_status) are
 * kernel-written values that depend on the interleaving of two recorded
 * processes. Group kills reach several recorded processes at once.
 *
 * Build: gcc -O1 -g -pthread -o stop_cont stop_cont.c
 * Usage: stop_cont [scratchdir]   (creates no files)
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#define CHECK(c)                                                                                   \
	do {                                                                                       \
		if (!(c)) {                                                                        \
			fprintf(stderr, "FAIL: %s:%d: %s (errno=%d %s) [pid %d]\n", __FILE__,      \
				__LINE__, #c, errno, strerror(errno), (int)getpid());              \
			fflush(stdout);                                                            \
			exit(1);                                                                   \
		}                                                                                  \
	} while (0)

static char proc_state(pid_t p) {
	char path[64], buf[512];
	snprintf(path, sizeof path, "/proc/%d/stat", (int)p);
	int fd = open(path, O_RDONLY);
	if (fd < 0)
		return '?';
	ssize_t n = read(fd, buf, sizeof buf - 1);
	close(fd);
	if (n <= 0)
		return '?';
	buf[n] = 0;
	char *rp = strrchr(buf, ')');
	return rp ? rp[2] : '?';
}

static const char *desc(int st) {
	static char b[64];
	if (WIFEXITED(st))
		snprintf(b, sizeof b, "exited %d", WEXITSTATUS(st));
	else if (WIFSIGNALED(st))
		snprintf(b, sizeof b, "killed by %s%s", sigabbrev_np(WTERMSIG(st)),
			 WCOREDUMP(st) ? " (core)" : "");
	else if (WIFSTOPPED(st))
		snprintf(b, sizeof b, "stopped by %s", sigabbrev_np(WSTOPSIG(st)));
	else if (WIFCONTINUED(st))
		snprintf(b, sizeof b, "continued");
	else
		snprintf(b, sizeof b, "?");
	return b;
}

static int wait_for(pid_t ch, int opts) {
	int st = 0;
	pid_t r;
	while ((r = waitpid(ch, &st, opts)) == -1 && errno == EINTR)
		;
	CHECK(r == ch);
	return st;
}

static ssize_t read_full(int fd, void *buf, size_t n) {
	ssize_t r;
	while ((r = read(fd, buf, n)) == -1 && errno == EINTR)
		;
	return r;
}

/* ---------------- A ---------------- */
static void case_a(void) {
	int cmd[2];
	CHECK(pipe(cmd) == 0);
	pid_t ch = fork();
	CHECK(ch >= 0);
	if (ch == 0) {
		close(cmd[1]);
		raise(SIGSTOP);
		char c;
		_exit(read_full(cmd[0], &c, 1) == 1 && c == 'x' ? 7 : 1);
	}
	close(cmd[0]);
	int st = wait_for(ch, WUNTRACED);
	CHECK(WIFSTOPPED(st) && WSTOPSIG(st) == SIGSTOP);
	char s = proc_state(ch);
	CHECK(s == 'T' || s == 't');
	printf("A child %d raise(SIGSTOP): status 0x%x (%s), /proc state %c\n", (int)ch, st, desc(st), s);
	CHECK(kill(ch, SIGCONT) == 0);
	st = wait_for(ch, WCONTINUED);
	CHECK(WIFCONTINUED(st));
	printf("A after SIGCONT: status 0x%x (%s)\n", st, desc(st));
	CHECK(write(cmd[1], "x", 1) == 1);
	st = wait_for(ch, 0);
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 7);
	printf("A then: status 0x%x (%s)\n", st, desc(st));
	close(cmd[1]);
}

/* ---------------- B ---------------- */
static void case_b(void) {
	int to[2], from[2];
	CHECK(pipe(to) == 0 && pipe(from) == 0);
	pid_t ch = fork();
	CHECK(ch >= 0);
	if (ch == 0) {
		close(to[1]);
		close(from[0]);
		char c, out[8];
		if (read_full(to[0], &c, 1) != 1) /* stopped and continued in here */
			_exit(1);
		snprintf(out, sizeof out, "ack:%c", c);
		if (write(from[1], out, 5) != 5)
			_exit(2);
		if (read_full(to[0], &c, 1) != 1 || c != 'q')
			_exit(3);
		_exit(11);
	}
	close(to[0]);
	close(from[1]);
	int st;
	CHECK(waitpid(ch, &st, WNOHANG | WUNTRACED | WCONTINUED) == 0);
	CHECK(kill(ch, SIGSTOP) == 0);
	siginfo_t si;
	memset(&si, 0, sizeof si);
	CHECK(waitid(P_PID, ch, &si, WSTOPPED) == 0);
	CHECK(si.si_pid == ch && si.si_signo == SIGCHLD && si.si_code == CLD_STOPPED &&
	      si.si_status == SIGSTOP);
	char s = proc_state(ch);
	CHECK(s == 'T' || s == 't');
	printf("B kill(SIGSTOP) child %d blocked in read: waitid si_code=CLD_STOPPED si_status=%d, state %c\n",
	       (int)si.si_pid, si.si_status, s);
	CHECK(write(to[1], "d", 1) == 1);
	struct pollfd pf = {from[0], POLLIN, 0};
	CHECK(poll(&pf, 1, 20) == 0); /* a stopped child cannot answer */
	CHECK(kill(ch, SIGCONT) == 0);
	memset(&si, 0, sizeof si);
	CHECK(waitid(P_PID, ch, &si, WCONTINUED) == 0);
	CHECK(si.si_pid == ch && si.si_code == CLD_CONTINUED && si.si_status == SIGCONT);
	printf("B SIGCONT: waitid si_code=CLD_CONTINUED si_status=%d\n", si.si_status);
	char buf[8] = {0};
	CHECK(read_full(from[0], buf, 5) == 5 && memcmp(buf, "ack:d", 5) == 0);
	printf("B restarted read returned the byte written while stopped: %s\n", buf);
	CHECK(write(to[1], "q", 1) == 1);
	memset(&si, 0, sizeof si);
	CHECK(waitid(P_PID, ch, &si, WEXITED | WNOWAIT) == 0);
	CHECK(si.si_code == CLD_EXITED && si.si_status == 11 && si.si_pid == ch);
	st = wait_for(ch, 0);
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 11);
	printf("B exit: WNOWAIT si_status=%d, then status 0x%x (%s)\n", si.si_status, st, desc(st));
	close(to[1]);
	close(from[0]);
}

/* ---------------- C ---------------- */
static char steps[16];
static volatile int nsteps;
static volatile pid_t tstp_from, cont_from;
static volatile int tstp_code;
static void add_step(char c) {
	if (nsteps < (int)sizeof steps - 1)
		steps[nsteps++] = c;
}
static void on_tstp(int s, siginfo_t *si, void *uc) {
	(void)s;
	(void)uc;
	tstp_from = si->si_pid;
	tstp_code = si->si_code;
	add_step('T');
	raise(SIGSTOP);
	add_step('t');
}
static void on_cont(int s, siginfo_t *si, void *uc) {
	(void)s;
	(void)uc;
	cont_from = si->si_pid;
	add_step('C');
}

static void case_c(void) {
	int ready[2], cmd[2], rep[2];
	CHECK(pipe(ready) == 0 && pipe(cmd) == 0 && pipe(rep) == 0);
	pid_t ch = fork();
	CHECK(ch >= 0);
	if (ch == 0) {
		struct sigaction sa;
		memset(&sa, 0, sizeof sa);
		sa.sa_flags = SA_SIGINFO | SA_RESTART;
		sa.sa_sigaction = on_tstp;
		CHECK(sigaction(SIGTSTP, &sa, NULL) == 0);
		sa.sa_sigaction = on_cont;
		CHECK(sigaction(SIGCONT, &sa, NULL) == 0);
		CHECK(write(ready[1], "r", 1) == 1);
		char c;
		CHECK(read_full(cmd[0], &c, 1) == 1 && c == 'q');
		char out[128];
		int n = snprintf(out, sizeof out, "steps=%s tstp_from=%d tstp_code=%d cont_from=%d", steps,
				 (int)tstp_from, tstp_code, (int)cont_from);
		CHECK(write(rep[1], out, n) == n);
		_exit(0);
	}
	close(ready[1]);
	close(cmd[0]);
	close(rep[1]);
	char c;
	CHECK(read_full(ready[0], &c, 1) == 1);
	CHECK(kill(ch, SIGTSTP) == 0);
	int st = wait_for(ch, WUNTRACED);
	CHECK(WIFSTOPPED(st) && WSTOPSIG(st) == SIGSTOP);
	printf("C SIGTSTP handler stopped itself: status 0x%x (%s)\n", st, desc(st));
	CHECK(kill(ch, SIGCONT) == 0);
	st = wait_for(ch, WCONTINUED);
	CHECK(WIFCONTINUED(st));
	CHECK(write(cmd[1], "q", 1) == 1);
	char buf[128] = {0};
	CHECK(read_full(rep[0], buf, sizeof buf - 1) > 0);
	char want[128];
	snprintf(want, sizeof want, "steps=TCt tstp_from=%d tstp_code=%d cont_from=%d", (int)getpid(), SI_USER,
		 (int)getpid());
	if (strcmp(buf, want) != 0)
		fprintf(stderr, "got  %s\nwant %s\n", buf, want);
	CHECK(strcmp(buf, want) == 0);
	st = wait_for(ch, 0);
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	printf("C child reported: %s; then %s\n", buf, desc(st));
	close(ready[0]);
	close(cmd[1]);
	close(rep[0]);
}

/* ---------------- D ---------------- */
static volatile int usr1_hits;
static volatile pid_t usr1_from;
static volatile int usr1_code;
static void on_usr1(int s, siginfo_t *si, void *uc) {
	(void)s;
	(void)uc;
	usr1_hits++;
	usr1_from = si->si_pid;
	usr1_code = si->si_code;
}

static void case_d(void) {
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_flags = SA_SIGINFO | SA_RESTART;
	sa.sa_sigaction = on_usr1;
	CHECK(sigaction(SIGUSR1, &sa, NULL) == 0);
	usr1_hits = 0;
	fflush(stdout);
	pid_t leader = fork();
	CHECK(leader >= 0);
	if (leader == 0) {
		CHECK(setpgid(0, 0) == 0);
		pid_t me = getpid();
		CHECK(getpgrp() == me);
		sigset_t blk, old;
		sigemptyset(&blk);
		sigaddset(&blk, SIGUSR1);
		CHECK(sigprocmask(SIG_BLOCK, &blk, &old) == 0);
		int rep[2];
		CHECK(pipe(rep) == 0);
		pid_t kid = fork();
		CHECK(kid >= 0);
		if (kid == 0) {
			close(rep[0]);
			usr1_hits = 0;
			sigsuspend(&old);
			char out[96];
			int n = snprintf(out, sizeof out, "hits=%d from=%d code=%d pgrp=%d", usr1_hits,
					 (int)usr1_from, usr1_code, (int)getpgrp());
			_exit(write(rep[1], out, n) == n ? 0 : 1);
		}
		close(rep[1]);
		CHECK(kill(0, SIGUSR1) == 0);
		sigsuspend(&old); /* our own copy is pending already */
		CHECK(usr1_hits == 1 && usr1_from == me && usr1_code == SI_USER);
		char buf[96] = {0}, want[96];
		CHECK(read_full(rep[0], buf, sizeof buf - 1) > 0);
		snprintf(want, sizeof want, "hits=1 from=%d code=%d pgrp=%d", (int)me, SI_USER, (int)me);
		if (strcmp(buf, want) != 0)
			fprintf(stderr, "got  %s\nwant %s\n", buf, want);
		CHECK(strcmp(buf, want) == 0);
		int st = wait_for(kid, 0);
		CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
		printf("D group leader %d kill(0,SIGUSR1): own handler from=%d code=%d; child %d: %s\n", (int)me,
		       (int)usr1_from, usr1_code, (int)kid, buf);
		fflush(stdout);
		_exit(0);
	}
	int st = wait_for(leader, 0);
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	CHECK(usr1_hits == 0); /* we are in another process group */
	printf("D test process (other group) got no SIGUSR1; leader %s\n", desc(st));
}

/* ---------------- E ---------------- */
static void case_e(void) {
	int ready[2], alive[2];
	CHECK(pipe(ready) == 0 && pipe(alive) == 0);
	fflush(stdout);
	pid_t ch = fork();
	CHECK(ch >= 0);
	if (ch == 0) {
		CHECK(setpgid(0, 0) == 0);
		close(ready[0]);
		close(alive[0]);
		pid_t g = fork();
		CHECK(g >= 0);
		if (g == 0) {
			close(ready[1]);
			char c;
			for (;;)
				pause(); /* holds alive[1] until killed */
			(void)c;
		}
		close(alive[1]);
		char msg[32];
		int n = snprintf(msg, sizeof msg, "%d", (int)g);
		CHECK(write(ready[1], msg, n) == n);
		for (;;)
			pause();
	}
	int r = setpgid(ch, ch); /* race-free idiom: both sides set it */
	CHECK(r == 0 || errno == EACCES);
	close(ready[1]);
	close(alive[1]);
	char buf[32] = {0};
	CHECK(read_full(ready[0], buf, sizeof buf - 1) > 0);
	pid_t g = atoi(buf);
	CHECK(getpgid(ch) == ch);
	CHECK(getpgid(g) == ch);
	CHECK(getpgid(0) != ch);
	printf("E child %d and grandchild %d in group %d\n", (int)ch, (int)g, (int)getpgid(g));
	CHECK(kill(-ch, SIGTERM) == 0);
	int st = wait_for(ch, 0);
	CHECK(WIFSIGNALED(st) && WTERMSIG(st) == SIGTERM);
	char c;
	CHECK(read_full(alive[0], &c, 1) == 0); /* EOF: the grandchild is dead too */
	printf("E kill(-%d, SIGTERM): child status 0x%x (%s), grandchild gone (EOF)\n", (int)ch, st, desc(st));
	close(ready[0]);
	close(alive[0]);
}

/* ---------------- F ---------------- */
static void case_f(void) {
	fflush(stdout);
	pid_t ch = fork();
	CHECK(ch >= 0);
	if (ch == 0) {
		CHECK(setpgid(0, 0) == 0);
		prctl(PR_SET_DUMPABLE, 0, 0, 0, 0); /* no core file */
		signal(SIGABRT, SIG_DFL);
		kill(0, SIGABRT);
		_exit(99);
	}
	int st = wait_for(ch, 0);
	CHECK(WIFSIGNALED(st) && WTERMSIG(st) == SIGABRT);
	printf("F child %d setpgid+kill(0,SIGABRT): status 0x%x (%s)\n", (int)ch, st, desc(st));
}

/* -DCASES="\"BD\"" builds a binary that runs only some sub-cases (for diagnosis). */
#ifndef CASES
#define CASES "ABCDEF"
#endif

int main(void) {
	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("pid %d pgrp %d\n", (int)getpid(), (int)getpgrp());
	void (*fn[])(void) = {case_a, case_b, case_c, case_d, case_e, case_f};
	for (const char *c = CASES; *c; c++)
		fn[*c - 'A']();
	printf("PASS\n");
	return 0;
}
