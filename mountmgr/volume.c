/*
 * Volumes on the posix store: making and growing ext4 images with
 * e2fsprogs, run as programs (mkfs.ext4, e2fsck, resize2fs and tar are
 * what every administrator trusts with a file system; their formats are
 * not ours to write again).
 */
#include "config.h"

#include <sys/stat.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/util.h"
#include "common/xmalloc.h"
#include "mountmgr/drive.h"
#include "mountmgr/store.h"
#include "mountmgr/store-posix.h"
#include "mountmgr/volume.h"

/* What a program said, kept for the cause: its last lines. */
#define VOLUME_OUTPUT_MAX	1024
#define VOLUME_TEMPLATE_DIR	".template"

/*
 * Runs argv (argv[0] looked up in the system's sbin and bin) with
 * stdout and stderr collected, in the directory cwdfd (or ours with -1),
 * keeping fd keep open across exec (-1: none). Its exit status (0-255),
 * or -1 when it could not run or died of a signal; *out holds the tail
 * of its output, control bytes made '?', on every return.
 */
static int
volume_run(char *const argv[], int cwdfd, int keep, char **out)
{
	static char *const env[] = { "PATH=/usr/sbin:/usr/bin:/sbin:/bin",
	    "LC_ALL=C", NULL };
	char buf[VOLUME_OUTPUT_MAX], chunk[512];
	size_t len = 0;
	ssize_t n;
	int pfd[2], status;
	pid_t pid;

	*out = NULL;
	if (pipe2(pfd, O_CLOEXEC) == -1) {
		xasprintf(out, "pipe: %s", strerror(errno));
		return -1;
	}
	if ((pid = fork()) == -1) {
		xasprintf(out, "fork: %s", strerror(errno));
		close(pfd[0]);
		close(pfd[1]);
		return -1;
	}
	if (pid == 0) {
		if (dup2(pfd[1], 1) == -1 || dup2(pfd[1], 2) == -1)
			_exit(127);
		if (cwdfd != -1 && fchdir(cwdfd) == -1)
			_exit(127);
		if (keep != -1)
			fd_set_cloexec(keep, 0);
		execvpe(argv[0], argv, env);
		dprintf(2, "cannot run %s: %s", argv[0], strerror(errno));
		_exit(127);
	}
	close(pfd[1]);
	/* Keep the end: that is where programs say what went wrong. */
	while ((n = read(pfd[0], chunk, sizeof(chunk))) != 0) {
		if (n == -1) {
			if (errno == EINTR)
				continue;
			break;
		}
		/* chunk is smaller than buf: the end always fits. */
		if (len + (size_t)n > sizeof(buf) - 1) {
			size_t drop = len + (size_t)n - (sizeof(buf) - 1);

			memmove(buf, buf + drop, len - drop);
			len -= drop;
		}
		memcpy(buf + len, chunk, (size_t)n);
		len += (size_t)n;
	}
	close(pfd[0]);
	while (len > 0 && (buf[len - 1] == '\n' || buf[len - 1] == ' '))
		len--;
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)buf[i] < 0x20 || buf[i] == 0x7f)
			buf[i] = buf[i] == '\n' ? ' ' : '?';
	buf[len] = '\0';
	*out = xstrdup(buf);
	while (waitpid(pid, &status, 0) == -1)
		if (errno != EINTR)
			return -1;
	if (!WIFEXITED(status))
		return -1;
	return WEXITSTATUS(status);
}

/* "program exited with status N: what it said", for a cause. */
static int
volume_ran_badly(char **cause, int err, const char *drive, const char *what,
    int status, const char *said)
{
	if (status == -1)
		return cause_fail(cause, err, "volume %s: %s failed: %s", drive,
		    what, said != NULL && *said != '\0' ? said : "no output");
	return cause_fail(cause, err, "volume %s: %s exited with status %d%s%s",
	    drive, what, status, said != NULL && *said != '\0' ? ": " : "",
	    said != NULL ? said : "");
}

/*
 * A template archive unpacked into dirfd/VOLUME_TEMPLATE_DIR; *srcfd its
 * O_PATH fd, for mkfs.ext4 -d.
 */
static int
volume_unpack(int dirfd, const char *drive, const char *archive, int *srcfd,
    char **cause)
{
	char *argv[] = { "tar", "--extract", "--file", (char *)archive,
	    "--numeric-owner", "--same-owner", "--same-permissions",
	    "--delay-directory-restore", "--no-overwrite-dir", NULL };
	char *said = NULL;
	int fd, st;

	if (mkdirat(dirfd, VOLUME_TEMPLATE_DIR, 0700) == -1)
		return cause_fail(cause, -errno, "volume %s: cannot make a "
		    "directory to unpack the template in: %s", drive,
		    strerror(errno));
	fd = openat(dirfd, VOLUME_TEMPLATE_DIR, O_RDONLY | O_DIRECTORY |
	    O_NOFOLLOW | O_CLOEXEC);
	if (fd == -1)
		return cause_fail(cause, -errno, "volume %s: cannot open the "
		    "template directory: %s", drive, strerror(errno));
	/* tar strips leading "/" and refuses ".." members on its own. */
	if ((st = volume_run(argv, fd, -1, &said)) != 0) {
		volume_ran_badly(cause, -EINVAL, drive, "unpacking the "
		    "template (tar)", st, said);
		free(said);
		close(fd);
		return -EINVAL;
	}
	free(said);
	*srcfd = fd;
	return 0;
}

