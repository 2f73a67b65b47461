/*
 * Test helper: confine ourselves as the agent confines a blfs child (and,
 * with --seccomp, as blfs confines itself), then exec the rest of argv.
 * The tests read the result from the exec'd program's /proc/self/status,
 * watch the exec itself die of SIGSYS, or (--call NAME) make one probe
 * call in-process, as blfs would, and print its result. --compiled: the
 * filter compiled beforehand and handed over by fd, as the agent hands
 * it to blfs, not built in place.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "sandboxing/sandbox.h"
#include "tests/security/probe-calls.h"

int
main(int argc, char **argv)
{
	char *cause = NULL;
	const char *call = NULL;
	int i = 1, harden = 0, child = 1, seccomp = 0, compiled = 0, ro = 0;
	int err, fd;

	log_init("blfs-child", LOG_LVL_DEBUG);
	for (; i < argc && argv[i][0] == '-'; i++) {
		if (strcmp(argv[i], "--harden") == 0)
			harden = 1;
		else if (strcmp(argv[i], "--harden-only") == 0)
			harden = 1, child = 0;
		else if (strcmp(argv[i], "--seccomp") == 0)
			seccomp = 1;
		else if (strcmp(argv[i], "--compiled") == 0)
			compiled = 1;
		else if (strcmp(argv[i], "--read-only") == 0)
			ro = 1;		/* the filter of a read-only mount's */
		else if (strcmp(argv[i], "--sanitizers") == 0) {
			/* The filter allows more in sanitizer builds. */
#if defined(__SANITIZE_ADDRESS__)
			puts("yes");
#else
			puts("no");
#endif
			return 0;
		} else if (strcmp(argv[i], "--call") == 0 && i + 1 < argc)
			call = argv[++i];
		else if (strcmp(argv[i], "--") == 0) {
			i++;
			break;
		} else {
			fprintf(stderr, "usage: blfs-child [--harden|--harden-only] "
			    "[--seccomp [--compiled] [--read-only]] [--call NAME] -- "
			    "COMMAND [ARG...]\n");
			return 2;
		}
	}
	if (i >= argc && call == NULL) {
		fprintf(stderr, "blfs-child: no command\n");
		return 2;
	}
	/* The agent hardens itself first; its children inherit that. */
	if (harden && sandbox_agent_harden(&cause) != 0) {
		fprintf(stderr, "blfs-child: harden: %s\n", cause);
		return 1;
	}
	if (child)
		sandbox_blfs_child();
	if (seccomp && compiled) {
		if (sandbox_blfs_filters_prepare(&cause) != 0) {
			fprintf(stderr, "blfs-child: compiling: %s\n", cause);
			return 1;
		}
		if ((fd = sandbox_blfs_filter_fd(ro, 0)) == -1) {
			fprintf(stderr, "blfs-child: no compiled filter\n");
			return 1;
		}
		if (sandbox_blfs_seccomp_fd(fd, &cause) != 0) {
			fprintf(stderr, "blfs-child: seccomp: %s\n", cause);
			return 1;
		}
	} else if (seccomp && sandbox_blfs_seccomp(ro, &cause) != 0) {
		fprintf(stderr, "blfs-child: seccomp: %s\n", cause);
		return 1;
	}
	/* In-process, as blfs itself would make the call. */
	if (call != NULL) {
		if (probe_call(call, &err) != 0) {
			fprintf(stderr, "blfs-child: no probe %s\n", call);
			return 2;
		}
		printf("%s %s\n", call, err == 0 ? "ok" :
		    strerrorname_np(err) != NULL ? strerrorname_np(err) : "E?");
		return 0;
	}
	execvp(argv[i], argv + i);
	perror(argv[i]);
	return 127;
}
