/*
 * ptrace_tree: a recorded process that is itself a ptrace tracer of its own children and threads.
 *
 * Exercises:
 *   1. PTRACE_TRACEME in a forked (exec-less) child that stops itself with SIGSTOP; the parent reads
 *      and writes the child's memory (PTRACE_PEEKDATA/POKEDATA), its registers (PTRACE_GETREGS,
 *      PTRACE_PEEKUSER) and the stop's siginfo (PTRACE_GETSIGINFO), then PTRACE_CONT.
 *   2. PTRACE_SYSCALL stops with PTRACE_O_TRACESYSGOOD: the parent sees the child's syscall entries
 *      and exits (also via PTRACE_GET_SYSCALL_INFO) and rewrites one syscall's result (SETREGS).
 *   3. PTRACE_ATTACH to a forked child blocked in read(): SIGSTOP stop, registers of the interrupted
 *      syscall, PEEKDATA, PTRACE_DETACH; the read then completes normally.
 *   4. PTRACE_SEIZE + PTRACE_INTERRUPT (PTRACE_EVENT_STOP) + PTRACE_O_TRACEEXIT (PTRACE_EVENT_EXIT,
 *      PTRACE_GETEVENTMSG) on a forked child.
 *   5. LeakSanitizer-style stop-the-world: a task cloned with CLONE_VM|CLONE_FS|CLONE_FILES|
 *      CLONE_UNTRACED (not a thread of this process) lists /proc/<pid>/task, PTRACE_ATTACHes every
 *      thread of its parent (the main thread is blocked in waitpid for it), reads their registers and
 *      memory, and detaches.
 *   (process_vm_readv/writev between parent and child are in process_vm.c.)
 *
 * Why it is hard for record/replay: the recorder is normally the ptracer of every recorded task, and
 * a task has only one tracer, so a recorded process that traces its own children/threads needs the
 * recorder to emulate ptrace (stops, waitpid statuses, register and memory access) or to cooperate
 * with it; ptrace calls read and write another task's registers and memory; waitpid results and
 * stop ordering depend on the tracee; CLONE_UNTRACED asks that the tracer task escape tracing.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/futex.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <unistd.h>

/* compile with -DSKIP_CASES=mask to leave out sub-cases (bit n = sub-case n), for diagnosis */
#ifndef SKIP_CASES
#define SKIP_CASES 0
#endif

#ifndef PTRACE_GET_SYSCALL_INFO
#define PTRACE_GET_SYSCALL_INFO 0x420e
#endif
#ifndef PR_SET_PTRACER
#define PR_SET_PTRACER 0x59616d61
#endif
#ifndef PR_SET_PTRACER_ANY
#define PR_SET_PTRACER_ANY ((unsigned long)-1)
#endif
#define MY_ERESTARTSYS 512

struct my_syscall_info {
	uint8_t op;
	uint8_t pad[3];
	uint32_t arch;
	uint64_t instruction_pointer;
	uint64_t stack_pointer;
	union {
		struct {
			uint64_t nr;
			uint64_t args[6];
		} entry;
		struct {
			int64_t rval;
			uint8_t is_error;
		} exit;
		struct {
			uint64_t nr;
			uint64_t args[6];
			uint32_t ret_data;
		} seccomp;
	};
};

