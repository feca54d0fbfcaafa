// killgroup signals its own process group, which the recorder shares:
// first SIGUSR1, which it handles, then SIGABRT, which kills it. The
// recorder must survive both and finish the trace.
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static volatile sig_atomic_t got;
static void handler(int sig) { got = sig; }

int main(void) {
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = handler;
	sigaction(SIGUSR1, &sa, NULL);
	kill(0, SIGUSR1);
	printf("handled %d\n", (int)got);
	fflush(stdout);
	kill(0, SIGABRT);
	printf("not reached\n");
	return 0;
}
