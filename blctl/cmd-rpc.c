/* blctl RPC commands: placeholder until the client lands. */
#include "config.h"

#include <stdio.h>

#include "blctl/blctl.h"

int
blctl_rpc_main(int argc, char **argv)
{
	fprintf(stderr, "blctl: RPC commands are not built yet\n");
	return BLCTL_EXIT_USAGE;
}
