/* The agent's half of a mount: /dev/fuse, mount(2), blfs's argv, mountinfo. */
#include "config.h"

#include <sys/mount.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/util.h"
#include "common/xmalloc.h"
#include "mountmgr/handoff.h"

#define HANDOFF_MOUNTINFO_MAX	(16 * 1024 * 1024)
#define HANDOFF_ARGV_MAX	32

static int
handoff_given(uint64_t v)
{
	return v != 0 && v != HANDOFF_UNSET;
}

unsigned
handoff_request_size(uint64_t buffer_size)
{
	uint64_t v = buffer_size & ~(uint64_t)(HANDOFF_MIN_REQUEST - 1);

	if (v < HANDOFF_MIN_REQUEST)
		v = HANDOFF_MIN_REQUEST;
	if (v > HANDOFF_MAX_REQUEST)
		v = HANDOFF_MAX_REQUEST;
	return (unsigned)v;
}

enum handoff_result
handoff_mount(const struct handoff_mount *m, int *fuse_fd, int *saved_errno)
{
	unsigned long flags = MS_NOSUID | MS_NODEV;
	char data[256];
	int fd;

	*fuse_fd = -1;
	*saved_errno = 0;
	if (m->path == NULL || *m->path != '/' || m->source == NULL ||
	    *m->source == '\0') {
		*saved_errno = EINVAL;
		return HANDOFF_BAD_ARGUMENT;
	}
	if ((fd = open("/dev/fuse", O_RDWR | O_CLOEXEC)) == -1) {
		*saved_errno = errno;
		return HANDOFF_OPEN_DEV;
	}
	/*
	 * fd: the connection blfs will serve. rootmode and the ids describe
	 * the root until blfs answers; user_id=0 names the agent as the
	 * mount's owner. allow_other: the workload is another user than the
	 * agent. default_permissions: the kernel checks modes against each
	 * caller, so blfs (which holds CAP_DAC_OVERRIDE) need not and cannot
	 * get it wrong. max_read: the same request size blfs computes from
	 * the same --buffer-size. nosuid, nodev: a drive is data, shared
	 * between sandboxes; nothing in it may raise privileges.
	 */
	if (handoff_given(m->buffer_size))
		snprintf(data, sizeof(data), "fd=%d,rootmode=40000,user_id=0,"
		    "group_id=0,allow_other,default_permissions,max_read=%u",
		    fd, handoff_request_size(m->buffer_size));
	else
		snprintf(data, sizeof(data), "fd=%d,rootmode=40000,user_id=0,"
		    "group_id=0,allow_other,default_permissions", fd);
	if (m->read_only)
		flags |= MS_RDONLY;
	if (mount(m->source, m->path, HANDOFF_FSTYPE, flags, data) == -1) {
		*saved_errno = errno;
		close(fd);
		return HANDOFF_MOUNT;
	}
	*fuse_fd = fd;
	return HANDOFF_OK;
}

char *
handoff_describe(enum handoff_result r, int saved_errno, const char *shown)
{
	const char *err = saved_errno != 0 ? strerror(saved_errno) : "failed";
	char *s;

	switch (r) {
	case HANDOFF_OK:
		xasprintf(&s, "mounted at %s", shown);
		break;
	case HANDOFF_BAD_ARGUMENT:
		xasprintf(&s, "mounting at %s: no absolute path or no drive "
		    "name", shown);
		break;
	case HANDOFF_OPEN_DEV:
		xasprintf(&s, "opening /dev/fuse to mount at %s: %s", shown,
		    err);
		break;
	case HANDOFF_MOUNT:
		xasprintf(&s, "mount(2) of %s at %s: %s", HANDOFF_FSTYPE, shown,
		    err);
		break;
	default:
		xasprintf(&s, "mounting at %s: unknown failure", shown);
		break;
	}
	return s;
}

