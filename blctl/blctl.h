/* blctl's command families. Exit codes: 0 ok, 1 error from the agent or store, 2 usage. */
#ifndef BL_BLCTL_H
#define BL_BLCTL_H

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

#endif
