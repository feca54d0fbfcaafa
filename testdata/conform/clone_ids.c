/*
 * clone_ids: the clone/clone3 family and the ids the kernel writes into user memory.
 *
 * Exercises:
 *   1. raw clone() thread with CLONE_PARENT_SETTID | CLONE_CHILD_SETTID | CLONE_CHILD_CLEARTID;
 *      the thread reads its own tid from the word the kernel wrote (child_tid), passes it to
 *      sched_getaffinity and tgkill (signal handled on that thread), and the parent waits for
 *      the kernel's clear-and-wake of child_tid with FUTEX_WAIT (as pthread_join does).
 *   2. set_tid_address in a raw clone thread (no CLONE_CHILD_CLEARTID): its return value is the
 *      tid, and the kernel clears/wakes the new address when the thread exits.
 *   3. clone3 fork-like with CLONE_PIDFD | CLONE_PARENT_SETTID | CLONE_CHILD_SETTID: pidfd and
 *      tid written into the parent, tid written into the child's copy of memory; poll on the
 *      pidfd and waitid(P_PIDFD).
 *   4. legacy clone() with CLONE_PIDFD (the fd is written through the parent_tid pointer).
 *   5. pidfd_open on a forked child: poll before/after exit, pidfd_send_signal, waitid WNOHANG.
 *   6. pthread_create/join (glibc uses clone3 + CLONE_PARENT_SETTID + CLONE_CHILD_CLEARTID),
 *      tgkill(sig 0)/sched_getaffinity on the thread's tid, ESRCH after join.
 *   7. fork and vfork: returned pid vs getpid()/getppid() in the child; set_tid_address in a child.
 *
 * Why it is hard for record/replay: the kernel writes tids and file descriptors into user memory
 * as a side effect of clone (into the parent's memory, into the child's memory, or into memory
 * shared by both), writes 0 and does a futex wake at thread exit (an asynchronous write that no
 * syscall of the waiting thread returns), and returns pids/tids/pidfds that later syscalls
 * (tgkill, sched_getaffinity, waitid, poll) consume. A replayer must reproduce each of those
 * writes at the right moment, in the right address space, with the recorded values.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/futex.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <pthread.h>
#include <unistd.h>

#ifndef P_PIDFD
#define P_PIDFD 3
#endif
#ifndef CLONE_PIDFD
#define CLONE_PIDFD 0x00001000
#endif
#ifndef SYS_clone3
#define SYS_clone3 435
#endif
#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif
#ifndef SYS_pidfd_send_signal
#define SYS_pidfd_send_signal 424
#endif

/* compile with -DSKIP_CASES=mask to leave out sub-cases (bit n = sub-case n), for diagnosis */
#ifndef SKIP_CASES
#define SKIP_CASES 0
#endif

