/*
 * racing_writers.c - conformance test: deliberately racy programs.
 *
 * Family: concurrent writers and thread lifetime races whose outcome the
 * kernel (or the scheduler) decides: interleaving of atomic pipe writes,
 * O_APPEND from several processes, lost updates of an unsynchronised counter,
 * file-descriptor numbers handed out while other threads open/close/exit, and
 * a process whose main thread calls pthread_exit while other threads finish.
 * Sub-cases:
 *   1. 2 and then 4 threads each write 200 fixed-size lines (one write(2)
 *      each, < PIPE_BUF so atomic) to one pipe; a forked reader process checks
 *      every line is intact and each writer's lines arrive in order, and
 *      prints a hash and a prefix of the interleaving. Then 2 threads write
 *      64 KiB blocks (> PIPE_BUF, not atomic) and the reader counts the runs.
 *   2. two processes append 300 records each to one file with O_APPEND: first
 *      with separate open(2)s, then through one inherited descriptor; the
 *      file is checked (size, intact records, per-writer order) and the
 *      interleaving printed. pwrite on an O_APPEND fd appends (Linux quirk).
 *   3. two threads do an unsynchronised counter++ 200000 times each, with
 *      sched_yield every 1000 iterations; the final value (lost updates) is
 *      printed; an atomic counter next to it must be exact.
 *   4. one thread opens/fstat/closes files 300 times while short-lived threads
 *      create pipes, close other threads' fds and exit (joined or detached);
 *      every fd the first thread gets must refer to the file it opened; the
 *      sequence of fd numbers is printed.
 *   5. a forked child whose main thread calls pthread_exit while 3 workers go
 *      on (they see the leader become a zombie, keep getpid, and report); the
 *      parent sees exit status 0 after the last worker returns. Variant: a
 *      worker calls exit(3) after the leader is gone -> status 3.
 *
 * Why it is hard for record/replay: every observable result here is decided
 * by the interleaving of threads or processes (which write landed first, how
 * many increments were lost, which fd number was free), so a replayer must
 * reproduce the recorded schedule exactly, across processes that share a
 * pipe or a file, including memory races that involve no syscall at all
 * (counter++ between yields). The last sub-cases make a thread group live on
 * without its leader and exit through a non-leader thread.
 *
 * Build: gcc -O1 -g -pthread -o racing_writers racing_writers.c
 * Usage: racing_writers [scratchdir]   (files are created under it, or under a
 *        mkdtemp directory in /tmp, and removed at the end)
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
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

static pid_t gettid_(void) { return (pid_t)syscall(SYS_gettid); }

static int wait_st(pid_t ch) {
	int st;
	pid_t r;
	while ((r = waitpid(ch, &st, 0)) == -1 && errno == EINTR)
		;
	CHECK(r == ch);
	return st;
}

static uint64_t fnv(uint64_t h, unsigned char c) { return (h ^ c) * 1099511628211ULL; }
#define FNV0 1469598103934665603ULL

static ssize_t read_all(int fd, void *buf, size_t n) {
	size_t got = 0;
	while (got < n) {
		ssize_t r = read(fd, (char *)buf + got, n - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -1;
		if (r == 0)
			break;
		got += r;
	}
	return (ssize_t)got;
}

/* ---------------- 1. pipe writers ---------------- */
#define LINE 16
#define LINES 200
static int pipe_w;
static pthread_barrier_t start_gate; /* lets the racers start together */
static void *line_writer(void *a) {
	int id = (int)(long)a;
	char l[LINE + 1];
	pthread_barrier_wait(&start_gate);
	for (int i = 0; i < LINES; i++) {
		snprintf(l, sizeof l, "w%d s%05d .....\n", id, i);
		CHECK(strlen(l) == LINE);
		CHECK(write(pipe_w, l, LINE) == LINE);
		if (i % 16 == 15)
			sched_yield();
	}
	return NULL;
}

