/* A drive's description (drive.json): validation and strict JSON in and out. */
#ifndef BL_DRIVE_H
#define BL_DRIVE_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "common/labels.h"
#include "mountmgr/perm.h"

/*
 * Bounds. A name is a DNS label (RFC 1123): 1-63 bytes of [a-z0-9-], not
 * starting or ending with '-'. display_name: 1-256 bytes of UTF-8, no
 * control characters. Labels: at most 64; a key is 1-63 bytes with no
 * control character, '=', ',' or ':' (the command line splits on them);
 * a value is 1-256 bytes of UTF-8 with no control character. The same
 * bounds as a permission rule's labels (perm.h), so a drive's label can
 * always be written as a rule. drive.json is at most 64 KiB.
 */
#define DRIVE_NAME_MAX		63
#define DRIVE_DISPLAY_NAME_MAX	256
#define DRIVE_LABELS_MAX	PERM_LABELS_MAX
#define DRIVE_LABEL_KEY_MAX	PERM_LABEL_KEY_MAX
#define DRIVE_LABEL_VALUE_MAX	PERM_LABEL_VALUE_MAX
#define DRIVE_JSON_MAX		(64 * 1024)

/*
 * drive.json:
 *   {"name": "data", "display_name": "Data", "labels": {"env": "dev"},
 *    "permissions": [ ...perm.h rules... ], "access_mode": "RWO",
 *    "capacity_bytes": 10737418240, "created_at": "2025-01-02T03:04:05.678Z"}
 * created_at is an RFC 3339 timestamp string; we write UTC with
 * milliseconds, and accept any RFC 3339 date-time written by hand.
 * name and created_at are required; display_name defaults to name,
 * labels and permissions to none, access_mode to "RWX", capacity_bytes
 * (an integer, 1 to DRIVE_CAPACITY_MAX) to none: unlimited. Any other
 * key is refused.
 *
 * A volume (drive_kind) adds "kind": "volume" and "size_bytes": its
 * image's size, from VOLUME_SIZE_MIN to DRIVE_CAPACITY_MAX. A volume is
 * RWO by nature: access_mode, when given, must say so, and it has no
 * capacity_bytes (its size is its capacity). A drive has no size_bytes.
 * "kind" is left out for a plain drive, so an older agent reads such a
 * drive as before and refuses a volume (an unknown field).
 */

/* What a drive is: files served by blfs, or an ext4 image on a loop. */
enum drive_kind {
	DRIVE_KIND_DRIVE = 0,	/* shared, served by blfs */
	DRIVE_KIND_VOLUME,	/* one fixed-size ext4 image, one mount */
};

/* The smallest volume: room for ext4's journal and a few files. */
#define VOLUME_SIZE_MIN		((uint64_t)16 << 20)

/*
 * Who may mount a drive at once, across every agent sharing the store.
 * Checked in the mount child under the drive's lock (store_mount_lock),
 * the lock delete takes, so two agents racing never both win.
 */
enum drive_access {
	DRIVE_ACCESS_RWX = 0,	/* any number of mounts, either mode */
	DRIVE_ACCESS_RWO,	/* one mount at a time */
	DRIVE_ACCESS_ROX,	/* read-only mounts only */
};

struct drive {
	char			*name;
	char			*display_name;
	struct labels		 labels;
	struct perm_rules	 perms;
	enum drive_access	 access;
	uint64_t		 capacity;	/* bytes; 0: unlimited */
	enum drive_kind		 kind;
	uint64_t		 size;		/* a volume's bytes; else 0 */
	char			*created_at;
};

/* What JSON's integers and a file size (off_t) both hold. */
#define DRIVE_CAPACITY_MAX	((uint64_t)INT64_MAX)

struct drive	*drive_new(void);
void		 drive_free(struct drive *);

/* Each returns 0, or -1 with *cause naming the field and what was wrong. */
int		 drive_name_check(const char *name, char **cause);
int		 drive_display_name_check(const char *s, char **cause);
int		 drive_label_check(const char *key, const char *value,
		     char **cause);
int		 drive_created_at_check(const char *s, char **cause);
/*
 * "RWX", "RWO" or "ROX" as drive.json spells them; with nocase also
 * "rwx", "Rwo"... (the command line). -1 with *cause naming the modes.
 */
int		 drive_access_parse(const char *s, int nocase,
		     enum drive_access *out, char **cause);
const char	*drive_access_name(enum drive_access);
/* "drive" or "volume"; -1 with *cause naming both. */
int		 drive_kind_parse(const char *s, enum drive_kind *out,
		     char **cause);
const char	*drive_kind_name(enum drive_kind);
/* What the mode means, in a few words for people. */
const char	*drive_access_words(enum drive_access);
/*
 * The mount-time decision: may one more mount of drive d (read-only or
 * not) start while held other mounts hold it (holders: their session
 * ids, for the message)? 0, or -EACCES (a read-write mount of a ROX
 * drive) or -EBUSY (an RWO drive mounted already), with *cause.
 */
int		 drive_access_check(const struct drive *d, int read_only,
		     int held, const char *holders, char **cause);
/*
 * A size as people write it: bytes, or a number with B, KiB, MiB, GiB,
 * TiB or PiB ("10GiB", "500MiB"). -1 with *cause for anything else, 0,
 * or past DRIVE_CAPACITY_MAX.
 */
int		 drive_size_parse(const char *s, uint64_t *out, char **cause);
/* "10 GiB", "1.5 MiB", "512 B": for people. */
char		*drive_size_words(uint64_t);
/* Every field of d, together (label count included). */
int		 drive_check(const struct drive *d, char **cause);

/* Now, as drive.json spells it (UTC, milliseconds). */
char		*drive_created_at_now(void);

/*
 * Strict parse of drive.json's text: JSON syntax, duplicate keys, unknown
 * keys, types, bounds. -1 with *cause like "field \"labels\": ...".
 * Never trusts len beyond DRIVE_JSON_MAX.
 */
int		 drive_from_json(const char *buf, size_t len, struct drive **out,
		     char **cause);
/*
 * The object (new reference), or NULL on allocation failure. It always
 * holds access_mode, for people and scripts reading it.
 */
json_t		*drive_to_json(const struct drive *d);
/*
 * drive.json's text: indented, ending in a newline. access_mode is left
 * out when it is RWX, the default: an older agent sharing the store
 * reads such a drive as before, and refuses a drive whose mode it could
 * not enforce (an unknown field) rather than mount it as RWX.
 */
char		*drive_to_text(const struct drive *d);

#endif
