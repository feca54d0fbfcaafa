/*
 * futex_shared: futexes, semaphores and pthread sync objects shared between processes and threads.
 *
 * Exercises:
 *   1. raw futex wait/wake ping-pong between a parent and a forked child on a MAP_SHARED|MAP_ANONYMOUS
 *      word (shared, non-private futexes); FUTEX_WAIT with a stale value (EAGAIN) and an expiring
 *      timeout (ETIMEDOUT); FUTEX_WAKE return counts.
 *   2. POSIX named semaphore (sem_open, a file in /dev/shm mapped MAP_SHARED) used by two processes:
 *      sem_post/sem_wait ordering, sem_trywait EAGAIN, sem_timedwait with a past deadline, sem_getvalue,
 *      sem_unlink.
 *   3. process-shared pthread mutex + condition variable in shared memory: producer (child) /
 *      consumer (parent) queue.
 *   4. robust mutex (PTHREAD_MUTEX_ROBUST): a thread that exits holding one (EOWNERDEAD,
 *      pthread_mutex_consistent).
 *   5. process-shared robust mutex whose owner process dies while the parent is blocked on it.
 *   6. priority-inheritance mutex (PTHREAD_PRIO_INHERIT) contended by two threads: FUTEX_LOCK_PI /
 *      FUTEX_UNLOCK_PI, the kernel handing ownership to the waiter.
 *
 * Why it is hard for record/replay: memory is shared between processes, so one process's stores
 * change what another process reads, with no syscall in between; the kernel itself writes into the
 * futex words (FUTEX_WAITERS bits, the new owner's tid on PI unlock, FUTEX_OWNER_DIED when it walks a
 * dead task's robust list at exit) and wakes waiters asynchronously; wake counts and timeouts depend on
 * the real interleaving.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/futex.h>
#include <pthread.h>
#include <sched.h>
#include <semaphore.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
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
/* in a forked child: report and exit with a distinctive status */
#define CCHECK(c)                                                                              \
	do {                                                                                   \
		if (!(c)) {                                                                    \
			fprintf(stderr, "FAIL: child %s:%d: %s (errno %d)\n", __FILE__, __LINE__, \
				#c, errno);                                                    \
			_exit(99);                                                             \
		}                                                                              \
	} while (0)

static long futex(volatile int *uaddr, int op, int val, const struct timespec *ts) {
	return syscall(SYS_futex, uaddr, op, val, ts, NULL, 0);
}

static void *shared_map(size_t n) {
	void *p = mmap(NULL, n, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	CHECK(p != MAP_FAILED);
	return p;
}

static int wait_child(pid_t pid) {
	int st;
	pid_t r;
	do r = waitpid(pid, &st, 0); while (r < 0 && errno == EINTR);
	CHECK(r == pid);
	CHECK(WIFEXITED(st));
	return WEXITSTATUS(st);
}

/* ---------- 1 ---------- */
struct pingpong {
	volatile int turn;    /* 0: parent's turn, 1: child's turn */
	volatile int counter;
	volatile int child_pid;
	volatile int child_wakes;
	int trace[64];
};

static void pp_wait_turn(struct pingpong *pp, int me) {
	int v;
	while ((v = __atomic_load_n(&pp->turn, __ATOMIC_ACQUIRE)) != me) {
		long r = futex(&pp->turn, FUTEX_WAIT, v, NULL);
		if (r != 0 && errno != EAGAIN && errno != EINTR) {
			fprintf(stderr, "FAIL: futex wait errno %d\n", errno);
			_exit(98);
		}
	}
}

static void case_pingpong(void) {
	struct pingpong *pp = shared_map(sizeof *pp);
	const int rounds = 32;
	pid_t c = fork();
	CHECK(c >= 0);
	if (c == 0) {
		pp->child_pid = (int)syscall(SYS_getpid);
		int wakes = 0;
		for (int i = 0; i < rounds; i++) {
			pp_wait_turn(pp, 1);
			pp->trace[2 * i + 1] = pp->counter++;
			__atomic_store_n(&pp->turn, 0, __ATOMIC_RELEASE);
			wakes += (int)futex(&pp->turn, FUTEX_WAKE, 1, NULL);
		}
		pp->child_wakes = wakes;
		_exit(0);
	}
	int wakes = 0;
	for (int i = 0; i < rounds; i++) {
		pp_wait_turn(pp, 0);
		pp->trace[2 * i] = pp->counter++;
		__atomic_store_n(&pp->turn, 1, __ATOMIC_RELEASE);
		wakes += (int)futex(&pp->turn, FUTEX_WAKE, 1, NULL);
	}
	pp_wait_turn(pp, 0);
	CHECK(wait_child(c) == 0);
	CHECK(pp->counter == 2 * rounds);
	for (int i = 0; i < 2 * rounds; i++) CHECK(pp->trace[i] == i);
	CHECK(pp->child_pid == c);
	/* stale value: EAGAIN; nobody wakes: ETIMEDOUT */
	errno = 0;
	CHECK(futex(&pp->turn, FUTEX_WAIT, 12345, NULL) == -1 && errno == EAGAIN);
	struct timespec ts = {0, 1000000};
	errno = 0;
	CHECK(futex(&pp->turn, FUTEX_WAIT, pp->turn, &ts) == -1 && errno == ETIMEDOUT);
	CHECK(futex(&pp->turn, FUTEX_WAKE, 1, NULL) == 0);
	printf("pingpong: child=%d counter=%d parent_wakes=%d child_wakes=%d\n", c, pp->counter, wakes,
	       pp->child_wakes);
	munmap(pp, sizeof *pp);
}

/* ---------- 2 ---------- */
static char g_sem_a[64], g_sem_b[64];
static int g_owner;
static void cleanup(void) { /* remove the named semaphores if a check failed */
	if (getpid() != g_owner) return;
	if (g_sem_a[0]) sem_unlink(g_sem_a);
	if (g_sem_b[0]) sem_unlink(g_sem_b);
}
struct semdata {
	int values[8];
	int child_pid;
};

static void case_named_sem(void) {
	char name_a[64], name_b[64];
	snprintf(name_a, sizeof name_a, "/conform-futex-a-%d", (int)getpid());
	snprintf(name_b, sizeof name_b, "/conform-futex-b-%d", (int)getpid());
	sem_t *a = sem_open(name_a, O_CREAT | O_EXCL, 0600, 0);
	CHECK(a != SEM_FAILED);
	strcpy(g_sem_a, name_a);
	sem_t *b = sem_open(name_b, O_CREAT | O_EXCL, 0600, 0);
	CHECK(b != SEM_FAILED);
	strcpy(g_sem_b, name_b);
	struct semdata *sd = shared_map(sizeof *sd);
	pid_t c = fork();
	CHECK(c >= 0);
	if (c == 0) {
		/* open by name again in the child (a second mapping of the same /dev/shm file) */
		sem_t *ca = sem_open(name_a, 0);
		CCHECK(ca != SEM_FAILED);
		sem_t *cb = sem_open(name_b, 0);
		CCHECK(cb != SEM_FAILED);
		sd->child_pid = (int)syscall(SYS_getpid);
		for (int i = 0; i < 8; i++) {
			sd->values[i] = i * i + 1;
			CCHECK(sem_post(ca) == 0);
			if (i % 2 == 1) CCHECK(sem_wait(cb) == 0); /* lockstep every other item */
		}
		_exit(0);
	}
	for (int i = 0; i < 8; i++) {
		int r;
		do r = sem_wait(a); while (r < 0 && errno == EINTR);
		CHECK(r == 0);
		CHECK(sd->values[i] == i * i + 1);
		if (i % 2 == 1) CHECK(sem_post(b) == 0);
	}
	CHECK(wait_child(c) == 0);
	int val = -1;
	CHECK(sem_getvalue(a, &val) == 0);
	CHECK(val == 0);
	errno = 0;
	CHECK(sem_trywait(a) == -1 && errno == EAGAIN);
	struct timespec past = {1, 0}; /* 1970: already expired */
	errno = 0;
	CHECK(sem_timedwait(a, &past) == -1 && errno == ETIMEDOUT);
	CHECK(sem_post(a) == 0 && sem_post(a) == 0);
	CHECK(sem_getvalue(a, &val) == 0 && val == 2);
	CHECK(sem_trywait(a) == 0);
	CHECK(sem_getvalue(a, &val) == 0 && val == 1);
	CHECK(sd->child_pid == c);
	CHECK(sem_close(a) == 0 && sem_close(b) == 0);
	CHECK(sem_unlink(name_a) == 0 && sem_unlink(name_b) == 0);
	g_sem_a[0] = g_sem_b[0] = 0;
	errno = 0;
	CHECK(sem_open(name_a, 0) == SEM_FAILED && errno == ENOENT);
	int sum = 0;
	for (int i = 0; i < 8; i++) sum += sd->values[i];
	printf("named_sem: child=%d sum=%d final_value=%d\n", c, sum, val);
	munmap(sd, sizeof *sd);
}

/* ---------- 3 ---------- */
#define QN 4
struct pcq {
	pthread_mutex_t m;
	pthread_cond_t nonempty, nonfull;
	int q[QN];
	int head, tail, count;
	int child_pid;
	int producer_waits, consumer_waits;
};

static void case_pshared_condvar(void) {
	struct pcq *s = shared_map(sizeof *s);
	pthread_mutexattr_t ma;
	pthread_condattr_t ca;
	CHECK(pthread_mutexattr_init(&ma) == 0);
	CHECK(pthread_mutexattr_setpshared(&ma, PTHREAD_PROCESS_SHARED) == 0);
	CHECK(pthread_mutex_init(&s->m, &ma) == 0);
	CHECK(pthread_condattr_init(&ca) == 0);
	CHECK(pthread_condattr_setpshared(&ca, PTHREAD_PROCESS_SHARED) == 0);
	CHECK(pthread_cond_init(&s->nonempty, &ca) == 0);
	CHECK(pthread_cond_init(&s->nonfull, &ca) == 0);
	const int items = 100;
	pid_t c = fork();
	CHECK(c >= 0);
	if (c == 0) {
		int pid = (int)syscall(SYS_getpid);
		for (int i = 0; i < items; i++) {
			CCHECK(pthread_mutex_lock(&s->m) == 0);
			s->child_pid = pid;
			while (s->count == QN) {
				s->producer_waits++;
				CCHECK(pthread_cond_wait(&s->nonfull, &s->m) == 0);
			}
			s->q[s->tail] = i * 3 + 1;
			s->tail = (s->tail + 1) % QN;
			s->count++;
			CCHECK(pthread_cond_signal(&s->nonempty) == 0);
			CCHECK(pthread_mutex_unlock(&s->m) == 0);
		}
		_exit(0);
	}
	long sum = 0;
	for (int i = 0; i < items; i++) {
		CHECK(pthread_mutex_lock(&s->m) == 0);
		while (s->count == 0) {
			s->consumer_waits++;
			CHECK(pthread_cond_wait(&s->nonempty, &s->m) == 0);
		}
		int v = s->q[s->head];
		s->head = (s->head + 1) % QN;
		s->count--;
		CHECK(pthread_cond_signal(&s->nonfull) == 0);
		CHECK(pthread_mutex_unlock(&s->m) == 0);
		CHECK(v == i * 3 + 1);
		sum += v;
	}
	CHECK(wait_child(c) == 0);
	CHECK(s->child_pid == c);
	CHECK(s->count == 0);
	printf("pshared_condvar: child=%d sum=%ld producer_waits=%d consumer_waits=%d\n", c, sum,
	       s->producer_waits, s->consumer_waits);
	munmap(s, sizeof *s);
}

/* ---------- 4 ---------- */
static pthread_mutex_t robust_m;
static volatile int robust_owner_tid;
static void *robust_thread(void *arg) {
	(void)arg;
	if (pthread_mutex_lock(&robust_m) != 0) return (void *)1;
	robust_owner_tid = (int)syscall(SYS_gettid);
	return NULL; /* exits holding the mutex: the kernel marks it FUTEX_OWNER_DIED */
}

struct robust_shared {
	pthread_mutex_t m;
	volatile int owner_pid;
	volatile int word_seen_by_child;
};

static void case_robust_thread(void) {
	/* thread exits holding a process-private robust mutex */
	pthread_mutexattr_t ma;
	CHECK(pthread_mutexattr_init(&ma) == 0);
	CHECK(pthread_mutexattr_setrobust(&ma, PTHREAD_MUTEX_ROBUST) == 0);
	CHECK(pthread_mutex_init(&robust_m, &ma) == 0);
	pthread_t th;
	CHECK(pthread_create(&th, NULL, robust_thread, NULL) == 0);
	void *rv;
	CHECK(pthread_join(th, &rv) == 0);
	CHECK(rv == NULL);
	int word_after_death = *(volatile int *)&robust_m; /* __lock is the first word */
	CHECK((word_after_death & FUTEX_OWNER_DIED) != 0);
	int r = pthread_mutex_lock(&robust_m);
	CHECK(r == EOWNERDEAD);
	CHECK(pthread_mutex_consistent(&robust_m) == 0);
	int word_locked = *(volatile int *)&robust_m;
	CHECK((word_locked & FUTEX_TID_MASK) == (int)syscall(SYS_gettid));
	CHECK(pthread_mutex_unlock(&robust_m) == 0);
	CHECK(pthread_mutex_lock(&robust_m) == 0);
	CHECK(pthread_mutex_unlock(&robust_m) == 0);
	CHECK(pthread_mutex_destroy(&robust_m) == 0);
	printf("robust_thread: owner_tid=%d word_after_death=%#x relock=EOWNERDEAD\n", robust_owner_tid,
	       (unsigned)word_after_death);
}

/* ---------- 5 ---------- */
static void case_robust_process(void) {
	/* process-shared robust mutex; the owner process dies while the parent is blocked on it */
	pthread_mutexattr_t ma;
	int r;
	CHECK(pthread_mutexattr_init(&ma) == 0);
	CHECK(pthread_mutexattr_setrobust(&ma, PTHREAD_MUTEX_ROBUST) == 0);
	struct robust_shared *rs = shared_map(sizeof *rs);
	CHECK(pthread_mutexattr_setpshared(&ma, PTHREAD_PROCESS_SHARED) == 0);
	CHECK(pthread_mutex_init(&rs->m, &ma) == 0);
	int pfd[2];
	CHECK(pipe(pfd) == 0);
	pid_t c = fork();
	CHECK(c >= 0);
	if (c == 0) {
		close(pfd[0]);
		CCHECK(pthread_mutex_lock(&rs->m) == 0);
		rs->owner_pid = (int)syscall(SYS_getpid);
		CCHECK(write(pfd[1], "L", 1) == 1);
		/* wait (with syscalls) until the parent has announced itself as a waiter */
		volatile int *w = (volatile int *)&rs->m;
		while (!(__atomic_load_n(w, __ATOMIC_ACQUIRE) & FUTEX_WAITERS)) sched_yield();
		rs->word_seen_by_child = *w;
		_exit(0); /* dies holding the mutex */
	}
	close(pfd[1]);
	char ch;
	CHECK(read(pfd[0], &ch, 1) == 1);
	close(pfd[0]);
	r = pthread_mutex_lock(&rs->m); /* blocks until the kernel marks the owner dead */
	CHECK(r == EOWNERDEAD);
	CHECK(pthread_mutex_consistent(&rs->m) == 0);
	CHECK(pthread_mutex_unlock(&rs->m) == 0);
	CHECK(wait_child(c) == 0);
	CHECK(rs->owner_pid == c);
	CHECK((rs->word_seen_by_child & FUTEX_TID_MASK) == c);
	CHECK(rs->word_seen_by_child & FUTEX_WAITERS);
	CHECK(pthread_mutex_lock(&rs->m) == 0);
	CHECK(pthread_mutex_unlock(&rs->m) == 0);
	printf("robust_process: owner=%d word_seen_by_child=%#x relock=EOWNERDEAD\n", rs->owner_pid,
	       (unsigned)rs->word_seen_by_child);
	munmap(rs, sizeof *rs);
}

/* ---------- 6 ---------- */
static pthread_mutex_t pi_m;
static volatile int pi_waiter_tid, pi_word_when_acquired, pi_counter;
static void *pi_thread(void *arg) {
	(void)arg;
	pi_waiter_tid = (int)syscall(SYS_gettid);
	if (pthread_mutex_lock(&pi_m) != 0) return (void *)1;
	pi_word_when_acquired = *(volatile int *)&pi_m;
	pi_counter++;
	if (pthread_mutex_unlock(&pi_m) != 0) return (void *)2;
	return NULL;
}

static void case_pi(void) {
	pthread_mutexattr_t ma;
	CHECK(pthread_mutexattr_init(&ma) == 0);
	CHECK(pthread_mutexattr_setprotocol(&ma, PTHREAD_PRIO_INHERIT) == 0);
	CHECK(pthread_mutex_init(&pi_m, &ma) == 0);
	int me = (int)syscall(SYS_gettid);
	CHECK(pthread_mutex_lock(&pi_m) == 0);
	volatile int *w = (volatile int *)&pi_m;
	CHECK((*w & FUTEX_TID_MASK) == me); /* uncontended PI lock: the word is our tid */
	pthread_t th;
	CHECK(pthread_create(&th, NULL, pi_thread, NULL) == 0);
	/* wait until the kernel has queued the waiter (it sets FUTEX_WAITERS in the word) */
	while (!(__atomic_load_n(w, __ATOMIC_ACQUIRE) & FUTEX_WAITERS)) sched_yield();
	int word_contended = *w;
	CHECK((word_contended & FUTEX_TID_MASK) == me);
	pi_counter++;
	CHECK(pthread_mutex_unlock(&pi_m) == 0); /* FUTEX_UNLOCK_PI hands the lock to the waiter */
	void *rv;
	CHECK(pthread_join(th, &rv) == 0);
	CHECK(rv == NULL);
	CHECK((pi_word_when_acquired & FUTEX_TID_MASK) == pi_waiter_tid);
	CHECK(pi_counter == 2);
	CHECK(*w == 0);
	CHECK(pthread_mutex_destroy(&pi_m) == 0);
	printf("pi_mutex: owner=%d word_contended=%#x waiter=%d word_when_acquired=%#x\n", me,
	       (unsigned)word_contended, pi_waiter_tid, (unsigned)pi_word_when_acquired);
}

int main(void) {
	setvbuf(stdout, NULL, _IOLBF, 0);
	g_owner = getpid();
	atexit(cleanup);
	if (!(SKIP_CASES & (1 << 1))) case_pingpong();
	if (!(SKIP_CASES & (1 << 2))) case_named_sem();
	if (!(SKIP_CASES & (1 << 3))) case_pshared_condvar();
	if (!(SKIP_CASES & (1 << 4))) case_robust_thread();
	if (!(SKIP_CASES & (1 << 5))) case_robust_process();
	if (!(SKIP_CASES & (1 << 6))) case_pi();
	printf("futex_shared: ok\n");
	return 0;
}
