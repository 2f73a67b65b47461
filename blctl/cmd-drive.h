/* What blctl's drive commands share (cmd-drive.c, cmd-drive-caps.c). */
#ifndef BL_CMD_DRIVE_H
#define BL_CMD_DRIVE_H

#include <stddef.h>

#include <jansson.h>

#include "mountmgr/store.h"

/* The ceph store's defaults, as store-ceph.c applies them. */
#define DRIVE_CEPH_CONF	"/etc/ceph/ceph.conf"
#define DRIVE_CEPH_ID	"admin"

struct drive_cli {
	const char		*store;
	int			 json;
	const char		*cmd;		/* "create"... for messages */
	struct store_options	 opts;		/* --ceph-conf... */
};

/* A usage error: the message, a pointer to --help; exit status 2. */
int	drive_usage_fail(struct drive_cli *, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
/* A store error: "blctl: drive CMD NAME: cause"; exit status 1. */
int	drive_store_fail(struct drive_cli *, const char *name,
	    const char *cause);
int	drive_open_store(struct drive_cli *, const char *name, int flags,
	    struct store **);
/* Prints and frees j; -1 when it cannot be encoded. */
int	drive_print_json(json_t *j);
/* The static name of a --ceph-* option (key without "--"), or NULL. */
const char *drive_store_option_known(const char *key, size_t len);
/* Keeps a store option (key static); -1 after a usage error. */
int	drive_store_option(struct drive_cli *, const char *key,
	    const char *value);

/* cmd-drive-caps.c */
#define DRIVE_CAPS_ARGS		"[--labels K=V[,K=V...]]"
#define DRIVE_CAPS_HELP \
	"Print the caps a sandbox with these labels gets in a ceph store:\n" \
	"for each drive whose rules grant it, read or read-write on the\n" \
	"granted path only, on the MDS and on the drive's RADOS namespace\n" \
	"(mds, osd; mon: allow r). Derived from the rules as a mount is.\n" \
	"  --labels K=V,...   the sandbox's labels (repeatable); none: a\n" \
	"                     sandbox without a token\n"
#define DRIVE_AUTHORIZE_ARGS \
	"--id client.NAME --keyring-out FILE [--labels K=V[,K=V...]]"
#define DRIVE_AUTHORIZE_HELP \
	"Create the cephx identity of a sandbox with these labels, or give\n" \
	"an existing one the caps its labels get now (run it again after a\n" \
	"rule changes), and write its keyring, mode 0600.\n" \
	"  --id client.NAME   the sandbox's identity\n" \
	"  --keyring-out FILE where its keyring goes (replaced whole)\n" \
	"  --labels K=V,...   the sandbox's labels, as for caps\n"
int	drive_cmd_caps(struct drive_cli *, int argc, char **argv);
int	drive_cmd_authorize(struct drive_cli *, int argc, char **argv);

#endif
