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

#include "common/xmalloc.h"
#include "mountmgr/handoff.h"

#define HANDOFF_MOUNTINFO_MAX	(16 * 1024 * 1024)

enum handoff_result
handoff_fuse_mount(const char *target, const char *shown, const char *drive,
    int read_only, uint64_t max_read, int *fusefd, char **cause)
{
	unsigned long flags = MS_NOSUID | MS_NODEV;
	char data[256];
	int fd;

	*fusefd = -1;
	if ((fd = open("/dev/fuse", O_RDWR | O_CLOEXEC)) == -1) {
		xasprintf(cause, "opening /dev/fuse for %s: %s", shown,
		    strerror(errno));
		return HANDOFF_OPEN_DEV;
	}
	/*
	 * default_permissions: the kernel checks modes against the caller,
	 * so blfs need not. allow_other: the workload is another user.
	 * rootmode and ids describe the root for the kernel until blfs
	 * answers; user_id=0 names the agent as the mount's owner.
	 */
	if (max_read > 0)
		snprintf(data, sizeof(data), "fd=%d,rootmode=40000,user_id=0,"
		    "group_id=0,allow_other,default_permissions,max_read=%"
		    PRIu64, fd, max_read);
	else
		snprintf(data, sizeof(data), "fd=%d,rootmode=40000,user_id=0,"
		    "group_id=0,allow_other,default_permissions", fd);
	if (read_only)
		flags |= MS_RDONLY;
	if (mount(drive, target, HANDOFF_FSTYPE, flags, data) == -1) {
		xasprintf(cause, "mounting drive %s at %s: %s", drive, shown,
		    strerror(errno));
		close(fd);
		return HANDOFF_MOUNT;
	}
	*fusefd = fd;
	return HANDOFF_OK;
}

static char *
handoff_num(const char *opt, uint64_t v)
{
	char *s;

	xasprintf(&s, "%s=%" PRIu64, opt, v);
	return s;
}

char **
handoff_blfs_argv(const struct handoff_blfs_args *a)
{
	char **v = xcalloc(32, sizeof(char *));
	size_t n = 0;

	v[n++] = xstrdup(a->blfs_path);
	v[n++] = handoff_num("--fuse-fd", (uint64_t)a->fuse_fd);
	v[n++] = handoff_num("--root-fd", (uint64_t)a->root_fd);
	if (a->status_fd >= 0)
		v[n++] = handoff_num("--status-fd", (uint64_t)a->status_fd);
	if (a->lock_fd >= 0)
		v[n++] = handoff_num("--lock-fd", (uint64_t)a->lock_fd);
	/* Named on the command line so ps shows who serves what. */
	xasprintf(&v[n++], "--drive=%s", a->drive);
	xasprintf(&v[n++], "--session=%s", a->session_id);
	xasprintf(&v[n++], "--mount-path=%s", a->mount_path);
	if (a->read_only)
		v[n++] = xstrdup("--read-only");
	if (a->cache_size > 0)
		v[n++] = handoff_num("--cache-size", a->cache_size);
	if (a->buffer_size > 0)
		v[n++] = handoff_num("--buffer-size", a->buffer_size);
	if (a->prefetch > 0)
		v[n++] = handoff_num("--prefetch", a->prefetch);
	if (a->writeback)
		v[n++] = xstrdup("--writeback");
	v[n] = NULL;
	return v;
}

void
handoff_argv_free(char **v)
{
	if (v == NULL)
		return;
	for (size_t i = 0; v[i] != NULL; i++)
		free(v[i]);
	free(v);
}

/* mountinfo escapes space, tab, newline and backslash as \ooo. */
static void
handoff_unescape(const char *in, size_t len, char *out, size_t outlen)
{
	size_t o = 0;

	for (size_t i = 0; i < len && o + 1 < outlen; i++) {
		if (in[i] == '\\' && i + 3 < len + 1 && i + 3 <= len &&
		    in[i + 1] >= '0' && in[i + 1] <= '3' &&
		    in[i + 2] >= '0' && in[i + 2] <= '7' &&
		    in[i + 3] >= '0' && in[i + 3] <= '7') {
			out[o++] = (char)((in[i + 1] - '0') * 64 +
			    (in[i + 2] - '0') * 8 + (in[i + 3] - '0'));
			i += 3;
		} else
			out[o++] = in[i];
	}
	out[o] = '\0';
}

static int
handoff_has_opt(const char *opts, size_t len, const char *opt)
{
	size_t n = strlen(opt);
	const char *p = opts, *end = opts + len;

	while (p < end) {
		const char *comma = memchr(p, ',', (size_t)(end - p));
		size_t l = comma ? (size_t)(comma - p) : (size_t)(end - p);

		if (l == n && memcmp(p, opt, n) == 0)
			return 1;
		p += l + 1;
	}
	return 0;
}

int
handoff_mountinfo_parse(const char *text, const char *path,
    struct handoff_mountinfo *mi)
{
	const char *line = text;
	int found = 0;

	while (line != NULL && *line != '\0') {
		const char *eol = strchr(line, '\n');
		const char *end = eol ? eol : line + strlen(line);
		const char *f[6], *p = line, *sep;
		size_t flen[6];
		char mp[4096];
		int i;

		/* id parent major:minor root mount-point options ... - type
		 * source super-options */
		for (i = 0; i < 6 && p < end; i++) {
			const char *sp = memchr(p, ' ', (size_t)(end - p));

			f[i] = p;
			flen[i] = sp ? (size_t)(sp - p) : (size_t)(end - p);
			p = sp ? sp + 1 : end;
		}
		sep = NULL;
		for (const char *q = p; q + 2 < end; q++)
			if (q[0] == '-' && q[1] == ' ' && (q == p || q[-1] ==
			    ' ')) {
				sep = q + 2;
				break;
			}
		if (i == 6 && sep != NULL) {
			handoff_unescape(f[4], flen[4], mp, sizeof(mp));
			if (strcmp(mp, path) == 0) {
				const char *type = sep;
				const char *tsp = memchr(type, ' ',
				    (size_t)(end - type));
				size_t tlen = tsp ? (size_t)(tsp - type) :
				    (size_t)(end - type);

				memset(mi, 0, sizeof(*mi));
				if (tlen == strlen(HANDOFF_FSTYPE) &&
				    memcmp(type, HANDOFF_FSTYPE, tlen) == 0) {
					const char *src = tsp ? tsp + 1 : end;
					const char *ssp = memchr(src, ' ',
					    (size_t)(end - src));

					found = 1;
					mi->read_only = handoff_has_opt(f[5],
					    flen[5], "ro");
					mi->nosuid = handoff_has_opt(f[5],
					    flen[5], "nosuid");
					mi->nodev = handoff_has_opt(f[5],
					    flen[5], "nodev");
					handoff_unescape(src, ssp ?
					    (size_t)(ssp - src) :
					    (size_t)(end - src), mi->source,
					    sizeof(mi->source));
				} else
					found = 2;	/* later lines are on top */
			}
		}
		line = eol ? eol + 1 : NULL;
	}
	return found;
}

int
handoff_mountinfo_find(const char *path, struct handoff_mountinfo *mi)
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
				return -1;
			}
			cap = cap ? cap * 2 : 65536;
			buf = xreallocarray(buf, cap, 1);
		}
		n = read(fd, buf + len, cap - len - 1);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	close(fd);
	buf[len] = '\0';
	r = handoff_mountinfo_parse(buf, path, mi);
	free(buf);
	return r;
}