static void reader_lines(int fd, int nw) {
	char buf[4096 + LINE];
	size_t have = 0;
	int next[4] = {0, 0, 0, 0}, total = 0;
	uint64_t h = FNV0;
	char prefix[33] = {0};
	int switches = 0, last = -1;
	for (;;) {
		ssize_t r = read(fd, buf + have, 4096);
		if (r < 0 && errno == EINTR)
			continue;
		CHECK(r >= 0);
		if (r == 0)
			break;
		have += r;
		size_t off = 0;
		for (; have - off >= LINE; off += LINE) {
			char *l = buf + off;
			int id, seq;
			CHECK(sscanf(l, "w%d s%05d .....", &id, &seq) == 2 && l[LINE - 1] == '\n');
			CHECK(id >= 0 && id < nw);
			CHECK(seq == next[id]); /* a writer's own lines stay in order */
			next[id]++;
			if (total < 32)
				prefix[total] = '0' + id;
			if (id != last && last >= 0)
				switches++;
			last = id;
			h = fnv(h, (unsigned char)id);
			total++;
		}
		memmove(buf, buf + off, have - off);
		have -= off;
	}
	CHECK(have == 0);
	CHECK(total == nw * LINES);
	for (int i = 0; i < nw; i++)
		CHECK(next[i] == LINES);
	printf("1 pipe, %d writer threads: %d intact lines, %d writer switches, order hash %016llx, first: %s\n",
	       nw, total, switches, (unsigned long long)h, prefix);
}

#define BIG (64 * 1024)
#define BIGS 8
static void *big_writer(void *a) {
	int id = (int)(long)a;
	char *b = malloc(BIG);
	CHECK(b != NULL);
	memset(b, 'A' + id, BIG);
	pthread_barrier_wait(&start_gate);
	for (int i = 0; i < BIGS; i++) {
		size_t off = 0;
		while (off < BIG) { /* a big blocking write may be split by the kernel */
			ssize_t r = write(pipe_w, b + off, BIG - off);
			CHECK(r > 0);
			off += r;
		}
	}
	free(b);
	return NULL;
}

static void reader_big(int fd) {
	static char buf[65536];
	long cnt[2] = {0, 0}, runs = 0;
	int last = -1;
	uint64_t h = FNV0;
	for (;;) {
		ssize_t r = read(fd, buf, sizeof buf);
		if (r < 0 && errno == EINTR)
			continue;
		CHECK(r >= 0);
		if (r == 0)
			break;
		for (ssize_t i = 0; i < r; i++) {
			int id = buf[i] - 'A';
			CHECK(id == 0 || id == 1);
			cnt[id]++;
			if (id != last) {
				runs++;
				h = fnv(h, (unsigned char)id);
				for (int k = 0; k < 8; k++)
					h = fnv(h, (unsigned char)(cnt[id] >> (8 * k)));
			}
			last = id;
		}
	}
	CHECK(cnt[0] == (long)BIG * BIGS && cnt[1] == (long)BIG * BIGS);
	printf("1 pipe, 2 threads writing 64KiB blocks: %ld bytes each, %ld runs, hash %016llx\n", cnt[0], runs,
	       (unsigned long long)h);
}

