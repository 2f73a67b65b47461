/*
 * Holds a mount lock of a drive in a store, as a mount does, until its
 * stdin closes: "another process holds a mount lock" for the ceph tests.
 *   hold-lock STORE CONF KEYRING DRIVE SESSION [ro]
 * Prints "held" once the lock is held, or the store's cause and exits 1.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mountmgr/store.h"

int
main(int argc, char **argv)
{
	struct store_options	 o = { 0 };
	struct store		*s = NULL;
	char			*cause = NULL, buf[64];
	int			 fd, r;

	if (argc < 6 || argc > 7 || (argc == 7 && strcmp(argv[6], "ro") != 0)) {
		fprintf(stderr, "usage: hold-lock STORE CONF KEYRING DRIVE "
		    "SESSION [ro]\n");
		return 2;
	}
	store_options_set(&o, "ceph-conf", argv[2]);
	store_options_set(&o, "ceph-keyring", argv[3]);
	if ((r = store_open_opts(argv[1], 0, &o, &s, &cause)) != 0 ||
	    (r = store_mount_lock(s, argv[4], argv[5], argc == 7, &fd,
	    &cause)) != 0) {
		printf("error %s: %s\n", strerror(-r), cause);
		free(cause);
		store_free(s);
		return 1;
	}
	printf("held\n");
	fflush(stdout);
	while (read(0, buf, sizeof buf) > 0 || errno == EINTR)
		continue;
	if (fd != -1)
		close(fd);
	store_free(s);
	return 0;
}
