/* blctl: command-line client for blagent (RPC commands) and drive stores. */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "blctl/blctl.h"

int
main(int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "drive") == 0)
		return blctl_drive_main(argc - 1, argv + 1, 0);
	return blctl_rpc_main(argc, argv);
}