static void pipe_round(int nw, int big) {
	int p[2];
	CHECK(pipe(p) == 0);
	fflush(stdout);
	pid_t rd = fork();
	CHECK(rd >= 0);
	if (rd == 0) {
		close(p[1]);
		if (big)
			reader_big(p[0]);
		else
			reader_lines(p[0], nw);
		fflush(stdout);
		_exit(0);
	}
	close(p[0]);
	pipe_w = p[1];
	pthread_t t[4];
	CHECK(pthread_barrier_init(&start_gate, NULL, nw) == 0);
	for (int i = 0; i < nw; i++)
		CHECK(pthread_create(&t[i], NULL, big ? big_writer : line_writer, (void *)(long)i) == 0);
	for (int i = 0; i < nw; i++)
		CHECK(pthread_join(t[i], NULL) == 0);
	pthread_barrier_destroy(&start_gate);
	close(p[1]);
	int st = wait_st(rd);
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

/* ---------------- 2. O_APPEND from two processes ---------------- */
#define REC 8
#define RECS 300
static void append_records(int fd, char who) {
	char r[REC + 1];
	for (int i = 0; i < RECS; i++) {
		snprintf(r, sizeof r, "%c%05d.\n", who, i);
		CHECK(write(fd, r, REC) == REC);
		if (i % 10 == 9)
			sched_yield();
	}
}

static void check_append_file(const char *path, const char *what, int extra) {
	int fd = open(path, O_RDONLY);
	CHECK(fd >= 0);
	struct stat st;
	CHECK(fstat(fd, &st) == 0);
	CHECK(st.st_size == 2 * RECS * REC + extra);
	char *b = malloc(st.st_size);
	CHECK(b != NULL);
	CHECK(read_all(fd, b, st.st_size) == st.st_size);
	close(fd);
	int next[2] = {0, 0}, switches = 0, last = -1;
	uint64_t h = FNV0;
	char prefix[33] = {0};
	for (int off = 0; off < 2 * RECS * REC; off += REC) {
		char *r = b + off;
		int id = r[0] == 'p' ? 0 : r[0] == 'c' ? 1 : -1;
		CHECK(id >= 0);
		int seq;
		CHECK(sscanf(r + 1, "%05d.", &seq) == 1 && r[REC - 1] == '\n');
		CHECK(seq == next[id]);
		next[id]++;
		if (off / REC < 32)
			prefix[off / REC] = r[0];
		if (last >= 0 && id != last)
			switches++;
		last = id;
		h = fnv(h, (unsigned char)r[0]);
	}
	CHECK(next[0] == RECS && next[1] == RECS);
	if (extra)
		CHECK(memcmp(b + 2 * RECS * REC, "PWRITE\n", extra) == 0);
	free(b);
	printf("2 O_APPEND, %s: %lld bytes, all records intact, %d switches, hash %016llx, first: %s\n", what,
	       (long long)st.st_size, switches, (unsigned long long)h, prefix);
}

static void case_append(const char *dir) {
	char path[PATH_MAX];
	snprintf(path, sizeof path, "%s/append.txt", dir);
	for (int shared = 0; shared <= 1; shared++) {
		int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND, 0644);
		CHECK(fd >= 0);
		int go[2];
		CHECK(pipe(go) == 0);
		fflush(stdout);
		pid_t ch = fork();
		CHECK(ch >= 0);
		if (ch == 0) {
			close(go[1]);
			int cfd = fd;
			if (!shared) {
				close(fd);
				cfd = open(path, O_WRONLY | O_APPEND);
				CHECK(cfd >= 0);
			}
			char c;
			CHECK(read(go[0], &c, 1) == 1);
			append_records(cfd, 'c');
			_exit(0);
		}
		close(go[0]);
		CHECK(write(go[1], "g", 1) == 1);
		append_records(fd, 'p');
		int st = wait_st(ch);
		CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
		int extra = 0;
		if (shared) {
			/* Linux: pwrite on an O_APPEND descriptor appends, ignoring the offset */
			CHECK(pwrite(fd, "PWRITE\n", 7, 0) == 7);
			extra = 7;
			off_t pos = lseek(fd, 0, SEEK_CUR);
			CHECK(pos == 2 * RECS * REC); /* pwrite does not move the file offset */
		}
		close(fd);
		check_append_file(path, shared ? "one inherited fd" : "separate opens", extra);
		close(go[1]);
	}
	CHECK(unlink(path) == 0);
}

/* ---------------- 3. lost updates ---------------- */
#define ITER 200000
static volatile long counter;
static long atomic_counter;
static void *incr(void *a) {
	(void)a;
	pthread_barrier_wait(&start_gate);
	for (int i = 0; i < ITER; i++) {
		counter++;
		__atomic_fetch_add(&atomic_counter, 1, __ATOMIC_RELAXED);
		if (i % 1000 == 999)
			sched_yield();
	}
	return NULL;
}
static void case_counter(void) {
	pthread_t a, b;
	counter = 0;
	atomic_counter = 0;
	CHECK(pthread_barrier_init(&start_gate, NULL, 2) == 0);
	CHECK(pthread_create(&a, NULL, incr, NULL) == 0);
	CHECK(pthread_create(&b, NULL, incr, NULL) == 0);
	CHECK(pthread_join(a, NULL) == 0 && pthread_join(b, NULL) == 0);
	pthread_barrier_destroy(&start_gate);
	CHECK(atomic_counter == 2L * ITER);
	CHECK(counter >= 1 && counter <= 2L * ITER);
	printf("3 unsynchronised counter: %ld of %ld (%ld lost); atomic counter %ld\n", counter, 2L * ITER,
	       2L * ITER - counter, atomic_counter);
}

