/*
 * blfs on a ceph store (ceph.c): the connection to the cluster and the
 * operations table. Built only where libcephfs is (HAVE_LIBCEPHFS).
 */
#ifndef BL_BLFS_CEPH_H
#define BL_BLFS_CEPH_H

#include "blfs/blfs.h"

struct blfs_ceph_args {
	const char	*fs;		/* the CephFS file system's name */
	const char	*root;		/* the directory served, in it */
	const char	*id;		/* the cephx user, without "client." */
	int		 conf_fd;	/* ceph.conf, open for reading */
	int		 keyring_fd;	/* its keyring, open for reading */
	const char	*mount_timeout;	/* seconds, as Ceph's option wants */
	const char	*store;		/* the store's root in fs, where the
					 * drive's mount lock is taken; NULL:
					 * none (a test's blfs) */
};

extern const struct fuse_lowlevel_ops blfs_ceph_ops;

/*
 * Connects as a->id, mounts a->root of a->fs and registers the callbacks
 * that carry other clients' changes; 0 or -errno with *cause naming the
 * step and the cluster's answer.
 */
int	ceph_attach(const struct blfs_ceph_args *a, char **cause);
/*
 * The monitors' ports, from the configuration (mon_host), for the
 * Landlock network rules; how many, at most max.
 */
int	ceph_mon_ports(unsigned *ports, int max);
/* The thread passing those changes to the kernel (blfs_cfg.se set). */
int	ceph_start(void);
void	ceph_detach(void);

#endif