#define CHECK(c)                                                                              \
	do {                                                                                  \
		if (!(c)) {                                                                   \
			fprintf(stderr, "FAIL: %s:%d: %s (errno %d %s)\n", __FILE__, __LINE__, \
				#c, errno, strerror(errno));                                  \
			exit(1);                                                              \
		}                                                                             \
	} while (0)

static pid_t xwait(pid_t pid, int *st, int flags) {
	pid_t r;
	do r = waitpid(pid, st, flags); while (r < 0 && errno == EINTR);
	CHECK(r == pid);
	return r;
}

static long pt(int req, pid_t pid, void *addr, void *data) {
	return syscall(SYS_ptrace, req, pid, addr, data);
}

static long peek(pid_t pid, void *addr) {
	long v = 0;
	errno = 0;
	CHECK(pt(PTRACE_PEEKDATA, pid, addr, &v) == 0); /* raw syscall: the word is stored via data */
	return v;
}

/* sleep state of a task from /proc; 0 if unreadable */
static char proc_state(pid_t pid, pid_t tid) {
	char path[96], buf[512];
	if (tid)
		snprintf(path, sizeof path, "/proc/%d/task/%d/stat", (int)pid, (int)tid);
	else
		snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
	int fd = open(path, O_RDONLY);
	if (fd < 0) return 0;
	ssize_t n = read(fd, buf, sizeof buf - 1);
	close(fd);
	if (n <= 0) return 0;
	buf[n] = 0;
	char *p = strrchr(buf, ')');
	return (p && p[1] == ' ') ? p[2] : 0;
}

/* wait (yielding) until the task sleeps in the kernel; bounded, returns whether it did */
static int wait_sleeping(pid_t pid, pid_t tid) {
	for (int i = 0; i < 200000; i++) {
		if (proc_state(pid, tid) == 'S') return 1;
		sched_yield();
	}
	return 0;
}

/* ---------- 1 ---------- */
static volatile long g_magic, g_poke;

static void case_traceme(void) {
	pid_t c = fork();
	CHECK(c >= 0);
	if (c == 0) {
		if (ptrace(PTRACE_TRACEME, 0, NULL, NULL) != 0) _exit(90);
		g_magic = (long)syscall(SYS_getpid) * 3 + 1;
		g_poke = 0;
		syscall(SYS_kill, syscall(SYS_getpid), SIGSTOP);
		_exit(g_poke == 0x1122334455667788L ? 0 : 91);
	}
	int st;
	xwait(c, &st, 0);
	if (WIFEXITED(st)) fprintf(stderr, "child exited %d before stopping\n", WEXITSTATUS(st));
	CHECK(WIFSTOPPED(st) && WSTOPSIG(st) == SIGSTOP);
	long magic = peek(c, (void *)&g_magic);
	CHECK(magic == (long)c * 3 + 1);
	CHECK(pt(PTRACE_POKEDATA, c, (void *)&g_poke, (void *)0x1122334455667788L) == 0);
	CHECK(peek(c, (void *)&g_poke) == 0x1122334455667788L);
	CHECK(g_poke == 0); /* our own copy is untouched */
	struct user_regs_struct regs;
	CHECK(pt(PTRACE_GETREGS, c, NULL, &regs) == 0);
	CHECK(regs.orig_rax == SYS_kill);
	CHECK(regs.rax == 0);
	long ou = 0;
	CHECK(pt(PTRACE_PEEKUSER, c, (void *)offsetof(struct user, regs.orig_rax), &ou) == 0);
	CHECK(ou == SYS_kill);
	siginfo_t si;
	memset(&si, 0, sizeof si);
	CHECK(pt(PTRACE_GETSIGINFO, c, NULL, &si) == 0);
	CHECK(si.si_signo == SIGSTOP && si.si_code == SI_USER && si.si_pid == c);
	CHECK(pt(PTRACE_CONT, c, NULL, NULL) == 0);
	xwait(c, &st, 0);
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	printf("traceme: child=%d magic=%ld orig_rax=%lld siginfo_pid=%d status=%d\n", c, magic,
	       (long long)regs.orig_rax, si.si_pid, WEXITSTATUS(st));
}

/* ---------- 2 ---------- */
static void case_syscall_stops(void) {
	pid_t me = getpid();
	pid_t c = fork();
	CHECK(c >= 0);
	if (c == 0) {
		if (ptrace(PTRACE_TRACEME, 0, NULL, NULL) != 0) _exit(90);
		syscall(SYS_kill, syscall(SYS_getpid), SIGSTOP);
		long pp = syscall(SYS_getppid);
		long u = syscall(SYS_getuid);
		_exit(pp == me && u == 4242 ? 0 : 92);
	}
	int st;
	xwait(c, &st, 0);
	CHECK(WIFSTOPPED(st) && WSTOPSIG(st) == SIGSTOP);
	CHECK(pt(PTRACE_SETOPTIONS, c, NULL, (void *)(long)(PTRACE_O_TRACESYSGOOD | PTRACE_O_EXITKILL)) == 0);
	long seen[16];
	int nseen = 0, entering = 1, info_ok = 0;
	long getppid_ret = 0;
	for (;;) {
		CHECK(pt(PTRACE_SYSCALL, c, NULL, NULL) == 0);
		xwait(c, &st, 0);
		if (WIFEXITED(st)) break;
		CHECK(WIFSTOPPED(st) && WSTOPSIG(st) == (SIGTRAP | 0x80));
		struct user_regs_struct regs;
		CHECK(pt(PTRACE_GETREGS, c, NULL, &regs) == 0);
		struct my_syscall_info info;
		memset(&info, 0, sizeof info);
		long isz = pt(PTRACE_GET_SYSCALL_INFO, c, (void *)sizeof info, &info);
		CHECK(isz > 0);
		CHECK(info.op == (entering ? 1 : 2));
		if (entering) CHECK(info.entry.nr == regs.orig_rax);
		else CHECK(info.exit.rval == (int64_t)regs.rax);
		info_ok++;
		CHECK(nseen < 16);
		seen[nseen++] = (long)regs.orig_rax;
		if (!entering && regs.orig_rax == SYS_getppid) getppid_ret = (long)regs.rax;
		if (!entering && regs.orig_rax == SYS_getuid) {
			regs.rax = 4242;
			CHECK(pt(PTRACE_SETREGS, c, NULL, &regs) == 0);
		}
		entering = !entering;
	}
	CHECK(WEXITSTATUS(st) == 0);
	CHECK(nseen == 5);
	CHECK(seen[0] == SYS_getppid && seen[1] == SYS_getppid && seen[2] == SYS_getuid &&
	      seen[3] == SYS_getuid && seen[4] == SYS_exit_group);
	CHECK(getppid_ret == me);
	printf("syscall_stops: child=%d stops=%d seq=%ld,%ld,%ld,%ld,%ld getppid=%ld infos=%d\n", c, nseen,
	       seen[0], seen[1], seen[2], seen[3], seen[4], getppid_ret, info_ok);
}

/* ---------- 3 and 4: a child blocked in read(2) ---------- */
static volatile long g_marker;

static pid_t spawn_reader(int *wfd, int code) {
	int p[2];
	CHECK(pipe(p) == 0);
	pid_t c = fork();
	CHECK(c >= 0);
	if (c == 0) {
		close(p[1]);
		g_marker = (long)syscall(SYS_getpid) + 77;
		char b;
		ssize_t r;
		do r = read(p[0], &b, 1); while (r < 0 && errno == EINTR);
		_exit(r == 1 && b == 'x' ? code : 93);
	}
	close(p[0]);
	*wfd = p[1];
	return c;
}

static void case_attach(void) {
	int wfd;
	pid_t c = spawn_reader(&wfd, 0);
	int slept = wait_sleeping(c, 0);
	CHECK(ptrace(PTRACE_ATTACH, c, NULL, NULL) == 0);
	int st;
	xwait(c, &st, 0);
	CHECK(WIFSTOPPED(st) && WSTOPSIG(st) == SIGSTOP);
	struct user_regs_struct regs;
	CHECK(pt(PTRACE_GETREGS, c, NULL, &regs) == 0);
	if (slept) {
		CHECK(regs.orig_rax == SYS_read);
		CHECK((long)regs.rax == -MY_ERESTARTSYS);
	}
	long marker = peek(c, (void *)&g_marker);
	CHECK(marker == (long)c + 77);
	CHECK(ptrace(PTRACE_DETACH, c, NULL, NULL) == 0);
	CHECK(write(wfd, "x", 1) == 1);
	close(wfd);
	xwait(c, &st, 0);
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	printf("attach: child=%d slept=%d orig_rax=%lld rax=%lld marker=%ld\n", c, slept,
	       (long long)regs.orig_rax, (long long)regs.rax, marker);
}

static void case_seize(void) {
	int wfd;
	pid_t c = spawn_reader(&wfd, 17);
	int slept = wait_sleeping(c, 0);
	CHECK(ptrace(PTRACE_SEIZE, c, NULL, (void *)(long)PTRACE_O_TRACEEXIT) == 0);
	CHECK(ptrace(PTRACE_INTERRUPT, c, NULL, NULL) == 0);
	int st;
	xwait(c, &st, 0);
	CHECK(WIFSTOPPED(st) && WSTOPSIG(st) == SIGTRAP && (st >> 16) == PTRACE_EVENT_STOP);
	struct user_regs_struct regs;
	CHECK(pt(PTRACE_GETREGS, c, NULL, &regs) == 0);
	if (slept) CHECK(regs.orig_rax == SYS_read);
	long marker = peek(c, (void *)&g_marker);
	CHECK(marker == (long)c + 77);
	CHECK(ptrace(PTRACE_CONT, c, NULL, NULL) == 0);
	CHECK(write(wfd, "x", 1) == 1);
	close(wfd);
	xwait(c, &st, 0);
	CHECK(WIFSTOPPED(st) && (st >> 8) == (SIGTRAP | (PTRACE_EVENT_EXIT << 8)));
	unsigned long msg = 0;
	CHECK(ptrace(PTRACE_GETEVENTMSG, c, NULL, &msg) == 0);
	CHECK(WIFEXITED((int)msg) && WEXITSTATUS((int)msg) == 17);
	CHECK(ptrace(PTRACE_CONT, c, NULL, NULL) == 0);
	xwait(c, &st, 0);
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 17);
	printf("seize: child=%d slept=%d orig_rax=%lld eventmsg=%#lx status=%d\n", c, slept,
	       (long long)regs.orig_rax, msg, WEXITSTATUS(st));
}