/* ---------------- 4. fds while threads exit ---------------- */
#define OPENS 300
static const char *probe_path;
static ino_t probe_ino;
static dev_t probe_dev;
static volatile int churn_done;
static int fd_log[OPENS];
static void *opener(void *a) {
	(void)a;
	for (int i = 0; i < OPENS; i++) {
		int fd = open(probe_path, O_RDONLY | O_CLOEXEC);
		CHECK(fd >= 0);
		struct stat st;
		CHECK(fstat(fd, &st) == 0);
		CHECK(st.st_ino == probe_ino && st.st_dev == probe_dev); /* it is our file */
		fd_log[i] = fd;
		CHECK(close(fd) == 0);
		if (i % 8 == 7)
			sched_yield();
	}
	return NULL;
}

#define CHURN 24
static int churn_fds[CHURN];
static int churn_finished;
static void *churner(void *a) {
	int i = (int)(long)a;
	int p[2];
	CHECK(pipe2(p, O_CLOEXEC) == 0);
	close(p[0]);
	churn_fds[i] = p[1];        /* left open: the table changes under the opener */
	if (i >= 2 && churn_fds[i - 2] >= 0) { /* and close an older thread's fd */
		int old = __atomic_exchange_n(&churn_fds[i - 2], -1, __ATOMIC_SEQ_CST);
		if (old >= 0)
			CHECK(close(old) == 0);
	}
	__atomic_fetch_add(&churn_finished, 1, __ATOMIC_SEQ_CST);
	if (i % 3 == 0)
		pthread_exit(NULL);
	return NULL;
}

static void case_fds(const char *dir) {
	char path[PATH_MAX];
	snprintf(path, sizeof path, "%s/probe.txt", dir);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	CHECK(fd >= 0 && write(fd, "probe\n", 6) == 6);
	struct stat st;
	CHECK(fstat(fd, &st) == 0);
	close(fd);
	probe_path = path;
	probe_ino = st.st_ino;
	probe_dev = st.st_dev;
	for (int i = 0; i < CHURN; i++)
		churn_fds[i] = -1;
	pthread_t o;
	CHECK(pthread_create(&o, NULL, opener, NULL) == 0);
	for (int i = 0; i < CHURN; i++) {
		pthread_t t;
		pthread_attr_t at;
		pthread_attr_init(&at);
		if (i % 2)
			pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
		CHECK(pthread_create(&t, &at, churner, (void *)(long)i) == 0);
		pthread_attr_destroy(&at);
		if (!(i % 2))
			CHECK(pthread_join(t, NULL) == 0);
		sched_yield();
	}
	CHECK(pthread_join(o, NULL) == 0);
	/* detached churners may still be running: wait until all are through */
	while (__atomic_load_n(&churn_finished, __ATOMIC_SEQ_CST) < CHURN)
		usleep(100);
	int mn = INT_MAX, mx = -1;
	uint64_t h = FNV0;
	for (int i = 0; i < OPENS; i++) {
		if (fd_log[i] < mn)
			mn = fd_log[i];
		if (fd_log[i] > mx)
			mx = fd_log[i];
		h = fnv(h, (unsigned char)fd_log[i]);
	}
	printf("4 opener thread vs %d exiting threads: fds %d..%d, sequence hash %016llx, first:", CHURN, mn, mx,
	       (unsigned long long)h);
	for (int i = 0; i < 12; i++)
		printf(" %d", fd_log[i]);
	printf("\n");
	for (int i = 0; i < CHURN; i++) {
		int f = __atomic_exchange_n(&churn_fds[i], -1, __ATOMIC_SEQ_CST);
		if (f >= 0)
			close(f);
	}
	CHECK(unlink(path) == 0);
}

/* ---------------- 5. main thread pthread_exit ---------------- */
static int res_w, go_r;
static pid_t leader;
static int exit_variant;
static volatile int workers_done;

static int leader_gone(void) {
	char path[64], buf[512];
	snprintf(path, sizeof path, "/proc/self/task/%d/stat", (int)leader);
	for (int i = 0; i < 4000; i++) {
		int fd = open(path, O_RDONLY);
		if (fd < 0)
			return 1; /* task gone */
		ssize_t n = read(fd, buf, sizeof buf - 1);
		close(fd);
		if (n <= 0)
			return 1;
		buf[n] = 0;
		char *rp = strrchr(buf, ')');
		if (rp && (rp[2] == 'Z' || rp[2] == 'X'))
			return 1;
		usleep(250);
	}
	return 0;
}

