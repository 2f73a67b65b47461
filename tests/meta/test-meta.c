/*
 * blfs/meta.c: the user.blfs.attr format (what parses, what does not,
 * round trips) and its use on real files in a temporary directory
 * (presented attributes, the canonical backing mode, what cannot carry
 * an attribute). Run as root, as blfs is.
 */
#include "config.h"

#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/util.h"
#include "blfs/blfs.h"
#include "tests/tap.h"

static int
parses(const char *v, mode_t btype)
{
	struct owners m;

	return owners_parse(v, strlen(v), btype, &m) == 0;
}

static void
test_parse(void)
{
	static const char *const bad[] = {
		"", " 1 2 0644", "1 2 0644 ", "1  2 0644", "1 2", "1 2 ",
		"-1 2 0644", "1 -2 0644", "4294967295 0 0644",
		"0 4294967295 0644", "99999999999 0 0644", "1 2 0648",
		"1 2 0x644", "1 2 200000", "1 2 0644\t", "a 2 0644",
		"1 2 0644 5", "1,2,0644",
		/* longer than ours */
		"1234567890123456789012345678901234567890123456789",
	};
	/* Device numbers: only on a device node, and only as they fit. */
	static const char *const bad_dev[] = {
		"1 1 100644 1:3", "1 1 0644 1:3", "1 1 10644 1:3",
		"1 1 120777 0:0", "1 1 20644 1", "1 1 20644 1:", "1 1 20644 :3",
		"1 1 20644 1:3 ", "1 1 20644  1:3", "1 1 20644 1,3",
		"1 1 20644 -1:3", "1 1 20644 1:-3", "1 1 20644 4096:0",
		"1 1 20644 0:1048576", "1 1 20644 0x1:3", "1 1 20644 1:3:5",
	};
	struct owners m;
	char buf[64];
	size_t i;
	int n;

	tap_ok(owners_parse("1000 1000 100644", 16, S_IFREG, &m) == 0 &&
	    m.uid == 1000 && m.gid == 1000 && m.mode == (S_IFREG | 0644),
	    "a regular file's value parses");
	tap_ok(owners_parse("5 6 4755", 8, S_IFREG, &m) == 0 &&
	    m.mode == (S_IFREG | 04755),
	    "permission bits alone take the backing file's type");
	tap_ok(owners_parse("0 0 41777", 9, S_IFDIR, &m) == 0 &&
	    m.mode == (S_IFDIR | 01777), "a directory's value parses");
	tap_ok(owners_parse("4294967294 4294967294 107777", 28, S_IFREG,
	    &m) == 0 && m.uid == 4294967294U, "the largest ids parse");
	for (i = 0; i < nitems(bad); i++)
		tap_ok(!parses(bad[i], S_IFREG), "\"%s\" is refused", bad[i]);
	tap_ok(parses("1 1 120777", S_IFREG) && parses("1 1 10644", S_IFREG) &&
	    parses("1 1 140755", S_IFREG),
	    "a regular file may stand for a symlink, FIFO or socket");
	tap_ok(!parses("1 1 120777", S_IFDIR) && !parses("1 1 100644",
	    S_IFDIR) && !parses("1 1 40755", S_IFREG),
	    "a directory and a regular file stand for nothing else");
	tap_ok(owners_parse("0 6 60660 8:16", 14, S_IFREG, &m) == 0 &&
	    m.mode == (S_IFBLK | 0660) && m.gid == 6 &&
	    major(m.rdev) == 8 && minor(m.rdev) == 16,
	    "a regular file may stand for a block device, with its number");
	tap_ok(owners_parse("5 5 20620 4095:1048575", 22, S_IFREG, &m) == 0 &&
	    m.mode == (S_IFCHR | 0620) && major(m.rdev) == 4095 &&
	    minor(m.rdev) == 1048575,
	    "a character device with the largest number the kernel holds");
	tap_ok(owners_parse("0 0 20666", 9, S_IFREG, &m) == 0 &&
	    m.mode == (S_IFCHR | 0666) && m.rdev == 0,
	    "a device without a number is 0:0");
	tap_ok(owners_parse("1000 1000 100644", 16, S_IFREG, &m) == 0 &&
	    m.rdev == 0 && owners_parse("1 1 10644", 9, S_IFREG, &m) == 0 &&
	    m.rdev == 0, "anything else has none");
	tap_ok(!parses("1 1 20644 1:3", S_IFDIR) &&
	    !parses("1 1 60644 1:3", S_IFDIR),
	    "a directory stands for no device");
	for (i = 0; i < nitems(bad_dev); i++)
		tap_ok(!parses(bad_dev[i], S_IFREG), "\"%s\" is refused",
		    bad_dev[i]);
	tap_ok(!parses("1 1 70644", S_IFREG), "an unknown type is refused");

	m.uid = 1000;
	m.gid = 50;
	m.mode = S_IFLNK | 0777;
	m.rdev = 0;
	n = owners_format(&m, buf, sizeof(buf));
	tap_is_str(n > 0 ? buf : NULL, "1000 50 120777", "meta_format");
	tap_ok(owners_format(&m, buf, 8) == -1 && errno == ERANGE,
	    "too small a buffer is an error");
	m.mode = S_IFCHR | 0620;
	m.rdev = makedev(136, 2);
	n = owners_format(&m, buf, sizeof(buf));
	tap_is_str(n > 0 ? buf : NULL, "1000 50 20620 136:2",
	    "a device node's value has its number");
	m.uid = m.gid = 4294967294U;
	m.mode = S_IFBLK | 07777;
	m.rdev = makedev(4095, 1048575);
	n = owners_format(&m, buf, sizeof(buf));
	tap_ok(n > 0 && n <= OWNERS_VALUE_MAX && owners_parse(buf, (size_t)n,
	    S_IFREG, &m) == 0 && m.rdev == makedev(4095, 1048575),
	    "the longest value fits OWNERS_VALUE_MAX and parses back");
	m.rdev = makedev(4096, 0);
	tap_ok(owners_format(&m, buf, sizeof(buf)) == -1 &&
	    errno == EOVERFLOW, "a major the kernel cannot hold is refused");
	m.rdev = makedev(1, 1048576);
	tap_ok(owners_format(&m, buf, sizeof(buf)) == -1 &&
	    errno == EOVERFLOW, "so is such a minor");

	tap_ok(owners_reserved("user.blfs.attr") &&
	    owners_reserved("user.blfs.x"), "user.blfs.* is reserved");
	tap_ok(!owners_reserved("user.blfsx") &&
	    !owners_reserved("user.other") &&
	    !owners_reserved("trusted.blfs.attr"),
	    "other names are not");
}

