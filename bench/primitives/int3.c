/* Exp 4b: trap round-trip cost of an int3 (#BP) compared with #DB (hw breakpoint): tracee loop
 * contains a literal int3, tracer just waits + GETREGS + CONT. usage: ./int3 [N] */
#include "common.h"
#include <sys/ptrace.h>
#include <sys/user.h>
int main(int argc, char **argv) {
	int N = argc > 1 ? atoi(argv[1]) : 20000;
	pid_t pid = fork();
	if (pid == 0) { pin_cpu(0); raise(SIGSTOP); for (;;) __asm__ volatile("int3; inc %%rbx" ::: "rbx"); }
	pin_cpu(0);
	int st; CHECK(ptrace(PTRACE_SEIZE, pid, 0, 0)); CHECK(waitpid(pid, &st, __WALL)); CHECK(ptrace(PTRACE_CONT, pid, 0, 0));
	uint64_t *t = malloc(8 * N); struct user_regs_struct regs;
	for (int i = 0; i < N; i++) {
		uint64_t t0 = now_ns();
		CHECK(waitpid(pid, &st, __WALL));
		if (WSTOPSIG(st) != SIGTRAP) return 1;
		CHECK(ptrace(PTRACE_GETREGS, pid, 0, &regs));
		CHECK(ptrace(PTRACE_CONT, pid, 0, 0));
		t[i] = now_ns() - t0;
	}
	report("int3 trap: waitpid+GETREGS+CONT (same cpu)", t, N);
	kill(pid, SIGKILL); waitpid(pid, &st, __WALL); return 0;
}