static void *worker(void *a) {
	int id = (int)(long)a;
	char c;
	CHECK(read(go_r, &c, 1) == 1);
	int gone = leader_gone();
	long sum = 0;
	for (int i = 0; i < 1000 * (id + 1); i++)
		sum += i;
	char out[128];
	int n = snprintf(out, sizeof out, "worker %d: leader_zombie=%d getpid_is_leader=%d tid_differs=%d sum=%ld\n",
			 id, gone, getpid() == leader, gettid_() != leader, sum);
	CHECK(write(res_w, out, n) == n);
	if (exit_variant && id == 1) {
		/* finish the others' reports first, then end the whole process */
		while (__atomic_load_n(&workers_done, __ATOMIC_SEQ_CST) < 2)
			usleep(200);
		exit(3);
	}
	__atomic_fetch_add(&workers_done, 1, __ATOMIC_SEQ_CST);
	if (exit_variant) {
		for (;;)
			pause(); /* killed by the exit(3) of worker 1 */
	}
	return NULL;
}

static void case_pthread_exit(void) {
	for (exit_variant = 0; exit_variant <= 1; exit_variant++) {
		int res[2], go[2];
		CHECK(pipe(res) == 0 && pipe(go) == 0);
		fflush(stdout);
		pid_t ch = fork();
		CHECK(ch >= 0);
		if (ch == 0) {
			close(res[0]);
			res_w = res[1];
			go_r = go[0];
			leader = getpid();
			pthread_t t[3];
			for (int i = 0; i < 3; i++)
				CHECK(pthread_create(&t[i], NULL, worker, (void *)(long)i) == 0);
			CHECK(write(go[1], "ggg", 3) == 3);
			pthread_exit(NULL);
		}
		close(res[1]);
		close(go[0]);
		close(go[1]);
		char buf[1024] = {0};
		ssize_t n = read_all(res[0], buf, sizeof buf - 1);
		CHECK(n > 0);
		int st = wait_st(ch);
		/* lines arrive in any order: count them and sort for printing */
		char *lines[3];
		int nl = 0;
		for (char *s = strtok(buf, "\n"); s && nl < 3; s = strtok(NULL, "\n"))
			lines[nl++] = s;
		CHECK(nl == 3);
		for (int i = 0; i < 3; i++)
			for (int j = i + 1; j < 3; j++)
				if (strcmp(lines[j], lines[i]) < 0) {
					char *x = lines[i];
					lines[i] = lines[j];
					lines[j] = x;
				}
		for (int i = 0; i < 3; i++) {
			CHECK(strstr(lines[i], "getpid_is_leader=1 tid_differs=1") != NULL);
			printf("5 %s\n", lines[i]);
		}
		if (!exit_variant) {
			CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
			printf("5 child %d: main thread pthread_exit, workers finished: status 0x%x\n", (int)ch, st);
		} else {
			CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 3);
			printf("5 child %d: main thread pthread_exit, a worker called exit(3): status 0x%x\n", (int)ch,
			       st);
		}
		close(res[0]);
	}
}

/* -DCASES="\"13\"" builds a binary that runs only some sub-cases (for diagnosis). */
#ifndef CASES
#define CASES "12345"
#endif

int main(int argc, char **argv) {
	setvbuf(stdout, NULL, _IOLBF, 0);
	char tmpl[] = "/tmp/racing_writers.XXXXXX";
	const char *dir;
	int made = 0;
	if (argc > 1) {
		dir = argv[1];
	} else {
		dir = mkdtemp(tmpl);
		CHECK(dir != NULL);
		made = 1;
	}
	printf("pid %d\n", (int)getpid());
	for (const char *c = CASES; *c; c++) {
		switch (*c) {
		case '1':
			pipe_round(2, 0);
			pipe_round(4, 0);
			pipe_round(2, 1);
			break;
		case '2': case_append(dir); break;
		case '3': case_counter(); break;
		case '4': case_fds(dir); break;
		case '5': case_pthread_exit(); break;
		}
	}
	if (made)
		CHECK(rmdir(dir) == 0);
	printf("PASS\n");
	return 0;
}
