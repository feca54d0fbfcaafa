/* Exp 4: hardware execution breakpoint hit cost via ptrace debug registers vs PTRACE_SINGLESTEP.
 * usage: ./hwbp [N] [pin: 0 unpinned, 1 same cpu, 2 different cpus] */
#include "common.h"
#include <stddef.h>
#include <sys/ptrace.h>
#include <sys/user.h>

extern char loop_insn[];
static void __attribute__((noinline, noreturn)) child_loop(void) {
	/* rbx counts loop iterations; breakpoint on loop_insn */
	__asm__ volatile(
		"xor %%ebx, %%ebx\n"
		"1:\n"
		".globl loop_insn\n"
		"loop_insn:\n"
		"  inc %%rbx\n"
		"  add $3, %%rcx\n"
		"  xor %%rcx, %%rdx\n"
		"  jmp 1b\n" ::: "rbx", "rcx", "rdx", "memory");
	__builtin_unreachable();
}

int main(int argc, char **argv) {
	int N = argc > 1 ? atoi(argv[1]) : 20000, pin = argc > 2 ? atoi(argv[2]) : 0;
	pid_t pid = fork();
	if (pid == 0) { if (pin) pin_cpu(pin == 1 ? 0 : 1); raise(SIGSTOP); child_loop(); }
	if (pin) pin_cpu(0);
	int st; CHECK(ptrace(PTRACE_SEIZE, pid, 0, 0));
	CHECK(waitpid(pid, &st, __WALL));  /* SIGSTOP signal-delivery-stop */
	/* DR0 = address, DR7: L0=1, RW0=00 (exec), LEN0=00 (must be 0 for exec) */
	CHECK(ptrace(PTRACE_POKEUSER, pid, offsetof(struct user, u_debugreg[0]), loop_insn));
	CHECK(ptrace(PTRACE_POKEUSER, pid, offsetof(struct user, u_debugreg[7]), 0x1));
	CHECK(ptrace(PTRACE_CONT, pid, 0, 0));   /* suppress SIGSTOP */
	uint64_t *t = malloc(8 * N), *tw = malloc(8 * N), *tg = malloc(8 * N), *td = malloc(8 * N), *tc = malloc(8 * N); struct user_regs_struct regs; unsigned long long last = 0;
	for (int i = 0; i < N; i++) {
		uint64_t t0 = now_ns();
		CHECK(waitpid(pid, &st, __WALL));
		uint64_t t1 = now_ns();
		CHECK(ptrace(PTRACE_GETREGS, pid, 0, &regs));
		uint64_t t2 = now_ns();
		if (!WIFSTOPPED(st) || WSTOPSIG(st) != SIGTRAP || regs.rip != (uintptr_t)loop_insn) { fprintf(stderr, "unexpected stop %#x rip=%llx\n", st, regs.rip); return 1; }
		if (i && regs.rbx != last + 1) { fprintf(stderr, "missed/duplicate hit: rbx %llu -> %llu\n", last, regs.rbx); return 1; }
		last = regs.rbx;
		/* DR6 is read by real matchers to confirm the cause; measure it too every hit */
		errno = 0; long dr6 = ptrace(PTRACE_PEEKUSER, pid, offsetof(struct user, u_debugreg[6]), 0);
		if (errno || !(dr6 & 1)) { fprintf(stderr, "DR6=%lx\n", dr6); return 1; }
		uint64_t t3 = now_ns();
		CHECK(ptrace(PTRACE_CONT, pid, 0, 0));
		uint64_t t4 = now_ns();
		t[i] = t4 - t0; tw[i] = t1 - t0; tg[i] = t2 - t1; td[i] = t3 - t2; tc[i] = t4 - t3;  /* includes previous CONT latency to re-hit: one full iteration */
	}
	printf("pin=%d\n", pin);
	report("HW exec breakpoint: CONT->hit->waitpid+GETREGS+PEEK DR6", t, N);
	report("  waitpid (tracee runs to next hit)", tw, N);
	report("  PTRACE_GETREGS", tg, N);
	report("  PTRACE_PEEKUSER(DR6)", td, N);
	report("  PTRACE_CONT syscall", tc, N);
	/* single-step: disable breakpoint, step N instructions */
	CHECK(waitpid(pid, &st, __WALL));
	CHECK(ptrace(PTRACE_POKEUSER, pid, offsetof(struct user, u_debugreg[7]), 0));
	for (int i = 0; i < N; i++) {
		uint64_t t0 = now_ns();
		CHECK(ptrace(PTRACE_SINGLESTEP, pid, 0, 0));
		CHECK(waitpid(pid, &st, __WALL));
		CHECK(ptrace(PTRACE_GETREGS, pid, 0, &regs));
		t[i] = now_ns() - t0;
	}
	report("PTRACE_SINGLESTEP + waitpid + GETREGS (per instruction)", t, N);
	printf("(loop is 4 instructions; rbx=%llu at end)\n", regs.rbx);
	/* does merely having a breakpoint armed (never hit) slow down a stop/resume cycle? */
	for (int armed = 0; armed < 2; armed++) {
		CHECK(ptrace(PTRACE_POKEUSER, pid, offsetof(struct user, u_debugreg[0]), (void *)main));
		CHECK(ptrace(PTRACE_POKEUSER, pid, offsetof(struct user, u_debugreg[7]), armed ? 1 : 0));
		CHECK(ptrace(PTRACE_CONT, pid, 0, 0));
		for (int i = 0; i < N; i++) {
			uint64_t t0 = now_ns();
			CHECK(ptrace(PTRACE_INTERRUPT, pid, 0, 0));
			CHECK(waitpid(pid, &st, __WALL));
			CHECK(ptrace(PTRACE_CONT, pid, 0, 0));
			t[i] = now_ns() - t0;
		}
		CHECK(ptrace(PTRACE_INTERRUPT, pid, 0, 0)); CHECK(waitpid(pid, &st, __WALL));
		report(armed ? "INTERRUPT+wait+CONT, DR7 armed on never-hit addr" : "INTERRUPT+wait+CONT, no breakpoint armed", t, N);
	}
	kill(pid, SIGKILL); waitpid(pid, &st, __WALL);
	return 0;
}
