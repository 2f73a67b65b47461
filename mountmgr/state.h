/* Mount states and their wire names (DESIGN: mount state machine). */
#ifndef BL_STATE_H
#define BL_STATE_H

enum mount_state {
	MOUNT_PENDING,
	MOUNT_MOUNTING,
	MOUNT_MOUNTED,
	MOUNT_UNMOUNTING,
	MOUNT_GONE,
	MOUNT_FAILED,
};

const char	*mount_state_name(enum mount_state);
/* Settled: nothing more will happen without a new request. */
int		 mount_state_settled(enum mount_state);

#endif
