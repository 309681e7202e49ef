/* SPDX-License-Identifier: Apache-2.0 */
/*
 * kill-after USEC PROGRAM [ARGS...]: run PROGRAM, send it SIGKILL USEC microseconds after the
 * fork (unless it has exited by then), and wait for it. For fault_injection.bats: a crash at
 * a chosen point of a writer's run, with far finer steps than timeout(1) takes.
 *
 * Exit status: 137 when the kill ended the program, else the program's own (128 + signal
 * for another signal, 127 when it could not be started).
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: kill-after USEC PROGRAM [ARGS...]\n");
		return 2;
	}
	char *end;
	long usec = strtol(argv[1], &end, 10);
	if (*end || usec < 0) {
		fprintf(stderr, "kill-after: bad delay '%s'\n", argv[1]);
		return 2;
	}
	pid_t pid = fork();
	if (pid < 0) {
		perror("kill-after: fork");
		return 2;
	}
	if (pid == 0) {
		execvp(argv[2], argv + 2);
		fprintf(stderr, "kill-after: %s: %s\n", argv[2], strerror(errno));
		_exit(127);
	}
	struct timespec ts = {.tv_sec = usec / 1000000, .tv_nsec = (usec % 1000000) * 1000};
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
	kill(pid, SIGKILL); /* harmless when it has exited: it stays a zombie until waited for */
	int st;
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR) {
			perror("kill-after: waitpid");
			return 2;
		}
	if (WIFSIGNALED(st))
		return 128 + WTERMSIG(st);
	return WEXITSTATUS(st);
}