enum handoff_result
handoff_fuse_mount(const char *target, const char *shown, const char *drive,
    int read_only, uint64_t max_read, int *fusefd, char **cause)
{
	struct handoff_mount m;
	enum handoff_result r;
	int err;

	m.source = drive;
	m.path = target;
	m.read_only = read_only;
	m.buffer_size = max_read;
	if ((r = handoff_mount(&m, fusefd, &err)) != HANDOFF_OK)
		*cause = handoff_describe(r, err, shown);
	return r;
}

static char *
handoff_opt_num(const char *opt, uint64_t v)
{
	char *s;

	xasprintf(&s, "%s=%" PRIu64, opt, v);
	return s;
}

static char *
handoff_opt_str(const char *opt, const char *v)
{
	char *s;

	xasprintf(&s, "%s=%s", opt, v);
	return s;
}

char **
handoff_blfs_argv(const struct handoff_blfs_args *a)
{
	char **v = xcalloc(HANDOFF_ARGV_MAX, sizeof(*v));
	size_t n = 0;

	v[n++] = xstrdup(a->blfs_path);
	if (a->volume_fd > 0)
		v[n++] = handoff_opt_num("--volume-fd", (uint64_t)a->volume_fd);
	else if (a->ceph_fs != NULL) {
		v[n++] = handoff_opt_num("--fuse-fd", (uint64_t)a->fuse_fd);
		v[n++] = handoff_opt_str("--ceph-fs", a->ceph_fs);
		v[n++] = handoff_opt_str("--ceph-root", a->ceph_root);
		v[n++] = handoff_opt_str("--ceph-id", a->ceph_id);
		v[n++] = handoff_opt_num("--ceph-conf-fd",
		    (uint64_t)a->ceph_conf_fd);
		v[n++] = handoff_opt_num("--ceph-keyring-fd",
		    (uint64_t)a->ceph_keyring_fd);
		if (a->ceph_store != NULL)
			v[n++] = handoff_opt_str("--ceph-store", a->ceph_store);
	} else {
		v[n++] = handoff_opt_num("--fuse-fd", (uint64_t)a->fuse_fd);
		v[n++] = handoff_opt_num("--root-fd", (uint64_t)a->root_fd);
	}
	if (a->status_fd >= 0)
		v[n++] = handoff_opt_num("--status-fd", (uint64_t)a->status_fd);
	if (a->seccomp_fd > 0)
		v[n++] = handoff_opt_num("--seccomp-fd",
		    (uint64_t)a->seccomp_fd);
	if (a->lock_fd >= 0)
		v[n++] = handoff_opt_num("--lock-fd", (uint64_t)a->lock_fd);
	if (a->mounts_fd >= 0)
		v[n++] = handoff_opt_num("--mounts-fd",
		    (uint64_t)a->mounts_fd);
	if (a->stats_fd >= 0)
		v[n++] = handoff_opt_num("--stats-fd", (uint64_t)a->stats_fd);
	if (a->usage_fd >= 0) {
		v[n++] = handoff_opt_num("--usage-fd", (uint64_t)a->usage_fd);
		v[n++] = handoff_opt_num("--capacity", a->capacity);
	}
	/*
	 * "--opt=value" in one word: a drive name can never be taken for an
	 * option. Named on the command line so ps shows who serves what.
	 */
	v[n++] = handoff_opt_str("--drive", a->drive);
	v[n++] = handoff_opt_str("--session", a->session_id);
	v[n++] = handoff_opt_str("--mount-path", a->mount_path);
	if (a->read_only)
		v[n++] = xstrdup("--read-only");
	if (handoff_given(a->cache_size))
		v[n++] = handoff_opt_num("--cache-size", a->cache_size);
	if (handoff_given(a->buffer_size))
		v[n++] = handoff_opt_num("--buffer-size", a->buffer_size);
	if (handoff_given(a->prefetch))
		v[n++] = handoff_opt_num("--prefetch", a->prefetch);
	if (a->writeback && !a->read_only)
		v[n++] = xstrdup("--writeback");
	if (a->log_level != NULL)
		v[n++] = handoff_opt_str("--log-level", a->log_level);
	if (a->debug)
		v[n++] = xstrdup("--debug");
	v[n] = NULL;
	return v;
}

