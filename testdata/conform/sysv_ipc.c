/*
 * sysv_ipc: System V IPC -- shared memory, semaphore sets and message queues -- between a recorded
 * parent and forked children.
 *
 * Exercises:
 *   1. shm: shmget(IPC_PRIVATE)/shmat in parent and (re-attached) in a forked child; both processes
 *      write and read the segment while attached, synchronised by a pipe; shmctl IPC_STAT (segsz,
 *      nattch, cpid, lpid written by the kernel); shmat at a hinted address with SHM_RND; SHM_RDONLY
 *      attach; IPC_RMID while attached (segment stays usable until the last shmdt).
 *   2. sem: semget of a 3-semaphore set, semctl SETALL/GETALL/GETVAL/SETVAL/GETPID/GETNCNT/IPC_STAT,
 *      multi-op semop, IPC_NOWAIT (EAGAIN), semtimedop timeout, a child blocked in semop released by
 *      the parent, SEM_UNDO adjustments applied by the kernel when the child exits, and IPC_RMID
 *      waking a blocked child with EIDRM.
 *   3. msg: msgsnd/msgrcv with type selection (0, >0, <0), MSG_NOERROR truncation, E2BIG,
 *      IPC_NOWAIT ENOMSG, a child blocked in msgrcv, msgctl IPC_STAT (qnum, lspid, lrpid), IPC_RMID.
 *
 * Why it is hard for record/replay: shm segments are memory shared between processes that is
 * neither a file nor an anonymous mmap the recorder created, and writes by one process appear in
 * another without any syscall; the kernel writes ids (shmid/semid/msqid), pids (cpid/lpid/sempid,
 * lspid/lrpid) and timestamps into structs the program reads back; semaphore/message blocking
 * wakes depend on another process; SEM_UNDO changes state asynchronously at a process's exit.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sched.h>
#include <sys/ipc.h>
#include <sys/mman.h>
#include <sys/msg.h>
#include <sys/sem.h>
#include <sys/shm.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* compile with -DSKIP_CASES=mask to leave out sub-cases (bit n = sub-case n), for diagnosis */
#ifndef SKIP_CASES
#define SKIP_CASES 0
#endif

