/*
 * Extended attributes through blfs: the backing files' own, as the
 * workload may see and change them, with blfs's user.blfs.* kept out of
 * its sight and reach.
 */
#include "config.h"

#include <sys/stat.h>
#include <sys/xattr.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "common/xmalloc.h"
#include "blfs/blfs.h"

/*
 * Extended attributes go through the /proc/self/fd magic link of the
 * inode's O_PATH fd, which leads to exactly that inode: fgetxattr refuses
 * O_PATH fds, and opening files just to read an attribute would block on
 * fifos. Only regular files and directories have any: a magic link to a
 * symlink is not safe to follow, and Linux allows no user.* attribute on
 * symlinks, FIFOs or sockets anyway (those blfs makes are regular files
 * underneath, whose attributes are its own).
 * POSIX ACLs are refused: the kernel checks permissions from the mode
 * alone (default_permissions), so an ACL would only mislead.
 * user.blfs.* is blfs's own (meta.c): to the workload it does not exist,
 * and it cannot be made.
 */
static int
xattr_begin(fuse_req_t req, struct blfs_inode *in, const char *name,
    struct proc_fd_path *pp)
{
	int fd, r;

	if (name != NULL && strncmp(name, "system.posix_acl_", 17) == 0)
		return -EOPNOTSUPP;
	/* Ours, or on a type with none: as if there were no such name. */
	if ((name != NULL && owners_reserved(name)) ||
	    (in->type != S_IFREG && in->type != S_IFDIR))
		return -ENOTSUP;
	if ((r = inode_fd(in, &fd)) != 0)
		return r;
	proc_fd_path(pp, fd, NULL);
	return 0;
}

void
xattr_get(fuse_req_t req, fuse_ino_t ino, const char *name, size_t size)
{
	struct blfs_inode *in = inode_get(ino);
	struct proc_fd_path pp;
	char *buf = NULL;
	ssize_t n;
	int r, err;

	if ((r = xattr_begin(req, in, name, &pp)) != 0) {
		ops_reply_err(req, r == -ENOTSUP ? ENODATA : -r);
		return;
	}
	if (size != 0 && (buf = malloc(size)) == NULL) {
		inode_fd_put(in);
		ops_reply_err(req, ENOMEM);
		return;
	}
	n = getxattr(pp.s, name, buf, size);
	err = errno;
	inode_fd_put(in);
	if (n == -1)
		ops_reply_err(req, err);
	else if (size == 0)
		fuse_reply_xattr(req, (size_t)n);
	else
		fuse_reply_buf(req, buf, (size_t)n);
	free(buf);
}

/*
 * The names of path's attributes without blfs's own: the whole list is
 * read (asking its size first, again if it grew meanwhile) and filtered.
 * The length, and the list in *listp (free it) unless it is empty.
 */
static ssize_t
xattr_list_path(const char *path, char **listp)
{
	char *list = NULL, *p, *q, *end;
	ssize_t n;
	size_t len;
	int tries;

	for (tries = 0; tries < 8; tries++) {
		if ((n = listxattr(path, NULL, 0)) <= 0) {
			free(list);
			return n;
		}
		list = xreallocarray(list, (size_t)n, 1);
		if ((n = listxattr(path, list, (size_t)n)) >= 0 ||
		    errno != ERANGE)
			break;
	}
	if (n <= 0) {
		free(list);
		if (n == -1 && errno == ERANGE)
			errno = EIO;	/* growing faster than we read */
		return n;
	}
	/* Names are NUL-terminated, back to back: keep all but ours. */
	end = list + n;
	for (p = q = list; p < end; p += len + 1) {
		len = strnlen(p, (size_t)(end - p));
		if (owners_reserved(p))
			continue;
		memmove(q, p, len);
		q[len] = '\0';
		q += len + 1;
	}
	*listp = list;
	return q - list;
}

void
xattr_list(fuse_req_t req, fuse_ino_t ino, size_t size)
{
	struct blfs_inode *in = inode_get(ino);
	struct proc_fd_path pp;
	char *list = NULL;
	ssize_t n;
	int r, err;

	if ((r = xattr_begin(req, in, NULL, &pp)) != 0) {
		/* A symlink, FIFO or socket simply has none. */
		if (r == -ENOTSUP && size == 0)
			fuse_reply_xattr(req, 0);
		else if (r == -ENOTSUP)
			fuse_reply_buf(req, NULL, 0);
		else
			ops_reply_err(req, -r);
		return;
	}
	n = xattr_list_path(pp.s, &list);
	err = errno;
	inode_fd_put(in);
	if (n == -1)
		ops_reply_err(req, err);
	else if (size == 0)
		fuse_reply_xattr(req, (size_t)n);
	else if ((size_t)n > size)
		ops_reply_err(req, ERANGE);
	else
		fuse_reply_buf(req, list, (size_t)n);
	free(list);
}

void
xattr_set(fuse_req_t req, fuse_ino_t ino, const char *name,
    const char *value, size_t size, int flags)
{
	struct blfs_inode *in = inode_get(ino);
	struct proc_fd_path pp;
	int r, err;

	if (ops_refuse_ro(req))
		return;
	if ((r = xattr_begin(req, in, name, &pp)) != 0) {
		ops_reply_err(req, r == -ENOTSUP ? EPERM : -r);
		return;
	}
	r = setxattr(pp.s, name, value, size, flags);
	err = errno;
	inode_fd_put(in);
	ops_reply_err(req, r == -1 ? err : 0);
}

void
xattr_remove(fuse_req_t req, fuse_ino_t ino, const char *name)
{
	struct blfs_inode *in = inode_get(ino);
	struct proc_fd_path pp;
	int r, err;

	if (ops_refuse_ro(req))
		return;
	if ((r = xattr_begin(req, in, name, &pp)) != 0) {
		ops_reply_err(req, r == -ENOTSUP ? EPERM : -r);
		return;
	}
	r = removexattr(pp.s, name);
	err = errno;
	inode_fd_put(in);
	ops_reply_err(req, r == -1 ? err : 0);
}
