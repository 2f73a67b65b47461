/* blctl: command-line client for blagent (RPC commands) and drive stores. */
#include "config.h"

#include "blctl/blctl.h"

int
main(int argc, char **argv)
{
	/* Global options come first; the RPC front end parses them and
	 * hands "drive ..." on to the store commands. */
	return blctl_rpc_main(argc, argv);
}