int
volume_image_create(int dirfd, const char *drive, uint64_t size,
    const char *template, char **cause)
{
	struct proc_fd_path img;
	struct stat st;
	char label[17], *said = NULL, *argv[24];
	int fd, srcfd = -1, unpacked = 0, r, n = 0, status;

	if (size < VOLUME_SIZE_MIN || size > DRIVE_CAPACITY_MAX)
		return cause_fail(cause, -EINVAL, "volume %s: size %" PRIu64
		    " is not from 16 MiB to %" PRIu64 " bytes", drive, size,
		    DRIVE_CAPACITY_MAX);
	if (template != NULL) {
		if (stat(template, &st) == -1)
			return cause_fail(cause, errno == ENOENT ? -ENOENT :
			    -errno, "volume %s: template %s: %s", drive,
			    template, strerror(errno));
		if (S_ISDIR(st.st_mode)) {
			srcfd = open(template, O_PATH | O_DIRECTORY |
			    O_CLOEXEC);
			if (srcfd == -1)
				return cause_fail(cause, -errno, "volume %s: "
				    "template %s: %s", drive, template,
				    strerror(errno));
		} else if (S_ISREG(st.st_mode)) {
			if ((r = volume_unpack(dirfd, drive, template, &srcfd,
			    cause)) != 0)
				goto out;
			unpacked = 1;
		} else
			return cause_fail(cause, -EINVAL, "volume %s: template "
			    "%s is neither a directory nor an archive file",
			    drive, template);
	}

	fd = openat(dirfd, VOLUME_IMAGE, O_RDWR | O_CREAT | O_EXCL |
	    O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd == -1) {
		r = cause_fail(cause, -errno, "volume %s: cannot create %s: %s",
		    drive, VOLUME_IMAGE, strerror(errno));
		goto out;
	}
	/* Sparse: blocks are taken as the file system fills, not now. */
	if (ftruncate(fd, (off_t)size) == -1) {
		r = cause_fail(cause, -errno, "volume %s: cannot size %s to %"
		    PRIu64 " bytes: %s", drive, VOLUME_IMAGE, size,
		    strerror(errno));
		goto fail;
	}
	snprintf(label, sizeof(label), "%s", drive);
	argv[n++] = "mkfs.ext4";
	argv[n++] = "-q";
	argv[n++] = "-F";
	argv[n++] = "-b";
	argv[n++] = "4096";
	argv[n++] = "-m";	/* the workload is often root: no reserve */
	argv[n++] = "0";
	argv[n++] = "-L";
	argv[n++] = label;
	/* From inside the template: mkfs.ext4 reads the attributes of the
	 * path it is given, which /proc/self/fd/N would not pass through. */
	if (srcfd != -1) {
		argv[n++] = "-d";
		argv[n++] = ".";
	}
	argv[n++] = (char *)proc_fd_path(&img, fd, NULL);
	argv[n] = NULL;
	if ((status = volume_run(argv, srcfd, fd, &said)) != 0) {
		r = volume_ran_badly(cause, -EIO, drive, "mkfs.ext4", status,
		    said);
		goto fail;
	}
	if (fsync(fd) == -1) {
		r = cause_fail(cause, -errno, "volume %s: cannot sync %s: %s",
		    drive, VOLUME_IMAGE, strerror(errno));
		goto fail;
	}
	close(fd);
	r = 0;
	goto out;
fail:
	close(fd);
	(void)unlinkat(dirfd, VOLUME_IMAGE, 0);
out:
	free(said);
	if (srcfd != -1)
		close(srcfd);
	if (unpacked) {
		char *why = NULL;

		if (store_rmtree(dirfd, VOLUME_TEMPLATE_DIR, &why) != 0 &&
		    r == 0)
			r = cause_fail(cause, -EIO, "volume %s: removing the "
			    "unpacked template: %s", drive, why);
		free(why);
	}
	return r;
}

