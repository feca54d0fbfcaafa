/* Exp 1: cost of stopping a CPU-spinning tracee and reading its state.
 * usage: ./preempt [N] [pin: 0=unpinned 1=same cpu 2=different cpus] [gap_us] */
#include "common.h"
#include <sys/ptrace.h>
#include <sys/user.h>
#include <elf.h>

#ifndef PTRACE_EVENT_STOP
#define PTRACE_EVENT_STOP 128
#endif
static volatile uint64_t counter;

static void spin(void) { for (;;) counter++; }

int main(int argc, char **argv) {
	int N = argc > 1 ? atoi(argv[1]) : 5000;
	int pin = argc > 2 ? atoi(argv[2]) : 0;
	int gap = argc > 3 ? atoi(argv[3]) : 200;   /* let tracee run gap_us between preemptions */
	pid_t pid = fork();
	if (pid == 0) { if (pin) pin_cpu(pin == 1 ? 0 : 1); spin(); }
	if (pin) pin_cpu(0);
	CHECK(ptrace(PTRACE_SEIZE, pid, 0, 0));
	uint64_t *t_stop = malloc(N * 8), *t_regs = malloc(N * 8), *t_xs = malloc(N * 8), *t_cont = malloc(N * 8), *t_tot = malloc(N * 8);
	static uint8_t xbuf[16384];
	struct user_regs_struct regs; int st; size_t xsize = 0;
	struct timespec gapts = { 0, gap * 1000L };

	/* --- A: PTRACE_INTERRUPT -> PTRACE_EVENT_STOP --- */
	for (int i = 0; i < N; i++) {
		nanosleep(&gapts, 0);
		uint64_t t0 = now_ns();
		CHECK(ptrace(PTRACE_INTERRUPT, pid, 0, 0));
		CHECK(waitpid(pid, &st, __WALL));
		uint64_t t1 = now_ns();
		if (!WIFSTOPPED(st) || (st >> 16) != PTRACE_EVENT_STOP) { fprintf(stderr, "unexpected status %#x\n", st); return 1; }
		CHECK(ptrace(PTRACE_GETREGS, pid, 0, &regs));
		uint64_t t2 = now_ns();
		struct iovec iov = { xbuf, sizeof xbuf };
		CHECK(ptrace(PTRACE_GETREGSET, pid, (void *)NT_X86_XSTATE, &iov));
		xsize = iov.iov_len;
		uint64_t t3 = now_ns();
		CHECK(ptrace(PTRACE_CONT, pid, 0, 0));
		uint64_t t4 = now_ns();
		t_stop[i] = t1 - t0; t_regs[i] = t2 - t1; t_xs[i] = t3 - t2; t_cont[i] = t4 - t3; t_tot[i] = t4 - t0;
	}
	printf("pin=%d gap=%dus xstate size=%zu bytes\n", pin, gap, xsize);
	report("A PTRACE_INTERRUPT -> waitpid(EVENT_STOP)", t_stop, N);
	report("  PTRACE_GETREGS", t_regs, N);
	report("  PTRACE_GETREGSET(NT_X86_XSTATE)", t_xs, N);
	report("  PTRACE_CONT (syscall return)", t_cont, N);
	report("  total interrupt+regs+xstate+cont", t_tot, N);

	/* --- B: tgkill(SIGSTKFLT) -> signal-delivery-stop, suppress on CONT --- */
	for (int i = 0; i < N; i++) {
		nanosleep(&gapts, 0);
		uint64_t t0 = now_ns();
		CHECK(syscall(SYS_tgkill, pid, pid, SIGSTKFLT));
		CHECK(waitpid(pid, &st, __WALL));
		uint64_t t1 = now_ns();
		if (!WIFSTOPPED(st) || WSTOPSIG(st) != SIGSTKFLT || (st >> 16)) { fprintf(stderr, "unexpected status %#x\n", st); return 1; }
		CHECK(ptrace(PTRACE_GETREGS, pid, 0, &regs));
		uint64_t t2 = now_ns();
		struct iovec iov = { xbuf, sizeof xbuf };
		CHECK(ptrace(PTRACE_GETREGSET, pid, (void *)NT_X86_XSTATE, &iov));
		uint64_t t3 = now_ns();
		CHECK(ptrace(PTRACE_CONT, pid, 0, 0)); /* sig 0: suppress */
		uint64_t t4 = now_ns();
		t_stop[i] = t1 - t0; t_regs[i] = t2 - t1; t_xs[i] = t3 - t2; t_cont[i] = t4 - t3; t_tot[i] = t4 - t0;
	}
	report("B tgkill(SIGSTKFLT) -> waitpid(signal-delivery-stop)", t_stop, N);
	report("  PTRACE_GETREGS", t_regs, N);
	report("  PTRACE_GETREGSET(NT_X86_XSTATE)", t_xs, N);
	report("  PTRACE_CONT(sig=0)", t_cont, N);
	report("  total signal+regs+xstate+cont", t_tot, N);

	/* --- C: PTRACE_INTERRUPT + waitpid round trip with no gap (back-to-back) --- */
	for (int i = 0; i < N; i++) {
		uint64_t t0 = now_ns();
		CHECK(ptrace(PTRACE_INTERRUPT, pid, 0, 0));
		CHECK(waitpid(pid, &st, __WALL));
		CHECK(ptrace(PTRACE_CONT, pid, 0, 0));
		t_tot[i] = now_ns() - t0;
	}
	report("C back-to-back INTERRUPT+wait+CONT (no regs, gap 0)", t_tot, N);

	/* --- D: like A but tracer busy-polls waitpid(WNOHANG) instead of sleeping --- */
	for (int i = 0; i < N; i++) {
		nanosleep(&gapts, 0);
		uint64_t t0 = now_ns();
		CHECK(ptrace(PTRACE_INTERRUPT, pid, 0, 0));
		while (waitpid(pid, &st, __WALL | WNOHANG) == 0) ;
		uint64_t t1 = now_ns();
		CHECK(ptrace(PTRACE_GETREGS, pid, 0, &regs));
		struct iovec iov = { xbuf, sizeof xbuf };
		CHECK(ptrace(PTRACE_GETREGSET, pid, (void *)NT_X86_XSTATE, &iov));
		CHECK(ptrace(PTRACE_CONT, pid, 0, 0));
		uint64_t t4 = now_ns();
		t_stop[i] = t1 - t0; t_tot[i] = t4 - t0;
	}
	report("D INTERRUPT -> busy-poll waitpid(WNOHANG)", t_stop, N);
	report("  total D (interrupt+regs+xstate+cont)", t_tot, N);
	kill(pid, SIGKILL); waitpid(pid, &st, __WALL);
	return 0;
}
