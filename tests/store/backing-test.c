/*
 * mountmgr/backing.c: what the agent registers for blfs. Only a regular
 * file opened for reading and writing (for reading on a read-only mount)
 * reaches the kernel; with no /dev/fuse fd the answer is ENOTCONN, which
 * tells that the file passed every check.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mountmgr/backing.h"
#include "tests/tap.h"

static void
is(int got, int want, const char *name)
{
	tap_ok(got == want, "%s: expected %s, got %s", name,
	    want ? strerror(-want) : "0", got < 0 ? strerror(-got) : "an id");
}

int
main(void)
{
	char dir[] = "/tmp/backing-test.XXXXXX", path[64], answer[64];
	int rw, ro, wo, op, d, sfd;
	unsigned held;

	if (mkdtemp(dir) == NULL)
		perror("mkdtemp"), exit(99);
	snprintf(path, sizeof(path), "%s/f", dir);
	if ((rw = open(path, O_RDWR | O_CREAT, 0600)) == -1 ||
	    (ro = open(path, O_RDONLY)) == -1 ||
	    (wo = open(path, O_WRONLY)) == -1 ||
	    (op = open(path, O_PATH)) == -1 ||
	    (d = open(dir, O_RDONLY | O_DIRECTORY)) == -1 ||
	    (sfd = open("/dev/null", O_RDWR)) == -1)
		perror(path), exit(99);

	is(backing_register(-1, rw, 0), -ENOTCONN,
	    "read-write file on a read-write mount passes the checks");
	is(backing_register(-1, ro, 0), -EACCES,
	    "read-only file on a read-write mount is refused");
	is(backing_register(-1, wo, 0), -EACCES,
	    "write-only file is refused");
	is(backing_register(-1, op, 0), -EACCES, "O_PATH fd is refused");
	is(backing_register(-1, op, 1), -EACCES,
	    "O_PATH fd is refused on a read-only mount too");
	is(backing_register(-1, ro, 1), -ENOTCONN,
	    "read-only file on a read-only mount passes the checks");
	is(backing_register(-1, rw, 1), -ENOTCONN,
	    "read-write file on a read-only mount passes the checks");
	is(backing_register(-1, d, 0), -EINVAL, "a directory is refused");
	is(backing_register(-1, sfd, 0), -EINVAL, "a device is refused");
	is(backing_register(-1, -1, 0), -EBADF, "no fd came");
	held = 0;
	backing_answer(-1, ro, 0, &held, answer, sizeof(answer));
	tap_is_str(answer, BACKING_ASK " -13\n", "the answer line");
	held = BACKING_MAX;
	backing_answer(-1, rw, 0, &held, answer, sizeof(answer));
	tap_is_str(answer, BACKING_ASK " -24\n",
	    "past BACKING_MAX registrations a mount gets EMFILE");
	backing_unregister(-1, "1", &held);
	tap_ok(held == BACKING_MAX, "an unbacking the kernel did not take "
	    "counts nothing out");

	unlink(path);
	rmdir(dir);
	return tap_done();
}
