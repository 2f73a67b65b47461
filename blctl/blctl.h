/* blctl's command families. Exit codes: 0 ok, 1 error from the agent or store, 2 usage. */
#ifndef BL_BLCTL_H
#define BL_BLCTL_H

#include <stdio.h>

#include "rpc/client.h"

#define BLCTL_EXIT_OK		0
#define BLCTL_EXIT_ERROR	1
#define BLCTL_EXIT_USAGE	2

/*
 * `blctl [--json] drive [--store DIR] create|list|get|update|delete ...`.
 * argv[0] is "drive"; json is set when --json came before "drive".
 */
int	blctl_drive_main(int argc, char **argv, int json);

/* Everything else: ping, status, wait, watch, mount, unmount. */
int	blctl_rpc_main(int argc, char **argv);

/* One RPC command's connection and output settings (cmd-rpc.c). */
struct blctl {
	const char		*socket;
	int			 socket_given;
	int			 json;
	struct rpc_client	*cl;
};
/* read_only: the status socket will do when the control one is closed. */
int	blctl_connect(struct blctl *, int read_only);
/* Sends and waits; prints the agent's error and returns -1 on failure. */
int	blctl_call(struct blctl *, const char *method, rpc_pack_fn *,
	    const void *arg, struct wire_msg *resp);
void	blctl_json_print(FILE *, const msgpack_object *);
/* stats [ID|PATH] and metrics (cmd-stats.c). */
int	blctl_cmd_stats(struct blctl *, int argc, char **argv);
int	blctl_cmd_metrics(struct blctl *, int argc, char **argv);

#endif
