/* Mount states and their wire names. */
#include "config.h"

#include "mountmgr/state.h"

const char *
mount_state_name(enum mount_state s)
{
	switch (s) {
	case MOUNT_PENDING:
		return "pending";
	case MOUNT_MOUNTING:
		return "mounting";
	case MOUNT_MOUNTED:
		return "mounted";
	case MOUNT_UNMOUNTING:
		return "unmounting";
	case MOUNT_GONE:
		return "gone";
	case MOUNT_FAILED:
		return "failed";
	}
	return "unknown";
}

int
mount_state_settled(enum mount_state s)
{
	return s == MOUNT_MOUNTED || s == MOUNT_FAILED || s == MOUNT_GONE;
}
