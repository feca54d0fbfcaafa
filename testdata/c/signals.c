// signals exercises one signal case per argument: synchronous faults with
// handlers, signals sent to itself, timers, signalfd, sigaltstack, EINTR and
// SA_RESTART, sigsuspend/sigtimedwait, and fatal default actions. Each case
// prints what it observed; replay must print the same.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static sigjmp_buf jb;
static volatile sig_atomic_t hits;
static volatile void *fault_addr;

static void on_fault(int sig, siginfo_t *si, void *uc) {
	(void)uc;
	hits++;
	fault_addr = si->si_addr;
	siglongjmp(jb, sig);
}

static void on_count(int sig) { (void)sig; hits++; }

static void handle(int sig, void (*fn)(int, siginfo_t *, void *), int flags) {
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_sigaction = fn;
	sa.sa_flags = SA_SIGINFO | flags;
	sigaction(sig, &sa, NULL);
}

static void handle_simple(int sig, void (*fn)(int), int flags) {
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = fn;
	sa.sa_flags = flags;
	sigaction(sig, &sa, NULL);
}

static int faults(void) {
	handle(SIGSEGV, on_fault, 0);
	handle(SIGFPE, on_fault, 0);
	handle(SIGILL, on_fault, 0);
	handle(SIGTRAP, on_fault, 0);
	handle(SIGBUS, on_fault, 0);
	int sig;
	if ((sig = sigsetjmp(jb, 1)) == 0) *(volatile int *)16 = 1;
	printf("SIGSEGV recovered: sig %d addr %p\n", sig, (void *)fault_addr);
	if ((sig = sigsetjmp(jb, 1)) == 0) { volatile int a = 1, z = 0; printf("%d\n", a / z); }
	printf("SIGFPE recovered: sig %d\n", sig);
	if ((sig = sigsetjmp(jb, 1)) == 0) __asm__ volatile("ud2");
	printf("SIGILL recovered: sig %d\n", sig);
	if ((sig = sigsetjmp(jb, 1)) == 0) __asm__ volatile("int3");
	printf("SIGTRAP recovered: sig %d\n", sig);
	char path[] = "/tmp/rewind-sigbus-XXXXXX";
	int fd = mkstemp(path);
	unlink(path);
	char *m = mmap(NULL, 8192, PROT_READ, MAP_PRIVATE, fd, 0);
	if ((sig = sigsetjmp(jb, 1)) == 0) printf("%d\n", m[4096]);
	printf("SIGBUS recovered: sig %d, %d faults\n", sig, (int)hits);
	return 0;
}

static int self(void) {
	handle_simple(SIGUSR1, on_count, 0);
	handle_simple(SIGUSR2, on_count, 0);
	kill(getpid(), SIGUSR1);
	raise(SIGUSR2);
	syscall(SYS_tgkill, getpid(), gettid(), SIGUSR1);
	printf("self-sent signals handled: %d\n", (int)hits);
	return 0;
}

static int timers(void) {
	handle_simple(SIGALRM, on_count, 0);
	alarm(1);
	pause();
	printf("alarm woke pause: %d\n", (int)hits);
	struct itimerval it = {{0, 2000}, {0, 2000}};
	setitimer(ITIMER_REAL, &it, NULL);
	long spins = 0;
	while (hits < 5) { getppid(); spins++; }
	struct itimerval off = {{0, 0}, {0, 0}};
	setitimer(ITIMER_REAL, &off, NULL);
	printf("setitimer: %d signals after %ld syscalls\n", (int)hits, spins);
	timer_t tm;
	struct sigevent sev = {.sigev_notify = SIGEV_SIGNAL, .sigev_signo = SIGUSR1};
	handle_simple(SIGUSR1, on_count, 0);
	timer_create(CLOCK_MONOTONIC, &sev, &tm);
	struct itimerspec ts = {{0, 0}, {0, 1000000}};
	timer_settime(tm, 0, &ts, NULL);
	while (hits < 6) getppid();
	printf("timer_create fired: %d\n", (int)hits);
	return 0;
}

