// ioctl makes a terminal ioctl on a pipe (a real ENOTTY, recorded) and an
// ioctl whose outputs rewind cannot know (refused with ENOTTY and a warning
// naming its request number).
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

int main(void) {
	int p[2];
	pipe(p);
	struct termios t;
	int r = ioctl(p[0], TCGETS, &t);
	printf("TCGETS on a pipe: %d %s\n", r, strerror(errno));
	int n = 0;
	write(p[1], "abc", 3);
	r = ioctl(p[0], FIONREAD, &n);
	printf("FIONREAD: %d %d\n", r, n);
	r = ioctl(p[0], 0x1234, 0);
	printf("ioctl 0x1234: %d %s\n", r, strerror(errno));
	return 0;
}
