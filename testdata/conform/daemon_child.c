/* rewind-warns: process\(es\) outlived .* and were killed */
/*
 * daemon_child.c - conformance test: children that outlive the program.
 *
 * Family: process lifetime beyond the main process: the classic double-fork
 * daemon (fork, setsid, fork again, intermediate exits) and a plain orphan
 * that is reparented when its parent exits. The program's own process exits
 * immediately after starting them; it does NOT wait for them.
 *   - daemon D: fork -> intermediate I calls setsid() and forks D, I exits
 *     (reaped by the program). D redirects stdin/stdout/stderr to /dev/null, chdir
 *     "/", umask 0, then blocks on a pipe whose only writer is the program:
 *     EOF means the program has exited. D then checks it is in I's session
 *     and process group (sid == pgid == I's pid, D is not a group leader),
 *     that its parent changed (neither the program nor I), and writes its
 *     report to SCRATCH/daemon.out (write to a temporary name + rename).
 *   - orphan O: a plain child of the program, same process group, waits for
 *     the same EOF, waits until getppid() changes (EOF comes from exit_files,
 *     a little before the kernel reparents the children), writes
 *     SCRATCH/orphan.out.
 *   Both arm alarm(1), so neither can live longer than about 1 second.
 *   The program prints the pids and statuses it saw and exits 0 at once.
 *
 * With a scratch dir argument the two report files are LEFT there for the
 * caller to check (each is one line beginning with "ok " or "FAIL "). Without
 * one, they are written under a mkdtemp dir in /tmp, read back by their
 * writers, and removed (the last one out removes the dir).
 *
 * Why it is hard for record/replay: the recorded "program" ends before all of
 * its processes do. A recorder must decide whether to wait for descendants
 * that left the session (setsid) and were reparented away from it (to init or
 * to a subreaper, possibly the recorder itself, which changes what getppid
 * returns), what exit status to report, and whether the trace is complete
 * while they still run; the replayer must replay processes whose parent is
 * already gone. EOF on a pipe as "my parent has exited" depends on the exact
 * set of processes holding the write end.
 *
 * Build: gcc -O1 -g -pthread -o daemon_child daemon_child.c
 * Usage: daemon_child [scratchdir]
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
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

static char dir[PATH_MAX];
static int keep_files;

/* In D and O: report a failure in the report file and on stderr, then exit. */
static void report(const char *name, const char *line) {
	char path[PATH_MAX + 32], tmp[PATH_MAX + 32];
	snprintf(path, sizeof path, "%s/%s.out", dir, name);
	snprintf(tmp, sizeof tmp, "%s/.%s.tmp", dir, name);
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0)
		_exit(10);
	size_t n = strlen(line);
	if (write(fd, line, n) != (ssize_t)n || fsync(fd) != 0 || close(fd) != 0)
		_exit(11);
	if (rename(tmp, path) != 0)
		_exit(12);
	if (!keep_files) {
		char back[256] = {0};
		fd = open(path, O_RDONLY);
		if (fd < 0 || read(fd, back, sizeof back - 1) != (ssize_t)n || strcmp(back, line) != 0)
			_exit(13);
		close(fd);
		unlink(path);
		rmdir(dir); /* fails with ENOTEMPTY for the first one out: fine */
	}
}