void
handoff_argv_free(char **v)
{
	size_t i;

	if (v == NULL)
		return;
	for (i = 0; v[i] != NULL; i++)
		free(v[i]);
	free(v);
}

/* A field of a mountinfo line: not NUL-terminated. */
struct handoff_tok {
	const char	*p;
	size_t		 len;
};

static int
handoff_tok_is(const struct handoff_tok *t, const char *s)
{
	return t->len == strlen(s) && memcmp(t->p, s, t->len) == 0;
}

static int
handoff_is_octal(char c)
{
	return c >= '0' && c <= '7';
}

/*
 * The kernel writes space, tab, newline and backslash in paths as \ooo.
 * Decode into out (NUL-terminated); -1 if it does not fit.
 */
static int
handoff_unescape(const struct handoff_tok *t, char *out, size_t outlen)
{
	size_t i, o = 0;
	unsigned v;

	for (i = 0; i < t->len; i++) {
		if (o + 1 >= outlen)
			return -1;
		if (t->p[i] == '\\' && i + 3 < t->len &&
		    handoff_is_octal(t->p[i + 1]) &&
		    handoff_is_octal(t->p[i + 2]) &&
		    handoff_is_octal(t->p[i + 3])) {
			v = (unsigned)(t->p[i + 1] - '0') * 64 +
			    (unsigned)(t->p[i + 2] - '0') * 8 +
			    (unsigned)(t->p[i + 3] - '0');
			if (v == 0 || v > 0xff)
				return -1;	/* no NUL inside a path */
			out[o++] = (char)v;
			i += 3;
		} else
			out[o++] = t->p[i];
	}
	out[o] = '\0';
	return 0;
}

static int
handoff_has_opt(const struct handoff_tok *opts, const char *opt)
{
	const char *p = opts->p, *end = opts->p + opts->len, *comma;
	size_t n = strlen(opt), l;

	while (p < end) {
		comma = memchr(p, ',', (size_t)(end - p));
		l = comma != NULL ? (size_t)(comma - p) : (size_t)(end - p);
		if (l == n && memcmp(p, opt, n) == 0)
			return 1;
		p += l + 1;
	}
	return 0;
}

static int
handoff_tok_uint(const struct handoff_tok *t, unsigned *out)
{
	char buf[16];
	uint64_t v;

	if (t->len == 0 || t->len >= sizeof(buf))
		return -1;
	memcpy(buf, t->p, t->len);
	buf[t->len] = '\0';
	if (parse_u64(buf, UINT32_MAX, &v) == -1)
		return -1;
	*out = (unsigned)v;
	return 0;
}

/*
 * One line: "36 35 0:52 / /mnt/x rw,nosuid,nodev,relatime shared:1 -
 * fuse.blfs drive rw,user_id=0,...". Six fields, optional fields up to
 * "-", then fstype, source and super options. 1 if it is the mount at
 * path and fuse.blfs, 2 if at path and something else, 0 if elsewhere,
 * -1 if malformed.
 */