/* ---------- 5: stop-the-world ---------- */
#define NWORK 3
#define MAXT 16
struct stw {
	int pid;
	volatile int release;
	volatile int worker_tid[NWORK];
	volatile long slot[NWORK];
	/* filled in by the tracer task */
	int nlisted;
	int listed[MAXT];
	int attach_err[MAXT];
	int stop_status[MAXT];
	long orig_rax[MAXT];
	long peeked[MAXT];
	int done;
};
static struct stw S;

static void *stw_worker(void *arg) {
	long i = (long)arg;
	S.slot[i] = 1000 + i * 11;
	__atomic_store_n(&S.worker_tid[i], (int)syscall(SYS_gettid), __ATOMIC_RELEASE);
	while (!__atomic_load_n(&S.release, __ATOMIC_ACQUIRE))
		syscall(SYS_futex, &S.release, FUTEX_WAIT_PRIVATE, 0, NULL, NULL, 0);
	return NULL;
}

/* Runs in a CLONE_VM task with our TLS: raw syscalls only, no stdio/malloc/errno reliance. */
static int stw_tracer(void *arg) {
	struct stw *s = arg;
	char path[32] = "/proc/";
	char digits[16];
	int n = 0, v = s->pid;
	do digits[n++] = (char)('0' + v % 10), v /= 10; while (v);
	int k = 6;
	while (n) path[k++] = digits[--n];
	memcpy(path + k, "/task", 6);
	int fd = (int)syscall(SYS_openat, AT_FDCWD, path, O_RDONLY | O_DIRECTORY);
	if (fd < 0) return 2;
	char buf[4096];
	for (;;) {
		long r = syscall(SYS_getdents64, fd, buf, sizeof buf);
		if (r <= 0) break;
		for (long off = 0; off < r;) {
			struct dirent64 *d = (struct dirent64 *)(buf + off);
			off += d->d_reclen;
			if (d->d_name[0] < '0' || d->d_name[0] > '9') continue;
			int tid = 0;
			for (char *q = d->d_name; *q; q++) tid = tid * 10 + (*q - '0');
			if (s->nlisted < MAXT) s->listed[s->nlisted++] = tid;
		}
	}
	syscall(SYS_close, fd);
	for (int i = 0; i < s->nlisted; i++) {
		int tid = s->listed[i];
		if (tid == s->pid) {
			/* The main thread waits for this task: attach once it is in
			 * wait4 (its /proc syscall line starts with 61), whatever the
			 * scheduler ran first. */
			char sys[48];
			memcpy(sys, path, k);
			memcpy(sys + k, "/task/", 6);
			memcpy(sys + k + 6, path + 6, k - 6);
			memcpy(sys + k + 6 + (k - 6), "/syscall", 9);
			for (int tries = 0; tries < 100000; tries++) {
				char line[8] = {0};
				int sfd = (int)syscall(SYS_openat, AT_FDCWD, sys, O_RDONLY);
				if (sfd < 0) break;
				long got = syscall(SYS_read, sfd, line, sizeof line - 1);
				syscall(SYS_close, sfd);
				if (got >= 3 && line[0] == '6' && line[1] == '1' && line[2] == ' ') break;
				syscall(SYS_sched_yield);
			}
		}
		long r = syscall(SYS_ptrace, PTRACE_ATTACH, tid, 0, 0);
		if (r != 0) {
			s->attach_err[i] = 1;
			continue;
		}
		int st = 0;
		long w;
		do w = syscall(SYS_wait4, tid, &st, __WALL, NULL); while (w == -1 && errno == EINTR);
		s->stop_status[i] = (w == tid) ? st : -1;
		struct user_regs_struct regs;
		if (syscall(SYS_ptrace, PTRACE_GETREGS, tid, 0, &regs) == 0) s->orig_rax[i] = (long)regs.orig_rax;
		for (int j = 0; j < NWORK; j++) {
			if (s->worker_tid[j] == tid) {
				long val = 0;
				if (syscall(SYS_ptrace, PTRACE_PEEKDATA, tid, &s->slot[j], &val) == 0) s->peeked[i] = val;
			}
		}
	}
	for (int i = 0; i < s->nlisted; i++)
		if (!s->attach_err[i]) syscall(SYS_ptrace, PTRACE_DETACH, s->listed[i], 0, 0);
	s->done = 1;
	return 0;
}