#define SUBCHECK(name, c)                                                                          \
	do {                                                                                       \
		if (!(c)) {                                                                        \
			char l_[256];                                                              \
			snprintf(l_, sizeof l_, "FAIL %s line %d: %s\n", name, __LINE__, #c);      \
			fputs(l_, stderr);                                                         \
			report(name, l_);                                                          \
			_exit(1);                                                                  \
		}                                                                                  \
	} while (0)

static void wait_parent_exit(const char *name, int fd) {
	char c;
	ssize_t r;
	while ((r = read(fd, &c, 1)) == -1 && errno == EINTR)
		;
	SUBCHECK(name, r == 0); /* EOF: the program (only writer) has exited */
}

/* -DLINGER_MS=N (diagnosis only, N < 900): D and O stay alive N ms longer
 * before reporting, to measure whether a recorder waits for them. */
#ifndef LINGER_MS
#define LINGER_MS 0
#endif
static void linger(void) {
	if (LINGER_MS > 0)
		usleep(LINGER_MS * 1000);
}

/* stdin and stdout (and for the daemon stderr too) go to /dev/null, so the
 * program's caller sees EOF on its pipes as soon as the program and the
 * orphan are done; failures are reported in the report files. */
static void to_devnull(int also_stderr) {
	int fd = open("/dev/null", O_RDWR);
	if (fd >= 0) {
		dup2(fd, 0);
		dup2(fd, 1);
		if (also_stderr)
			dup2(fd, 2);
		if (fd > 2)
			close(fd);
	}
}

int main(int argc, char **argv) {
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc > 1) {
		CHECK(realpath(argv[1], dir) != NULL);
		keep_files = 1;
	} else {
		char tmpl[] = "/tmp/daemon_child.XXXXXX";
		CHECK(mkdtemp(tmpl) != NULL);
		snprintf(dir, sizeof dir, "%s", tmpl);
	}
	pid_t prog = getpid(), prog_pgrp = getpgrp(), prog_sid = getsid(0);
	int alive[2], info[2];
	CHECK(pipe(alive) == 0 && pipe(info) == 0);
	fflush(stdout);

	/* ---- the double-fork daemon ---- */
	pid_t mid = fork();
	CHECK(mid >= 0);
	if (mid == 0) {
		close(alive[1]);
		close(info[0]);
		pid_t sid = setsid();
		if (sid != getpid())
			_exit(20);
		pid_t d = fork();
		if (d < 0)
			_exit(21);
		if (d == 0) {
			close(info[1]);
			alarm(1);
			to_devnull(1);
			if (chdir("/") != 0)
				_exit(22);
			umask(0);
			wait_parent_exit("daemon", alive[0]);
			pid_t me = getpid(), pp = getppid();
			SUBCHECK("daemon", getsid(0) == sid);
			SUBCHECK("daemon", getpgrp() == sid);
			SUBCHECK("daemon", me != sid);
			SUBCHECK("daemon", pp != sid && pp != prog);
			SUBCHECK("daemon", getpgid(0) != prog_pgrp);
			char line[256];
			snprintf(line, sizeof line,
				 "ok daemon pid=%d sid=%d pgid=%d (intermediate %d), reparented from %d to %d\n",
				 (int)me, (int)getsid(0), (int)getpgrp(), (int)sid, (int)prog, (int)pp);
			linger();
			report("daemon", line);
			_exit(0);
		}
		char msg[32];
		int n = snprintf(msg, sizeof msg, "%d", (int)d);
		_exit(write(info[1], msg, n) == n ? 0 : 23);
	}

	/* ---- the plain orphan ---- */
	pid_t orphan = fork();
	CHECK(orphan >= 0);
	if (orphan == 0) {
		close(alive[1]);
		close(info[0]);
		close(info[1]);
		alarm(1);
		to_devnull(0);
		wait_parent_exit("orphan", alive[0]);
		/* EOF comes when the program's files are closed, early in its exit;
		 * the reparenting happens a little later (exit_notify): poll for it. */
		pid_t pp;
		for (int i = 0; (pp = getppid()) == prog && i < 3000; i++)
			usleep(200);
		SUBCHECK("orphan", pp != prog);
		SUBCHECK("orphan", getpgrp() == prog_pgrp && getsid(0) == prog_sid);
		char line[256];
		snprintf(line, sizeof line, "ok orphan pid=%d pgid=%d, reparented from %d to %d\n", (int)getpid(),
			 (int)getpgrp(), (int)prog, (int)pp);
		linger();
		report("orphan", line);
		_exit(0);
	}

	close(alive[0]);
	close(info[1]);
	char buf[32] = {0};
	ssize_t n = read(info[0], buf, sizeof buf - 1);
	CHECK(n > 0);
	pid_t daemon_pid = atoi(buf);
	int st;
	CHECK(waitpid(mid, &st, 0) == mid);
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	CHECK(daemon_pid > 0 && daemon_pid != mid);
	CHECK(getsid(daemon_pid) == mid); /* the daemon is in the intermediate's new session */
	CHECK(getpgid(daemon_pid) == mid);
	CHECK(getpgid(orphan) == prog_pgrp);
	CHECK(waitpid(-1, &st, WNOHANG) == 0); /* the orphan is still running */
	printf("program %d: intermediate %d exited 0 after setsid; daemon %d in session %d; orphan %d in our group\n",
	       (int)prog, (int)mid, (int)daemon_pid, (int)getsid(daemon_pid), (int)orphan);
	printf("program exits now without waiting; reports go to %s\n", keep_files ? dir : "(temporary dir)");
	return 0; /* closes alive[1]: the daemon and the orphan see EOF */
}
