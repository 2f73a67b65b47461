/*
 * probe NAME...: make each named system call with harmless arguments and
 * print "NAME ok" or "NAME EPERM" (the errno's name), one a line, for the
 * security tests to compare. probe --list names them all.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "tests/security/probe-calls.h"

int
main(int argc, char **argv)
{
	int i, err;

	if (argc < 2) {
		fprintf(stderr, "usage: probe --list | NAME...\n");
		return 2;
	}
	if (strcmp(argv[1], "--list") == 0) {
		probe_list();
		return 0;
	}
	for (i = 1; i < argc; i++) {
		if (probe_call(argv[i], &err) != 0) {
			fprintf(stderr, "probe: no probe named %s\n", argv[i]);
			return 2;
		}
		printf("%s %s\n", argv[i], err == 0 ? "ok" :
		    strerrorname_np(err) != NULL ? strerrorname_np(err) : "E?");
		fflush(stdout);
	}
	return 0;
}