static void case_stop_the_world(void) {
	memset(&S, 0, sizeof S);
	S.pid = getpid();
	pthread_t th[NWORK];
	for (long i = 0; i < NWORK; i++) CHECK(pthread_create(&th[i], NULL, stw_worker, (void *)i) == 0);
	int all_slept = 1;
	for (int i = 0; i < NWORK; i++) {
		while (__atomic_load_n(&S.worker_tid[i], __ATOMIC_ACQUIRE) == 0) sched_yield();
		all_slept &= wait_sleeping(S.pid, S.worker_tid[i]);
	}
	const size_t stksz = 256 * 1024;
	char *stk = malloc(stksz);
	CHECK(stk != NULL);
	prctl(PR_SET_PTRACER, PR_SET_PTRACER_ANY, 0, 0, 0); /* for Yama; fails harmlessly without it */
	pid_t tr = clone(stw_tracer, stk + stksz, CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_UNTRACED, &S);
	CHECK(tr > 0);
	int st;
	xwait(tr, &st, __WALL);
	CHECK(WIFEXITED(st));
	int tracer_exit = WEXITSTATUS(st);
	__atomic_store_n(&S.release, 1, __ATOMIC_RELEASE);
	syscall(SYS_futex, &S.release, FUTEX_WAKE_PRIVATE, NWORK, NULL, NULL, 0);
	for (int i = 0; i < NWORK; i++) CHECK(pthread_join(th[i], NULL) == 0);
	free(stk);
	CHECK(tracer_exit == 0);
	CHECK(S.done == 1);
	CHECK(S.nlisted == NWORK + 1);
	int found_main = 0, found_workers = 0;
	for (int i = 0; i < S.nlisted; i++) {
		CHECK(S.attach_err[i] == 0);
		CHECK(WIFSTOPPED(S.stop_status[i]) && WSTOPSIG(S.stop_status[i]) == SIGSTOP);
		if (S.listed[i] == S.pid) {
			found_main++;
			CHECK(S.orig_rax[i] == SYS_wait4);
		}
		for (int j = 0; j < NWORK; j++) {
			if (S.listed[i] == S.worker_tid[j]) {
				found_workers++;
				CHECK(S.peeked[i] == S.slot[j]);
				if (all_slept) CHECK(S.orig_rax[i] == SYS_futex);
			}
		}
	}
	CHECK(found_main == 1 && found_workers == NWORK);
	printf("stop_the_world: tracer=%d threads=%d main=%d workers=%d,%d,%d all_slept=%d\n", tr, S.nlisted,
	       S.pid, S.worker_tid[0], S.worker_tid[1], S.worker_tid[2], all_slept);
}

int main(void) {
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (!(SKIP_CASES & (1 << 1))) case_traceme();
	if (!(SKIP_CASES & (1 << 2))) case_syscall_stops();
	if (!(SKIP_CASES & (1 << 3))) case_attach();
	if (!(SKIP_CASES & (1 << 4))) case_seize();
	if (!(SKIP_CASES & (1 << 5))) case_stop_the_world();
	printf("ptrace_tree: ok\n");
	return 0;
}
