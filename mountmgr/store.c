/*
 * store.h for callers, whatever the kind: the --store string is read once
 * here, and every call goes to the kind that opened the store.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "mountmgr/drive.h"
#include "mountmgr/store.h"
#include "mountmgr/store-kind.h"

/* "KIND:..." names a kind; anything else is a posix store's directory. */
int
store_open(const char *spec, int flags, struct store **out, char **cause)
{
	size_t n;

	*out = NULL;
	if (spec == NULL || *spec == '\0')
		return cause_fail(cause, -EINVAL, "store path is empty");
	n = strspn(spec, "abcdefghijklmnopqrstuvwxyz0123456789");
	if (n > 0 && spec[n] == ':')
		return cause_fail(cause, -EINVAL, "store %s: no store kind "
		    "\"%.*s\" in this build (a store is a directory; "
		    "./%s names one by that name)", spec, (int)n, spec, spec);
	return posix_store_open(spec, flags, out, cause);
}

void
store_free(struct store *s)
{
	if (s != NULL)
		s->ops->free(s);
}

const char *
store_path(const struct store *s)
{
	return s->path;
}

int
store_drive_create(struct store *s, const struct drive *d, char **cause)
{
	return s->ops->drive_create(s, d, NULL, cause);
}

int
store_drive_create_template(struct store *s, const struct drive *d,
    const char *template, char **cause)
{
	return s->ops->drive_create(s, d, template, cause);
}

int
store_drive_load(struct store *s, const char *name, struct drive **out,
    char **cause)
{
	return s->ops->drive_load(s, name, out, cause);
}

int
store_drive_list(struct store *s, struct store_list *out, char **cause)
{
	return s->ops->drive_list(s, out, cause);
}

void
store_list_clear(struct store_list *l)
{
	for (size_t i = 0; i < l->n; i++) {
		free(l->v[i].name);
		drive_free(l->v[i].drive);
		free(l->v[i].cause);
	}
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

int
store_drive_update(struct store *s, const char *name,
    const struct store_update *u, struct drive **out, char **cause)
{
	return s->ops->drive_update(s, name, u, out, cause);
}

int
store_drive_delete(struct store *s, const char *name, char **cause)
{
	return s->ops->drive_delete(s, name, cause);
}

int
store_drive_mounts(struct store *s, const char *name)
{
	return s->ops->drive_mounts(s, name);
}

int
store_mount_lock(struct store *s, const char *name, const char *session_id,
    int read_only, int *lockfd, char **cause)
{
	return s->ops->mount_lock(s, name, session_id, read_only, lockfd,
	    cause);
}

int
store_mount_dir(struct store *s, const char *name, int *fd, char **cause)
{
	return s->ops->mount_dir(s, name, fd, cause);
}

int
store_mount_usage(struct store *s, const char *name, int *ufd,
    uint64_t *capacity, char **cause)
{
	return s->ops->mount_usage(s, name, ufd, capacity, cause);
}

int
store_drive_usage(struct store *s, const char *name, uint64_t *used,
    uint64_t *held, char **cause)
{
	return s->ops->drive_usage(s, name, used, held, cause);
}

int
store_mount_unlock_cleanup(struct store *s, const char *name,
    const char *session_id, char **cause)
{
	return s->ops->mount_unlock_cleanup(s, name, session_id, cause);
}

int
store_open_drive_data(struct store *s, const char *name, int *datafd,
    char **cause)
{
	return s->ops->open_drive_data(s, name, datafd, cause);
}

int
store_open_volume(struct store *s, const char *name, int read_only,
    int *imgfd, char **cause)
{
	return s->ops->open_volume(s, name, read_only, imgfd, cause);
}