#define CHECK(c)                                                                              \
	do {                                                                                  \
		if (!(c)) {                                                                   \
			fprintf(stderr, "FAIL: %s:%d: %s (errno %d %s)\n", __FILE__, __LINE__, \
				#c, errno, strerror(errno));                                  \
			exit(1);                                                              \
		}                                                                             \
	} while (0)
#define CCHECK(c)                                                                              \
	do {                                                                                   \
		if (!(c)) {                                                                    \
			fprintf(stderr, "FAIL: child %s:%d: %s (errno %d)\n", __FILE__, __LINE__, \
				#c, errno);                                                    \
			_exit(99);                                                             \
		}                                                                              \
	} while (0)

/* glibc does not define union semun */
union semun {
	int val;
	struct semid_ds *buf;
	unsigned short *array;
};

/* ids to remove if a check fails (exit runs atexit handlers; children use _exit) */
static int g_shmid = -1, g_semid = -1, g_msqid = -1, g_owner;
static void cleanup(void) {
	if (getpid() != g_owner) return;
	if (g_shmid >= 0) shmctl(g_shmid, IPC_RMID, NULL);
	if (g_semid >= 0) semctl(g_semid, 0, IPC_RMID);
	if (g_msqid >= 0) msgctl(g_msqid, IPC_RMID, NULL);
}

static int wait_child(pid_t pid) {
	int st;
	pid_t r;
	do r = waitpid(pid, &st, 0); while (r < 0 && errno == EINTR);
	CHECK(r == pid);
	CHECK(WIFEXITED(st));
	return WEXITSTATUS(st);
}

static void xread(int fd, void *b, size_t n) {
	size_t got = 0;
	while (got < n) {
		ssize_t r = read(fd, (char *)b + got, n - got);
		if (r < 0 && errno == EINTR) continue;
		if (r <= 0) {
			fprintf(stderr, "FAIL: read fd %d: r=%zd errno %d\n", fd, r, errno);
			exit(1);
		}
		got += r;
	}
}
static void xwrite(int fd, const void *b, size_t n) {
	if (write(fd, b, n) != (ssize_t)n) {
		fprintf(stderr, "FAIL: write fd %d errno %d\n", fd, errno);
		exit(1);
	}
}

/* ---------- 1: shared memory ---------- */
static void case_shm(void) {
	const size_t sz = 3 * 4096 + 100;
	int id = shmget(IPC_PRIVATE, sz, IPC_CREAT | 0600);
	CHECK(id >= 0);
	g_shmid = id;
	unsigned char *p = shmat(id, NULL, 0);
	CHECK(p != (void *)-1);
	for (size_t i = 0; i < sz; i++) CHECK(p[i] == 0); /* new segments are zeroed */
	int mypid = getpid();
	int to_child[2], to_parent[2];
	CHECK(pipe(to_child) == 0 && pipe(to_parent) == 0);
	pid_t c = fork();
	CHECK(c >= 0);
	if (c == 0) {
		close(to_child[1]);
		close(to_parent[0]);
		int cpid = (int)syscall(SYS_getpid);
		/* a second, separate attachment of the same segment in the child */
		unsigned char *q = shmat(id, NULL, 0);
		CCHECK(q != (void *)-1);
		for (int round = 0; round < 4; round++) {
			char tok;
			xread(to_child[0], &tok, 1);
			/* the parent wrote round*7+1 at [round*4096]; reply through both mappings */
			CCHECK(q[round * 4096] == (unsigned char)(round * 7 + 1));
			CCHECK(p[round * 4096] == (unsigned char)(round * 7 + 1));
			q[round * 4096 + 1] = (unsigned char)(round * 11 + 2);
			memcpy(q + sz - 8, &cpid, sizeof cpid);
			xwrite(to_parent[1], "r", 1);
		}
		CCHECK(shmdt(q) == 0);
		_exit(0);
	}
	close(to_child[0]);
	close(to_parent[1]);
	for (int round = 0; round < 4; round++) {
		p[round * 4096] = (unsigned char)(round * 7 + 1);
		xwrite(to_child[1], "w", 1);
		char tok;
		xread(to_parent[0], &tok, 1);
		CHECK(p[round * 4096 + 1] == (unsigned char)(round * 11 + 2));
	}
	int seen_pid;
	memcpy(&seen_pid, p + sz - 8, sizeof seen_pid);
	CHECK(wait_child(c) == 0);
	CHECK(seen_pid == c);
	close(to_child[1]);
	close(to_parent[0]);

	struct shmid_ds ds;
	memset(&ds, 0, sizeof ds);
	CHECK(shmctl(id, IPC_STAT, &ds) == 0);
	CHECK(ds.shm_segsz == sz);
	CHECK(ds.shm_cpid == mypid);
	/* lpid: the last shmat/shmdt was the child's shmdt; the child's exit then detached the
	 * fork-inherited mapping too, which also updates lpid to the child. */
	CHECK(ds.shm_lpid == c);
	CHECK(ds.shm_nattch == 1);
	CHECK(ds.shm_perm.mode & 0600);

	/* a read-only attachment sees the same bytes */
	unsigned char *ro = shmat(id, NULL, SHM_RDONLY);
	CHECK(ro != (void *)-1);
	CHECK(ro[4096 + 1] == 13);
	/* attach at a hint rounded down to SHMLBA */
	void *hole = mmap(NULL, 4 * SHMLBA + sz, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	CHECK(hole != MAP_FAILED);
	CHECK(munmap(hole, 4 * SHMLBA + sz) == 0); /* a free range to aim the hint at */
	unsigned char *hint = (unsigned char *)((((uintptr_t)hole + SHMLBA) & ~(uintptr_t)(SHMLBA - 1)) + 123);
	unsigned char *r2 = shmat(id, hint, SHM_RND);
	CHECK(r2 != (void *)-1);
	CHECK((uintptr_t)r2 == ((uintptr_t)hint & ~(uintptr_t)(SHMLBA - 1)));
	r2[5] = 0x5a;
	CHECK(p[5] == 0x5a && ro[5] == 0x5a);
	CHECK(shmctl(id, IPC_STAT, &ds) == 0);
	int nattch = (int)ds.shm_nattch;
	CHECK(nattch == 3);
	CHECK(ds.shm_lpid == mypid);
	/* IPC_RMID while attached: still usable, destroyed at last detach */
	CHECK(shmctl(id, IPC_RMID, NULL) == 0);
	g_shmid = -1;
	p[6] = 0x6b;
	CHECK(r2[6] == 0x6b);
	CHECK(shmdt(ro) == 0);
	CHECK(shmdt(r2) == 0);
	CHECK(shmdt(p) == 0);
	errno = 0;
	CHECK(shmctl(id, IPC_STAT, &ds) == -1 && (errno == EINVAL || errno == EIDRM));
	printf("shm: id=%d child=%d seen_pid=%d cpid=%d nattch=%d\n", id, c, seen_pid, mypid, nattch);
}

/* ---------- 2: semaphores ---------- */
static void case_sem(void) {
	int id = semget(IPC_PRIVATE, 3, IPC_CREAT | 0600);
	CHECK(id >= 0);
	g_semid = id;
	int mypid = getpid();
	unsigned short init[3] = {1, 0, 5};
	union semun arg;
	arg.array = init;
	CHECK(semctl(id, 0, SETALL, arg) == 0);
	unsigned short got[3] = {9, 9, 9};
	arg.array = got;
	CHECK(semctl(id, 0, GETALL, arg) == 0);
	CHECK(got[0] == 1 && got[1] == 0 && got[2] == 5);
	CHECK(semctl(id, 2, GETVAL) == 5);

	/* multi-op semop: atomically take sem0 and give sem1 */
	struct sembuf ops[2] = {{0, -1, 0}, {1, +2, 0}};
	CHECK(semop(id, ops, 2) == 0);
	CHECK(semctl(id, 0, GETVAL) == 0 && semctl(id, 1, GETVAL) == 2);
	CHECK(semctl(id, 0, GETPID) == mypid);
	/* IPC_NOWAIT on an empty semaphore */
	struct sembuf nw = {0, -1, IPC_NOWAIT};
	errno = 0;
	CHECK(semop(id, &nw, 1) == -1 && errno == EAGAIN);
	/* semtimedop with a short timeout */
	struct sembuf tw = {0, -1, 0};
	struct timespec ts = {0, 2000000};
	errno = 0;
	CHECK(semtimedop(id, &tw, 1, &ts) == -1 && errno == EAGAIN);

	/* a child blocks on sem0 and, once released, does a SEM_UNDO +3 on sem2 before exiting */
	int rep[2];
	CHECK(pipe(rep) == 0);
	pid_t c = fork();
	CHECK(c >= 0);
	if (c == 0) {
		close(rep[0]);
		struct sembuf b = {0, -1, 0};
		int r;
		do r = semop(id, &b, 1); while (r < 0 && errno == EINTR);
		CCHECK(r == 0);
		struct sembuf u = {2, +3, SEM_UNDO};
		CCHECK(semop(id, &u, 1) == 0);
		int v = semctl(id, 2, GETVAL);
		xwrite(rep[1], &v, sizeof v);
		_exit(0); /* the kernel undoes the +3 here */
	}
	close(rep[1]);
	/* wait until the kernel counts the child as a waiter on sem0 */
	int ncnt;
	while ((ncnt = semctl(id, 0, GETNCNT)) == 0) sched_yield();
	CHECK(ncnt == 1);
	struct sembuf rel = {0, +1, 0};
	CHECK(semop(id, &rel, 1) == 0);
	int child_saw;
	xread(rep[0], &child_saw, sizeof child_saw);
	close(rep[0]);
	CHECK(child_saw == 8);
	CHECK(wait_child(c) == 0);
	int after_undo = semctl(id, 2, GETVAL);
	CHECK(after_undo == 5); /* SEM_UNDO reverted at exit */
	int lastpid = semctl(id, 2, GETPID);
	CHECK(lastpid == c); /* the exit-time undo is attributed to the exiting child */
	CHECK(semctl(id, 0, GETPID) == c);
	struct semid_ds sds;
	memset(&sds, 0, sizeof sds);
	arg.buf = &sds;
	CHECK(semctl(id, 0, IPC_STAT, arg) == 0);
	CHECK(sds.sem_nsems == 3);
	CHECK(sds.sem_otime != 0);
	arg.val = 0;
	CHECK(semctl(id, 1, SETVAL, arg) == 0);
	CHECK(semctl(id, 1, GETVAL) == 0);

	/* IPC_RMID wakes a blocked waiter with EIDRM */
	int rep2[2];
	CHECK(pipe(rep2) == 0);
	pid_t c2 = fork();
	CHECK(c2 >= 0);
	if (c2 == 0) {
		close(rep2[0]);
		struct sembuf b = {1, -1, 0};
		int r;
		do r = semop(id, &b, 1); while (r < 0 && errno == EINTR);
		int e = (r == -1) ? errno : 0;
		xwrite(rep2[1], &e, sizeof e);
		_exit(0);
	}
	close(rep2[1]);
	while (semctl(id, 1, GETNCNT) == 0) sched_yield();
	CHECK(semctl(id, 0, IPC_RMID) == 0);
	g_semid = -1;
	int e;
	xread(rep2[0], &e, sizeof e);
	close(rep2[0]);
	CHECK(e == EIDRM);
	CHECK(wait_child(c2) == 0);
	printf("sem: id=%d child=%d child_saw=%d after_undo=%d lastpid=%d ncnt=%d rmid_child=%d err=EIDRM\n", id,
	       c, child_saw, after_undo, lastpid, ncnt, c2);
}

/* ---------- 3: message queues ---------- */
struct mbuf {
	long mtype;
	char mtext[64];
};

static void case_msg(void) {
	int id = msgget(IPC_PRIVATE, IPC_CREAT | 0600);
	CHECK(id >= 0);
	g_msqid = id;
	int mypid = getpid();
	struct mbuf m;
	const long types[5] = {5, 2, 9, 2, 1};
	for (int i = 0; i < 5; i++) {
		m.mtype = types[i];
		snprintf(m.mtext, sizeof m.mtext, "msg%d-type%ld", i, types[i]);
		CHECK(msgsnd(id, &m, strlen(m.mtext) + 1, 0) == 0);
	}
	struct msqid_ds qs;
	CHECK(msgctl(id, IPC_STAT, &qs) == 0);
	CHECK(qs.msg_qnum == 5);
	CHECK(qs.msg_lspid == mypid);
	/* type 2: first message of type 2 */
	ssize_t n = msgrcv(id, &m, sizeof m.mtext, 2, 0);
	CHECK(n > 0 && m.mtype == 2 && strcmp(m.mtext, "msg1-type2") == 0);
	/* type -3: lowest type <= 3 -> type 1 */
	n = msgrcv(id, &m, sizeof m.mtext, -3, 0);
	CHECK(n > 0 && m.mtype == 1 && strcmp(m.mtext, "msg4-type1") == 0);
	/* too small buffer: E2BIG, then MSG_NOERROR truncates (message is consumed) */
	errno = 0;
	CHECK(msgrcv(id, &m, 4, 0, 0) == -1 && errno == E2BIG);
	memset(m.mtext, 0, sizeof m.mtext);
	n = msgrcv(id, &m, 4, 0, MSG_NOERROR);
	CHECK(n == 4 && m.mtype == 5 && memcmp(m.mtext, "msg0", 4) == 0 && m.mtext[4] == 0);
	/* type 0: next in queue order */
	n = msgrcv(id, &m, sizeof m.mtext, 0, 0);
	CHECK(n > 0 && m.mtype == 9);
	n = msgrcv(id, &m, sizeof m.mtext, 0, 0);
	CHECK(n > 0 && m.mtype == 2 && strcmp(m.mtext, "msg3-type2") == 0);
	errno = 0;
	CHECK(msgrcv(id, &m, sizeof m.mtext, 0, IPC_NOWAIT) == -1 && errno == ENOMSG);

	/* a child blocked in msgrcv(type 7); the parent first sends type 3 (must not wake it for real
	 * consumption), then type 7; the child replies with type 8 carrying its pid */
	pid_t c = fork();
	CHECK(c >= 0);
	if (c == 0) {
		struct mbuf cm;
		ssize_t r;
		do r = msgrcv(id, &cm, sizeof cm.mtext, 7, 0); while (r < 0 && errno == EINTR);
		CCHECK(r > 0 && cm.mtype == 7 && strcmp(cm.mtext, "hello-child") == 0);
		cm.mtype = 8;
		int pid = (int)syscall(SYS_getpid);
		memcpy(cm.mtext, &pid, sizeof pid);
		CCHECK(msgsnd(id, &cm, sizeof pid, 0) == 0);
		_exit(0);
	}
	m.mtype = 3;
	strcpy(m.mtext, "not-for-child");
	CHECK(msgsnd(id, &m, strlen(m.mtext) + 1, 0) == 0);
	m.mtype = 7;
	strcpy(m.mtext, "hello-child");
	CHECK(msgsnd(id, &m, strlen(m.mtext) + 1, 0) == 0);
	n = msgrcv(id, &m, sizeof m.mtext, 8, 0);
	CHECK(n == sizeof(int));
	int child_pid;
	memcpy(&child_pid, m.mtext, sizeof child_pid);
	CHECK(child_pid == c);
	CHECK(wait_child(c) == 0);
	CHECK(msgctl(id, IPC_STAT, &qs) == 0);
	CHECK(qs.msg_qnum == 1); /* the type-3 message is still there */
	CHECK(qs.msg_lspid == c);
	CHECK(qs.msg_lrpid == mypid);
	int lspid = qs.msg_lspid, lrpid = qs.msg_lrpid;
	n = msgrcv(id, &m, sizeof m.mtext, 3, IPC_NOWAIT);
	CHECK(n > 0 && strcmp(m.mtext, "not-for-child") == 0);
	CHECK(msgctl(id, IPC_RMID, NULL) == 0);
	g_msqid = -1;
	errno = 0;
	CHECK(msgsnd(id, &m, 1, IPC_NOWAIT) == -1 && (errno == EINVAL || errno == EIDRM));
	printf("msg: id=%d child=%d child_pid=%d lspid=%d lrpid=%d\n", id, c, child_pid, lspid, lrpid);
}

int main(void) {
	setvbuf(stdout, NULL, _IOLBF, 0);
	g_owner = getpid();
	atexit(cleanup);
	if (!(SKIP_CASES & (1 << 1))) case_shm();
	if (!(SKIP_CASES & (1 << 2))) case_sem();
	if (!(SKIP_CASES & (1 << 3))) case_msg();
	printf("sysv_ipc: ok\n");
	return 0;
}