static int
handoff_mountinfo_line(const char *line, size_t len, const char *path,
    const char *fstype, struct handoff_mountinfo *mi)
{
	struct handoff_tok tok[64];
	const char *p = line, *end = line + len, *sp, *colon;
	struct handoff_tok devmaj, devmin;
	char mp[4096];
	size_t n = 0, dash;

	while (p < end) {
		if (n == nitems(tok))
			return -1;
		sp = memchr(p, ' ', (size_t)(end - p));
		tok[n].p = p;
		tok[n].len = sp != NULL ? (size_t)(sp - p) : (size_t)(end - p);
		n++;
		p = sp != NULL ? sp + 1 : end;
	}
	for (dash = 6; dash < n; dash++)
		if (handoff_tok_is(&tok[dash], "-"))
			break;
	if (n < 6 || dash + 3 > n)
		return -1;
	if (handoff_unescape(&tok[4], mp, sizeof(mp)) == -1)
		return -1;
	if (strcmp(mp, path) != 0)
		return 0;

	memset(mi, 0, sizeof(*mi));
	if (!handoff_tok_is(&tok[dash + 1], fstype))
		return 2;
	if ((colon = memchr(tok[2].p, ':', tok[2].len)) == NULL)
		return -1;
	devmaj.p = tok[2].p;
	devmaj.len = (size_t)(colon - tok[2].p);
	devmin.p = colon + 1;
	devmin.len = tok[2].len - devmaj.len - 1;
	if (handoff_tok_uint(&tok[0], &mi->mount_id) == -1 ||
	    handoff_tok_uint(&devmaj, &mi->dev_major) == -1 ||
	    handoff_tok_uint(&devmin, &mi->dev_minor) == -1)
		return -1;
	if (handoff_unescape(&tok[dash + 2], mi->source,
	    sizeof(mi->source)) == -1)
		mi->source[0] = '\0';
	mi->found = 1;
	mi->read_only = handoff_has_opt(&tok[5], "ro");
	mi->nosuid = handoff_has_opt(&tok[5], "nosuid");
	mi->nodev = handoff_has_opt(&tok[5], "nodev");
	return 1;
}

int
handoff_mountinfo_parse(const char *text, const char *path,
    struct handoff_mountinfo *mi)
{
	return handoff_mountinfo_parse_fs(text, path, HANDOFF_FSTYPE, mi);
}

int
handoff_mountinfo_parse_fs(const char *text, const char *path,
    const char *fstype, struct handoff_mountinfo *mi)
{
	struct handoff_mountinfo cur;
	const char *line = text, *eol;
	size_t len;
	int found = 0, r;

	memset(mi, 0, sizeof(*mi));
	while (*line != '\0') {
		eol = strchr(line, '\n');
		len = eol != NULL ? (size_t)(eol - line) : strlen(line);
		/* Mounts are listed in order: a later one at path is on top. */
		r = handoff_mountinfo_line(line, len, path, fstype, &cur);
		if (r == 1)
			*mi = cur;
		if (r == 1 || r == 2)
			found = r;
		if (r == 2)
			memset(mi, 0, sizeof(*mi));
		if (eol == NULL)
			break;
		line = eol + 1;
	}
	return found;
}

int
handoff_mountinfo_find(const char *path, struct handoff_mountinfo *mi)
{
	return handoff_mountinfo_find_fs(path, HANDOFF_FSTYPE, mi);
}

int
handoff_mountinfo_find_fs(const char *path, const char *fstype,
    struct handoff_mountinfo *mi)
{
	char *buf = NULL;
	size_t len = 0, cap = 0;
	ssize_t n;
	int fd, r;

	if ((fd = open("/proc/self/mountinfo", O_RDONLY | O_CLOEXEC)) == -1)
		return -1;
	for (;;) {
		if (cap - len < 4096) {
			if (cap >= HANDOFF_MOUNTINFO_MAX) {
				close(fd);
				free(buf);
				errno = EFBIG;
				return -1;
			}
			cap = cap != 0 ? cap * 2 : 65536;
			buf = xreallocarray(buf, cap, 1);
		}
		n = read(fd, buf + len, cap - len - 1);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			close(fd);
			free(buf);
			return -1;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	close(fd);
	buf[len] = '\0';
	r = handoff_mountinfo_parse_fs(buf, path, fstype, mi);
	free(buf);
	return r;
}

int
handoff_detach(const char *path)
{
	if (umount2(path, MNT_DETACH | UMOUNT_NOFOLLOW) == -1)
		return -errno;
	return 0;
}

int
handoff_abort(unsigned dev_minor)
{
	char path[64];
	int fd, err = 0;

	snprintf(path, sizeof(path), "/sys/fs/fuse/connections/%u/abort",
	    dev_minor);
	if ((fd = open(path, O_WRONLY | O_CLOEXEC)) == -1)
		return -errno;
	if (write(fd, "1", 1) == -1)
		err = -errno;
	close(fd);
	return err;
}