static void
test_files(void)
{
	char dir[] = "/tmp/test-meta.XXXXXX", path[128], cmd[160];
	char *cause = NULL;
	struct owners m = { 1000, 1000, S_IFREG | 04750, 0 };
	struct stat st;
	char v[64];
	ssize_t n;
	int dfd, fd;

	if (mkdtemp(dir) == NULL || (dfd = open(dir, O_PATH |
	    O_DIRECTORY)) == -1) {
		tap_ok(0, "temporary directory: %s", strerror(errno));
		return;
	}
	snprintf(path, sizeof(path), "%s/f", dir);
	fd = open(path, O_CREAT | O_RDWR, 0644);
	tap_ok(fd != -1 && meta_write(fd, 0, &m) == 0,
	    "meta_write on an open file");
	n = getxattr(path, OWNERS_XATTR, v, sizeof(v) - 1);
	v[n > 0 ? n : 0] = '\0';
	tap_is_str(v, "1000 1000 104750", "the attribute as written");
	tap_ok(stat(path, &st) == 0 && (st.st_mode & 07777) == OWNERS_FILE_MODE,
	    "the backing file's mode became 0600");
	tap_ok(meta_stat_at(dfd, "f", &st) == 0 && st.st_uid == 1000 &&
	    st.st_gid == 1000 && st.st_mode == (S_IFREG | 04750),
	    "meta_stat_at presents owner, group and mode");
	tap_ok(meta_stat_fd(fd, 0, &st) == 0 && st.st_uid == 1000 &&
	    st.st_mode == (S_IFREG | 04750), "so does meta_stat_fd");
	close(fd);

	/* A value nobody wrote by our rules: the file shows as it is. */
	setxattr(path, OWNERS_XATTR, "1000 x 0644", 11, 0);
	tap_ok(meta_stat_at(dfd, "f", &st) == 0 && st.st_uid == 0 &&
	    st.st_mode == (S_IFREG | 0600), "a bad value is ignored");

	snprintf(path, sizeof(path), "%s/plain", dir);
	fd = open(path, O_CREAT | O_RDWR, 0640);
	close(fd);
	tap_ok(meta_stat_at(dfd, "plain", &st) == 0 && st.st_uid == 0 &&
	    st.st_mode == (S_IFREG | 0640), "no value: the file as it is");

	/* Another owner's file, open to all: refused whole, not half. */
	snprintf(path, sizeof(path), "%s/theirs", dir);
	fd = open(path, O_CREAT | O_RDWR, 0666);
	if (fd != -1 && (fchown(fd, 1000, 1000) == -1 ||
	    fchmod(fd, 0666) == -1))
		tap_ok(0, "chown/chmod %s: %s", path, strerror(errno));
	m.mode = S_IFREG | 0600;
	tap_is_int(meta_write(fd, 0, &m), -EPERM,
	    "another owner's file cannot be given the attribute");
	tap_ok(fgetxattr(fd, OWNERS_XATTR, v, sizeof(v)) == -1 &&
	    errno == ENODATA && fstat(fd, &st) == 0 &&
	    (st.st_mode & 07777) == 0666, "and nothing of it changed");
	close(fd);

	snprintf(path, sizeof(path), "%s/d", dir);
	mkdir(path, 0755);
	m.mode = S_IFDIR | 02775;
	fd = open(path, O_PATH | O_DIRECTORY);
	tap_ok(meta_write(fd, 1, &m) == 0 && meta_stat_fd(fd, 1, &st) == 0 &&
	    st.st_mode == (S_IFDIR | 02775) && stat(path, &st) == 0 &&
	    (st.st_mode & 07777) == OWNERS_DIR_MODE,
	    "a directory through an O_PATH fd: presented mode, backing 0700");
	close(fd);

	snprintf(path, sizeof(path), "%s/l", dir);
	symlink("f", path);
	fd = openat(dfd, "l", O_PATH | O_NOFOLLOW);
	m.mode = S_IFLNK | 0777;
	tap_is_int(meta_write(fd, 1, &m), -EPERM,
	    "a real symlink cannot carry the attribute");
	tap_ok(meta_stat_fd(fd, 1, &st) == 0 && S_ISLNK(st.st_mode) &&
	    st.st_uid == 0, "and shows as it is");
	close(fd);

	snprintf(path, sizeof(path), "%s/s", dir);
	fd = open(path, O_CREAT | O_RDWR, 0600);
	m.mode = S_IFLNK | 0777;
	tap_ok(meta_write(fd, 0, &m) == 0 && meta_type_at(dfd, "s") ==
	    S_IFLNK && meta_type_at(dfd, "plain") == S_IFREG &&
	    meta_type_at(dfd, "missing") == S_IFREG,
	    "meta_type_at: a regular file standing for a symlink");
	close(fd);

	/* A device node: a regular file, its number in the attribute. */
	snprintf(path, sizeof(path), "%s/dev", dir);
	fd = open(path, O_CREAT | O_RDWR, 0600);
	m.uid = 0;
	m.gid = 6;
	m.mode = S_IFBLK | 0660;
	m.rdev = makedev(8, 1);
	tap_ok(meta_write(fd, 0, &m) == 0, "meta_write of a block device");
	n = getxattr(path, OWNERS_XATTR, v, sizeof(v) - 1);
	v[n > 0 ? n : 0] = '\0';
	tap_is_str(v, "0 6 60660 8:1", "its attribute as written");
	tap_ok(meta_stat_at(dfd, "dev", &st) == 0 &&
	    st.st_mode == (S_IFBLK | 0660) && st.st_gid == 6 &&
	    st.st_rdev == makedev(8, 1) && meta_type_at(dfd, "dev") == S_IFBLK,
	    "meta_stat_at presents a block device 8:1");
	tap_ok(meta_stat_fd(fd, 0, &st) == 0 && st.st_rdev == makedev(8, 1),
	    "so does meta_stat_fd");
	tap_ok(meta_stat_at(dfd, "f", &st) == 0 && st.st_rdev == 0,
	    "a regular file shows no device number");
	close(fd);

	tap_ok(meta_check_store(dfd, &cause) == 0,
	    "this filesystem keeps user attributes");
	close(dfd);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd) != 0)
		tap_ok(0, "cleaning %s", dir);
}