#define CHECK(c)                                                                         \
	do {                                                                             \
		if (!(c)) {                                                              \
			fprintf(stderr, "FAIL: %s:%d: %s (errno %d %s)\n", __FILE__, __LINE__, \
				#c, errno, strerror(errno));                             \
			exit(1);                                                         \
		}                                                                        \
	} while (0)

struct my_clone_args {
	uint64_t flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls;
};

static long futex(volatile int *uaddr, int op, int val) {
	return syscall(SYS_futex, uaddr, op, val, NULL, NULL, 0);
}

/* wait until the kernel has cleared *p (CLONE_CHILD_CLEARTID / set_tid_address semantics) */
static void wait_cleared(volatile int *p) {
	int v;
	while ((v = __atomic_load_n(p, __ATOMIC_ACQUIRE)) != 0)
		futex(p, FUTEX_WAIT, v); /* shared (non-private) wait: the kernel's wake is shared */
}

/* ---- 1. raw clone thread with SETTID/CLEARTID ---- */
static volatile int t1_ptid, t1_ctid;
static volatile int t1_seen_ctid, t1_gettid, t1_aff_ret, t1_tgkill_ret, t1_sig_tid;
static volatile int t1_ncpu;

static void usr1_handler(int sig) {
	(void)sig;
	t1_sig_tid = (int)syscall(SYS_gettid);
}

/* Runs with the parent's TLS (no CLONE_SETTLS): use raw syscalls only, never touch errno. */
static int t1_fn(void *arg) {
	(void)arg;
	int tid = __atomic_load_n(&t1_ctid, __ATOMIC_ACQUIRE); /* written by the kernel */
	t1_seen_ctid = tid;
	t1_gettid = (int)syscall(SYS_gettid);
	cpu_set_t set;
	memset(&set, 0, sizeof set);
	t1_aff_ret = (int)syscall(SYS_sched_getaffinity, tid, sizeof set, &set);
	t1_ncpu = CPU_COUNT(&set);
	t1_tgkill_ret = (int)syscall(SYS_tgkill, (int)syscall(SYS_getpid), tid, SIGUSR1);
	return 0; /* glibc's clone trampoline then calls SYS_exit */
}

/* ---- 2. set_tid_address in a raw clone thread ---- */
static volatile int t2_addr = -1, t2_ret, t2_gettid;
static volatile int t2_done_flag; /* cleared by the kernel at exit via CLONE_CHILD_CLEARTID */
static int t2_fn(void *arg) {
	(void)arg;
	t2_ret = (int)syscall(SYS_set_tid_address, &t2_addr);
	t2_gettid = (int)syscall(SYS_gettid);
	t2_addr = t2_gettid; /* the kernel must clear this at exit */
	return 0;
}

static void read_full(int fd, void *buf, size_t n) {
	size_t got = 0;
	while (got < n) {
		ssize_t r = read(fd, (char *)buf + got, n - got);
		if (r < 0 && errno == EINTR) continue;
		CHECK(r > 0);
		got += r;
	}
}

/* ---- 4. legacy clone CLONE_PIDFD ---- */
static int t4_fn(void *arg) {
	int fd = *(int *)arg;
	int pid = (int)syscall(SYS_getpid);
	if (write(fd, &pid, sizeof pid) != sizeof pid) return 99;
	return 3;
}

/* ---- 6. pthread ---- */
static int p_pipe[2];
static volatile int p_tid;
static void *p_fn(void *arg) {
	(void)arg;
	p_tid = (int)syscall(SYS_gettid);
	char c;
	read_full(p_pipe[0], &c, 1);
	return (void *)(long)p_tid;
}

int main(void) {
	setvbuf(stdout, NULL, _IOLBF, 0);
	const size_t stksz = 256 * 1024;
	char *stk = malloc(stksz);
	CHECK(stk != NULL);
	int mypid = getpid();

	/* 1 */
	if (!(SKIP_CASES & (1 << 1))) {
		struct sigaction sa;
		memset(&sa, 0, sizeof sa);
		sa.sa_handler = usr1_handler;
		CHECK(sigaction(SIGUSR1, &sa, NULL) == 0);
		t1_ctid = -1;
		t1_ptid = -1;
		int flags = CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | CLONE_THREAD |
			    CLONE_SYSVSEM | CLONE_PARENT_SETTID | CLONE_CHILD_SETTID | CLONE_CHILD_CLEARTID;
		int ret = clone(t1_fn, stk + stksz, flags, NULL, &t1_ptid, NULL, &t1_ctid);
		CHECK(ret > 0);
		CHECK(t1_ptid == ret); /* written before clone returned in the parent */
		wait_cleared(&t1_ctid);
		CHECK(t1_ctid == 0);
		CHECK(t1_seen_ctid == ret);
		CHECK(t1_gettid == ret);
		CHECK(t1_aff_ret > 0);
		CHECK(t1_ncpu > 0);
		CHECK(t1_tgkill_ret == 0);
		CHECK(t1_sig_tid == ret);
		CHECK(ret != mypid);
		printf("clone_settid: ret=%d ptid=%d child_ctid=%d child_gettid=%d aff=%d ncpu=%d sig_tid=%d\n",
		       ret, t1_ptid, t1_seen_ctid, t1_gettid, t1_aff_ret, t1_ncpu, t1_sig_tid);
	}

	/* 2 */
	if (!(SKIP_CASES & (1 << 2))) {
		t2_done_flag = -1;
		int flags = CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | CLONE_THREAD |
			    CLONE_SYSVSEM | CLONE_CHILD_CLEARTID;
		int ret = clone(t2_fn, stk + stksz, flags, NULL, NULL, NULL, &t2_done_flag);
		CHECK(ret > 0);
		/* the thread replaced its clear_child_tid with &t2_addr, so the kernel clears t2_addr,
		 * not t2_done_flag, at exit. */
		wait_cleared(&t2_addr);
		CHECK(t2_ret == ret);
		CHECK(t2_gettid == ret);
		CHECK(t2_addr == 0);
		CHECK(t2_done_flag == -1);
		printf("set_tid_address_thread: ret=%d st_ret=%d gettid=%d addr_after=%d flag=%d\n", ret,
		       t2_ret, t2_gettid, t2_addr, t2_done_flag);
	}

	/* 3 */
	if (!(SKIP_CASES & (1 << 3))) {
		int pfd[2];
		CHECK(pipe(pfd) == 0);
		int pidfd = -1;
		volatile int ptid = -7, ctid = -9;
		struct my_clone_args ca;
		memset(&ca, 0, sizeof ca);
		ca.flags = CLONE_PIDFD | CLONE_PARENT_SETTID | CLONE_CHILD_SETTID;
		ca.pidfd = (uintptr_t)&pidfd;
		ca.child_tid = (uintptr_t)&ctid;
		ca.parent_tid = (uintptr_t)&ptid;
		ca.exit_signal = SIGCHLD;
		long ret = syscall(SYS_clone3, &ca, sizeof ca);
		if (ret == 0) {
			int v[3] = {(int)syscall(SYS_getpid), ctid, ptid};
			if (write(pfd[1], v, sizeof v) != sizeof v) _exit(98);
			if (v[1] != v[0]) _exit(97); /* CLONE_CHILD_SETTID writes into the child's memory */
			_exit(42);
		}
		CHECK(ret > 0);
		close(pfd[1]);
		int v[3];
		read_full(pfd[0], v, sizeof v);
		close(pfd[0]);
		CHECK(ptid == ret);
		CHECK(ctid == -9); /* child_tid is written in the child's address space only */
		CHECK(pidfd >= 0);
		CHECK(v[0] == ret);
		CHECK(v[1] == ret);
		/* v[2]: parent_tid in the child's copy; the kernel writes it in the parent's mm only,
		 * after the copy, so the child normally sees the old value. Printed, not checked. */
		struct pollfd p = {.fd = pidfd, .events = POLLIN};
		int pr;
		do pr = poll(&p, 1, 10000); while (pr < 0 && errno == EINTR);
		CHECK(pr == 1);
		CHECK(p.revents & POLLIN);
		siginfo_t si;
		memset(&si, 0, sizeof si);
		CHECK(waitid(P_PIDFD, pidfd, &si, WEXITED) == 0);
		CHECK(si.si_pid == ret);
		CHECK(si.si_code == CLD_EXITED);
		CHECK(si.si_status == 42);
		int fdflags = fcntl(pidfd, F_GETFD);
		CHECK(fdflags & FD_CLOEXEC);
		close(pidfd);
		printf("clone3_pidfd: ret=%ld ptid=%d pidfd=%d child_getpid=%d child_ctid=%d child_view_ptid=%d "
		       "status=%d\n",
		       ret, ptid, pidfd, v[0], v[1], v[2], si.si_status);
	}

	/* 4 */
	if (!(SKIP_CASES & (1 << 4))) {
		int pfd[2];
		CHECK(pipe(pfd) == 0);
		int pidfd = -1;
		int wfd = pfd[1];
		int ret = clone(t4_fn, stk + stksz, CLONE_PIDFD | SIGCHLD, &wfd, &pidfd);
		CHECK(ret > 0);
		close(pfd[1]);
		int cpid;
		read_full(pfd[0], &cpid, sizeof cpid);
		close(pfd[0]);
		CHECK(cpid == ret);
		CHECK(pidfd >= 0);
		siginfo_t si;
		memset(&si, 0, sizeof si);
		CHECK(waitid(P_PIDFD, pidfd, &si, WEXITED) == 0);
		CHECK(si.si_pid == ret);
		CHECK(si.si_status == 3);
		close(pidfd);
		printf("clone_pidfd_legacy: ret=%d pidfd=%d child_getpid=%d status=%d\n", ret, pidfd, cpid,
		       si.si_status);
	}

	/* 5 */
	if (!(SKIP_CASES & (1 << 5))) {
		int pfd[2];
		CHECK(pipe(pfd) == 0);
		pid_t c1 = fork();
		CHECK(c1 >= 0);
		if (c1 == 0) {
			char c;
			close(pfd[1]);
			ssize_t r = read(pfd[0], &c, 1);
			_exit(r == 1 ? 5 : 6);
		}
		pid_t c2 = fork();
		CHECK(c2 >= 0);
		if (c2 == 0) {
			char c;
			close(pfd[1]);
			for (;;) {
				if (read(pfd[0], &c, 1) <= 0) pause(); /* killed by SIGTERM */
			}
		}
		close(pfd[0]);
		int fd1 = (int)syscall(SYS_pidfd_open, c1, 0);
		int fd2 = (int)syscall(SYS_pidfd_open, c2, 0);
		CHECK(fd1 >= 0 && fd2 >= 0);
		struct pollfd p[2] = {{.fd = fd1, .events = POLLIN}, {.fd = fd2, .events = POLLIN}};
		CHECK(poll(p, 2, 0) == 0); /* both alive and blocked */
		siginfo_t si;
		memset(&si, 0, sizeof si);
		CHECK(waitid(P_PIDFD, fd1, &si, WEXITED | WNOHANG) == 0);
		CHECK(si.si_pid == 0);
		CHECK(syscall(SYS_pidfd_send_signal, fd2, SIGTERM, NULL, 0) == 0);
		int pr;
		do pr = poll(&p[1], 1, 10000); while (pr < 0 && errno == EINTR);
		CHECK(pr == 1);
		memset(&si, 0, sizeof si);
		CHECK(waitid(P_PIDFD, fd2, &si, WEXITED) == 0);
		CHECK(si.si_pid == c2);
		CHECK(si.si_code == CLD_KILLED);
		CHECK(si.si_status == SIGTERM);
		CHECK(write(pfd[1], "x", 1) == 1); /* release c1 */
		do pr = poll(&p[0], 1, 10000); while (pr < 0 && errno == EINTR);
		CHECK(pr == 1);
		siginfo_t si1;
		memset(&si1, 0, sizeof si1);
		CHECK(waitid(P_PIDFD, fd1, &si1, WEXITED) == 0);
		CHECK(si1.si_pid == c1);
		CHECK(si1.si_code == CLD_EXITED);
		CHECK(si1.si_status == 5);
		/* the pidfd of a reaped process: sending a signal fails with ESRCH */
		errno = 0;
		CHECK(syscall(SYS_pidfd_send_signal, fd1, 0, NULL, 0) == -1 && errno == ESRCH);
		close(pfd[1]);
		close(fd1);
		close(fd2);
		printf("pidfd_open: c1=%d fd1=%d status1=%d c2=%d fd2=%d killsig=%d\n", c1, fd1, si1.si_status,
		       c2, fd2, si.si_status);
	}

	/* 6 */
	if (!(SKIP_CASES & (1 << 6))) {
		CHECK(pipe(p_pipe) == 0);
		pthread_t th;
		CHECK(pthread_create(&th, NULL, p_fn, NULL) == 0);
		while (__atomic_load_n(&p_tid, __ATOMIC_ACQUIRE) == 0) sched_yield();
		int tid = p_tid;
		CHECK(syscall(SYS_tgkill, mypid, tid, 0) == 0);
		cpu_set_t set;
		CPU_ZERO(&set);
		CHECK(sched_getaffinity(tid, sizeof set, &set) == 0);
		CHECK(CPU_COUNT(&set) > 0);
		CHECK(write(p_pipe[1], "g", 1) == 1);
		void *rv;
		CHECK(pthread_join(th, &rv) == 0);
		CHECK((long)rv == tid);
		errno = 0;
		CHECK(syscall(SYS_tgkill, mypid, tid, 0) == -1 && errno == ESRCH);
		close(p_pipe[0]);
		close(p_pipe[1]);
		printf("pthread: tid=%d joined_rv=%ld ncpu=%d\n", tid, (long)rv, CPU_COUNT(&set));
	}

	/* 7 */
	if (!(SKIP_CASES & (1 << 7))) {
		int pfd[2];
		CHECK(pipe(pfd) == 0);
		pid_t c = fork();
		CHECK(c >= 0);
		if (c == 0) {
			int v[4];
			v[0] = getpid();
			v[1] = getppid();
			v[2] = (int)syscall(SYS_gettid);
			static volatile int addr = 1;
			v[3] = (int)syscall(SYS_set_tid_address, &addr);
			if (write(pfd[1], v, sizeof v) != sizeof v) _exit(98);
			_exit(0);
		}
		close(pfd[1]);
		int v[4];
		read_full(pfd[0], v, sizeof v);
		close(pfd[0]);
		int st;
		CHECK(waitpid(c, &st, 0) == c);
		CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
		CHECK(v[0] == c && v[1] == mypid && v[2] == c && v[3] == c);
		printf("fork: pid=%d child_getpid=%d child_getppid=%d child_gettid=%d child_set_tid_address=%d\n",
		       c, v[0], v[1], v[2], v[3]);

		static volatile int vf_pid, vf_ppid;
		pid_t vc = vfork();
		CHECK(vc >= 0);
		if (vc == 0) {
			vf_pid = (int)syscall(SYS_getpid); /* memory is shared with the parent */
			vf_ppid = (int)syscall(SYS_getppid);
			_exit(7);
		}
		CHECK(waitpid(vc, &st, 0) == vc);
		CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 7);
		CHECK(vf_pid == vc);
		CHECK(vf_ppid == mypid);
		CHECK(getpid() == mypid);
		CHECK(syscall(SYS_gettid) == mypid);
		printf("vfork: pid=%d child_getpid=%d child_getppid=%d status=%d\n", vc, vf_pid, vf_ppid,
		       WEXITSTATUS(st));
	}
	free(stk);
	printf("clone_ids: ok pid=%d\n", mypid);
	return 0;
}
