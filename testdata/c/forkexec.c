// forkexec forks three children that exec sh, and waits for each.
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>
int main(void) {
	for (int i = 0; i < 3; i++) {
		pid_t p = fork();
		if (p == 0) { printf("child %d pid %d\n", i, getpid()); fflush(stdout); execlp("sh", "sh", "-c", "echo execd $$; exit 5", NULL); _exit(127); }
		int st; waitpid(p, &st, 0);
		printf("parent: child %d exited %d\n", i, WEXITSTATUS(st));
	}
	return 0;
}
