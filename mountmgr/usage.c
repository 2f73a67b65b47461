/* A drive's usage file (usage.h): read, written, and counted again. */
#include "config.h"

#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/util.h"
#include "common/xmalloc.h"
#include "mountmgr/usage.h"

/* A tree deeper than this is not walked further (fds per level). */
#define USAGE_DEPTH_MAX	512

int
usage_lock(int fd)
{
	struct flock fl;

	memset(&fl, 0, sizeof(fl));
	fl.l_type = F_WRLCK;
	fl.l_whence = SEEK_SET;
	while (fcntl(fd, F_OFD_SETLKW, &fl) == -1)
		if (errno != EINTR)
			return -errno;
	return 0;
}

void
usage_unlock(int fd)
{
	struct flock fl;

	memset(&fl, 0, sizeof(fl));
	fl.l_type = F_UNLCK;
	fl.l_whence = SEEK_SET;
	(void)fcntl(fd, F_OFD_SETLK, &fl);
}

static int
usage_number(const char *s, uint64_t *v)
{
	return parse_u64(s, INT64_MAX, v);
}

static int
usage_sid_ok(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > USAGE_SESSION_MAX || s[0] == '.')
		return 0;
	return strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "0123456789._-") == n;
}

int
usage_read(int fd, struct usage *u)
{
	char *buf, *line, *next, *sp;
	ssize_t n;
	uint64_t v;
	int seen_used = 0, r = 0;

	memset(u, 0, sizeof(*u));
	buf = xmalloc(USAGE_FILE_MAX + 1);
	n = pread(fd, buf, USAGE_FILE_MAX + 1, 0);
	if (n < 0 || n > USAGE_FILE_MAX) {
		free(buf);
		return n < 0 ? -errno : -EIO;
	}
	buf[n] = '\0';
	if (strlen(buf) != (size_t)n)
		r = -EIO;
	for (line = buf; r == 0 && *line != '\0'; line = next) {
		if ((next = strchr(line, '\n')) == NULL) {
			r = -EIO;	/* torn: every line ends */
			break;
		}
		*next++ = '\0';
		if (strncmp(line, "used ", 5) == 0 && !seen_used &&
		    usage_number(line + 5, &u->used) == 0) {
			seen_used = 1;
			continue;
		}
		if (strncmp(line, "held ", 5) != 0 ||
		    (sp = strchr(line + 5, ' ')) == NULL) {
			r = -EIO;
			break;
		}
		*sp = '\0';
		if (!usage_sid_ok(line + 5) || usage_number(sp + 1, &v) != 0 ||
		    usage_held(u, line + 5, 0) != NULL ||
		    u->n == USAGE_HELD_MAX) {
			r = -EIO;
			break;
		}
		*usage_held(u, line + 5, 1) = v;
	}
	if (r == 0 && n > 0 && !seen_used)
		r = -EIO;
	free(buf);
	return r;
}

int
usage_write(int fd, const struct usage *u)
{
	char *buf, *p;
	size_t i, len;
	int r = 0;

	buf = xmalloc(USAGE_FILE_MAX);
	p = buf;
	p += snprintf(p, 64, "used %" PRIu64 "\n", u->used);
	for (i = 0; i < u->n; i++)
		p += snprintf(p, USAGE_SESSION_MAX + 64, "held %s %" PRIu64 "\n",
		    u->held[i].sid, u->held[i].bytes);
	len = (size_t)(p - buf);
	if (pwrite(fd, buf, len, 0) != (ssize_t)len ||
	    ftruncate(fd, (off_t)len) == -1)
		r = errno != 0 ? -errno : -EIO;
	free(buf);
	return r;
}

uint64_t
usage_total(const struct usage *u)
{
	uint64_t t = u->used;
	size_t i;

	for (i = 0; i < u->n; i++)
		t = t + u->held[i].bytes < t ? UINT64_MAX :
		    t + u->held[i].bytes;
	return t;
}

uint64_t *
usage_held(struct usage *u, const char *sid, int create)
{
	size_t i;

	for (i = 0; i < u->n; i++)
		if (strcmp(u->held[i].sid, sid) == 0)
			return &u->held[i].bytes;
	if (!create || u->n == USAGE_HELD_MAX || strlen(sid) >
	    USAGE_SESSION_MAX)
		return NULL;
	snprintf(u->held[u->n].sid, sizeof(u->held[u->n].sid), "%s", sid);
	u->held[u->n].bytes = 0;
	return &u->held[u->n++].bytes;
}

void
usage_forget(struct usage *u, const char *sid)
{
	size_t i;

	for (i = 0; i < u->n; i++)
		if (strcmp(u->held[i].sid, sid) == 0) {
			u->held[i] = u->held[--u->n];
			return;
		}
}

/* Inodes with more than one link, counted once: a small open set. */
struct usage_seen {
	uint64_t	*v;	/* ino ^ dev mixed; 0: empty */
	size_t		 cap, n;
};

static int
usage_seen_add(struct usage_seen *s, dev_t dev, ino_t ino)
{
	uint64_t key = (((uint64_t)ino * 0x9e3779b97f4a7c15ULL) ^
	    ((uint64_t)dev << 1)) | 1;
	size_t i, old = s->cap;
	uint64_t *ov = s->v;

	if (2 * (s->n + 1) > s->cap) {
		s->cap = old == 0 ? 64 : old * 2;
		s->v = xcalloc(s->cap, sizeof(*s->v));
		s->n = 0;
		for (i = 0; i < old; i++) {
			size_t j;

			if (ov[i] == 0)
				continue;
			for (j = ov[i] & (s->cap - 1); s->v[j] != 0;
			    j = (j + 1) & (s->cap - 1))
				;
			s->v[j] = ov[i];
			s->n++;
		}
		free(ov);
	}
	for (i = key & (s->cap - 1); s->v[i] != 0; i = (i + 1) & (s->cap - 1))
		if (s->v[i] == key)
			return 0;
	s->v[i] = key;
	s->n++;
	return 1;
}

static int
usage_walk(int dfd, struct usage_seen *seen, int depth, uint64_t *sum)
{
	struct dirent *e;
	struct stat st;
	DIR *dir;
	int fd, r = 0;

	if (depth > USAGE_DEPTH_MAX)
		return -ELOOP;
	if ((dir = fdopendir(dfd)) == NULL) {
		close(dfd);
		return -errno;
	}
	while (r == 0 && (e = readdir(dir)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		if (fstatat(dirfd(dir), e->d_name, &st, AT_SYMLINK_NOFOLLOW) ==
		    -1) {
			if (errno != ENOENT)
				r = -errno;
			continue;
		}
		if (S_ISREG(st.st_mode)) {
			if (st.st_nlink == 1 ||
			    usage_seen_add(seen, st.st_dev, st.st_ino))
				*sum += (uint64_t)st.st_size;
		} else if (S_ISDIR(st.st_mode)) {
			fd = openat(dirfd(dir), e->d_name, O_RDONLY |
			    O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (fd == -1) {
				if (errno != ENOENT)
					r = -errno;
				continue;
			}
			r = usage_walk(fd, seen, depth + 1, sum);
		}
	}
	closedir(dir);
	return r;
}

int64_t
usage_count_files(int dirfd)
{
	struct usage_seen seen = { NULL, 0, 0 };
	uint64_t sum = 0;
	int fd, r;

	fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd == -1)
		return -errno;
	r = usage_walk(fd, &seen, 0, &sum);
	free(seen.v);
	if (r != 0)
		return r;
	return sum > INT64_MAX ? INT64_MAX : (int64_t)sum;
}
