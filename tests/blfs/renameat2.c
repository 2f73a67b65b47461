/*
 * renameat2(2) from the shell: renameat2 [noreplace|exchange|whiteout]
 * OLD NEW; prints nothing, exits 0, or prints the errno name and exits 1.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>

int
main(int argc, char **argv)
{
	unsigned flags = 0;

	if (argc != 4) {
		fprintf(stderr, "usage: renameat2 none|noreplace|exchange|"
		    "whiteout OLD NEW\n");
		return 2;
	}
	if (strcmp(argv[1], "noreplace") == 0)
		flags = RENAME_NOREPLACE;
	else if (strcmp(argv[1], "exchange") == 0)
		flags = RENAME_EXCHANGE;
	else if (strcmp(argv[1], "whiteout") == 0)
		flags = RENAME_WHITEOUT;
	if (renameat2(AT_FDCWD, argv[2], AT_FDCWD, argv[3], flags) == -1) {
		printf("%s\n", strerrorname_np(errno));
		return 1;
	}
	return 0;
}
