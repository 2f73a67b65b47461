/* blctl drive: placeholder until the store lands. */
#include "config.h"

#include <stdio.h>

#include "blctl/blctl.h"

int
blctl_drive_main(int argc, char **argv, int json)
{
	fprintf(stderr, "blctl: drive commands are not built yet\n");
	return BLCTL_EXIT_USAGE;
}