int
volume_image_grow(int dirfd, const char *drive, uint64_t size, char **cause)
{
	struct proc_fd_path img;
	struct stat st;
	char *said = NULL, *words, *now;
	int fd, status, r;

	fd = openat(dirfd, VOLUME_IMAGE, O_RDWR | O_NOFOLLOW | O_CLOEXEC);
	if (fd == -1)
		return cause_fail(cause, errno == ENOENT ? -EIO : -errno,
		    "volume %s: cannot open %s: %s", drive, VOLUME_IMAGE,
		    strerror(errno));
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode)) {
		close(fd);
		return cause_fail(cause, -EIO, "volume %s: %s is not a "
		    "regular file", drive, VOLUME_IMAGE);
	}
	if ((uint64_t)st.st_size == size) {
		close(fd);
		return 0;
	}
	if ((uint64_t)st.st_size > size) {
		words = drive_size_words(size);
		now = drive_size_words((uint64_t)st.st_size);
		r = cause_fail(cause, -EINVAL, "volume %s is %s (%jd bytes) "
		    "and cannot shrink to %s (%" PRIu64 " bytes): volumes "
		    "only grow", drive, now, (intmax_t)st.st_size, words,
		    size);
		free(words);
		free(now);
		close(fd);
		return r;
	}
	{
		char *check[] = { "e2fsck", "-f", "-n",
		    (char *)proc_fd_path(&img, fd, NULL), NULL };

		if ((status = volume_run(check, -1, fd, &said)) != 0) {
			r = volume_ran_badly(cause, -EIO, drive, "the check "
			    "before growing (e2fsck -f -n; nothing was "
			    "changed)", status, said);
			goto out;
		}
		free(said);
		said = NULL;
	}
	if (ftruncate(fd, (off_t)size) == -1) {
		r = cause_fail(cause, -errno, "volume %s: cannot extend %s to %"
		    PRIu64 " bytes: %s", drive, VOLUME_IMAGE, size,
		    strerror(errno));
		goto out;
	}
	{
		/* -f: the check above is the one resize2fs asks for. */
		char *grow[] = { "resize2fs", "-f",
		    (char *)proc_fd_path(&img, fd, NULL), NULL };

		if ((status = volume_run(grow, -1, fd, &said)) != 0) {
			/*
			 * The file stays long: a file system smaller than
			 * its file is whole, while cutting the file under
			 * a half-done resize could lose what it wrote.
			 */
			r = volume_ran_badly(cause, -EIO, drive, "resize2fs",
			    status, said);
			goto out;
		}
	}
	if (fsync(fd) == -1) {
		r = cause_fail(cause, -errno, "volume %s: cannot sync %s: %s",
		    drive, VOLUME_IMAGE, strerror(errno));
		goto out;
	}
	r = 0;
out:
	free(said);
	close(fd);
	return r;
}

int
store_update_size(const char *name, int dfd, struct drive *d, uint64_t size,
    char **cause)
{
	char *busy = NULL;
	int held, r;

	if (d->kind != DRIVE_KIND_VOLUME)
		return cause_fail(cause, -EINVAL, "size: drive \"%s\" is a %s; "
		    "only a volume has a size (a drive's bound is its "
		    "capacity)", name, drive_kind_name(d->kind));
	if (size > DRIVE_CAPACITY_MAX)
		return cause_fail(cause, -EINVAL, "size: larger than %" PRIu64
		    " bytes", DRIVE_CAPACITY_MAX);
	/* No mount lock is taken under the drive's lock: the count holds. */
	if ((held = store_scan_mounts(dfd, 1, &busy)) < 0)
		return cause_fail(cause, held, "cannot check the mounts of "
		    "volume \"%s\": %s", name, strerror(-held));
	if (held > 0) {
		r = cause_fail(cause, -EBUSY, "volume \"%s\" is mounted "
		    "(session %s): unmount it, then grow it", name, busy);
		free(busy);
		return r;
	}
	free(busy);
	if ((r = volume_image_grow(dfd, name, size, cause)) != 0)
		return r;
	d->size = size;
	return 0;
}

int
posix_open_volume(struct store *s, const char *name, int read_only,
    int *imgfd, char **cause)
{
	struct stat st;
	char *rel;
	int fd, r;

	*imgfd = -1;
	if ((r = store_check_name(name, cause)) != 0)
		return r;
	xasprintf(&rel, "drives/%s/%s", name, VOLUME_IMAGE);
	fd = store_openat(posix_fd(s), rel, read_only ? O_RDONLY : O_RDWR, 0);
	r = -errno;
	free(rel);
	if (fd == -1)
		return cause_fail(cause, r == -ENOENT || r == -ELOOP ? -EIO : r,
		    "volume %s: its image %s/drives/%s/%s %s", name, s->path,
		    name, VOLUME_IMAGE, r == -ENOENT ? "is missing" :
		    r == -ELOOP ? "is a symlink" : strerror(-r));
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode)) {
		close(fd);
		return cause_fail(cause, -EIO, "volume %s: its image %s/"
		    "drives/%s/%s is not a regular file", name, s->path, name,
		    VOLUME_IMAGE);
	}
	*imgfd = fd;
	return 0;
}