/*
 * The owners cache (blfs/acache.c): an entry serves while the file's ctime
 * is as it was, and never after the attribute changed behind it.
 */
static void
test_cache(void)
{
	char dir[] = "/tmp/test-meta.XXXXXX", path[128], cmd[160];
	struct owners m = { 1000, 1000, S_IFREG | 0644, 0 }, got;
	struct stat st, bst;
	int dfd, fd;

	if (mkdtemp(dir) == NULL || (dfd = open(dir, O_PATH |
	    O_DIRECTORY)) == -1) {
		tap_ok(0, "temporary directory: %s", strerror(errno));
		return;
	}
	acache_init(1, 1);
	snprintf(path, sizeof(path), "%s/c", dir);
	fd = open(path, O_CREAT | O_RDWR, 0600);
	tap_ok(fd != -1 && meta_write(fd, 0, &m) == 0, "a file with owners");
	tap_ok(meta_stat_at(dfd, "c", &st) == 0 && st.st_uid == 1000,
	    "meta_stat_at reads them");
	tap_ok(stat(path, &bst) == 0 && acache_get(&bst, &got) ==
	    ACACHE_OWNERS && got.uid == 1000 && got.mode == m.mode,
	    "the cache holds them against the backing file's stat");
	tap_ok(acache_reg(bst.st_dev, bst.st_ino) == 1,
	    "a listing may take the file for a regular one unread");
	acache_new_epoch();
	tap_ok(acache_reg(bst.st_dev, bst.st_ino) == 0,
	    "not after the drive was shared or unshared");
	tap_ok(meta_stat_at(dfd, "c", &st) == 0 && st.st_uid == 1000 &&
	    acache_reg(bst.st_dev, bst.st_ino) == 1,
	    "until a stat found the entry current");
	acache_drop(bst.st_dev, bst.st_ino);
	tap_ok(meta_stat_at(dfd, "c", &st) == 0 && st.st_uid == 1000 &&
	    acache_reg(bst.st_dev, bst.st_ino) == 1,
	    "or it was read again, between two stats");
	tap_ok(setxattr(path, OWNERS_XATTR, "2000 2000 100600", 16, 0) == 0 &&
	    meta_stat_at(dfd, "c", &st) == 0 && st.st_uid == 2000 &&
	    st.st_mode == (S_IFREG | 0600),
	    "an attribute changed behind it is read again (ctime moved)");
	tap_ok(meta_stat_fd(fd, 0, &st) == 0 && st.st_uid == 2000,
	    "so meta_stat_fd sees it too");
	tap_ok(stat(path, &bst) == 0 && acache_get(&bst, &got) ==
	    ACACHE_OWNERS && got.uid == 2000, "and the cache keeps the new");
	acache_drop(bst.st_dev, bst.st_ino);
	tap_ok(acache_get(&bst, &got) == ACACHE_MISS, "acache_drop drops it");
	snprintf(cmd, sizeof(cmd), "%s/d", dir);
	tap_ok(mkdir(cmd, 0700) == 0 && stat(cmd, &bst) == 0 &&
	    acache_reg(bst.st_dev, bst.st_ino) == 0,
	    "an unknown file is not taken for anything");
	m.mode = S_IFLNK | 0777;
	tap_ok(meta_write(fd, 0, &m) == 0 && meta_stat_fd(fd, 0, &st) == 0 &&
	    S_ISLNK(st.st_mode) && stat(path, &bst) == 0 &&
	    acache_reg(bst.st_dev, bst.st_ino) == 0,
	    "a file standing for a symlink is never taken for a regular one");
	close(fd);
	close(dfd);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd) != 0)
		tap_ok(0, "cleaning %s", dir);
}

int
main(void)
{
	if (geteuid() != 0) {
		printf("Bail out! test-meta runs as root, as blfs does\n");
		return 1;
	}
	test_parse();
	test_files();
	test_cache();
	printf("1..%d\n", tap_n);
	return tap_failed != 0;
}