static int sigfd(void) {
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigprocmask(SIG_BLOCK, &set, NULL);
	int fd = signalfd(-1, &set, 0);
	kill(getpid(), SIGUSR1);
	struct signalfd_siginfo si;
	ssize_t n = read(fd, &si, sizeof si);
	printf("signalfd read %zd: signo %u pid-matches %d\n", n, si.ssi_signo, si.ssi_pid == (unsigned)getpid());
	return 0;
}

static void on_alt(int sig) {
	int local;
	(void)sig;
	printf("handler on alternate stack: %d\n", (char *)&local > (char *)fault_addr && (char *)&local < (char *)fault_addr + 65536);
}

static int altstack(void) {
	stack_t ss = {.ss_sp = malloc(65536), .ss_size = 65536};
	fault_addr = ss.ss_sp;
	sigaltstack(&ss, NULL);
	handle_simple(SIGUSR1, on_alt, SA_ONSTACK);
	raise(SIGUSR1);
	return 0;
}

static int eintr(void) {
	int p[2];
	pipe(p);
	handle_simple(SIGUSR1, on_count, 0);
	handle_simple(SIGUSR2, on_count, SA_RESTART);
	pid_t child = fork();
	if (child == 0) {
		close(p[0]);
		kill(getppid(), SIGUSR1);
		kill(getppid(), SIGUSR2);
		write(p[1], "x", 1);
		_exit(0);
	}
	close(p[1]);
	char c;
	ssize_t n;
	int eintrs = 0;
	while ((n = read(p[0], &c, 1)) < 0 && errno == EINTR) eintrs++;
	waitpid(child, NULL, 0);
	printf("read %zd after signals (%d handled)\n", n, (int)hits);
	(void)eintrs;
	return 0;
}

static int waits(void) {
	sigset_t set, old;
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigaddset(&set, SIGUSR2);
	sigprocmask(SIG_BLOCK, &set, &old);
	handle_simple(SIGUSR1, on_count, 0);
	raise(SIGUSR1);
	sigsuspend(&old);
	printf("sigsuspend returned after %d\n", (int)hits);
	raise(SIGUSR2);
	siginfo_t si;
	int sig = sigtimedwait(&set, &si, &(struct timespec){1, 0});
	printf("sigtimedwait got %d code %d\n", sig, si.si_code);
	struct timespec zero = {0, 0};
	sig = sigtimedwait(&set, &si, &zero);
	printf("sigtimedwait timed out: %d %s\n", sig, strerror(errno));
	return 0;
}

static int chld(void) {
	handle_simple(SIGCHLD, on_count, 0);
	pid_t c = fork();
	if (c == 0) _exit(3);
	int st;
	while (waitpid(c, &st, 0) < 0 && errno == EINTR) {}
	printf("child exited %d, SIGCHLD handled %d\n", WEXITSTATUS(st), (int)hits);
	return 0;
}

int main(int argc, char **argv) {
	setvbuf(stdout, NULL, _IONBF, 0);
	const char *c = argc > 1 ? argv[1] : "";
	if (!strcmp(c, "faults")) return faults();
	if (!strcmp(c, "self")) return self();
	if (!strcmp(c, "timers")) return timers();
	if (!strcmp(c, "signalfd")) return sigfd();
	if (!strcmp(c, "altstack")) return altstack();
	if (!strcmp(c, "eintr")) return eintr();
	if (!strcmp(c, "waits")) return waits();
	if (!strcmp(c, "sigchld")) return chld();
	if (!strcmp(c, "segv")) { printf("about to crash\n"); *(volatile int *)8 = 0; }
	if (!strcmp(c, "abort")) { printf("about to abort\n"); abort(); }
	fprintf(stderr, "usage: signals CASE\n");
	return 2;
}
