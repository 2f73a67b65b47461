/*
 * libcephfs and librados, loaded (dlopen) when a ceph store is used,
 * never linked: they bring Ceph's whole common library (11 MB; 60 ms and
 * 16 MB at the start of every process that links it), which the agent,
 * its mount children and every posix mount's blfs must not pay.
 *
 * Include this instead of <cephfs/libcephfs.h> and <rados/librados.h>:
 * after their declarations, each function used is a function-like macro
 * calling through the table (function-like, so struct ceph_statx stays a
 * struct), and code calls ceph_mount() as usual once cephlib_load_fs()
 * (or _rados) succeeded. A function added to the code must be added here.
 */
#ifndef BL_CEPHLIB_H
#define BL_CEPHLIB_H

#include <cephfs/libcephfs.h>
#include <rados/librados.h>

#define CEPHLIB_FS(X)							\
	X(ceph_close) X(ceph_closedir) X(ceph_conf_get) \
	X(ceph_conf_read_file) X(ceph_conf_set) X(ceph_create) \
	X(ceph_fsync) X(ceph_init) X(ceph_lgetxattr) \
	X(ceph_ll_close) X(ceph_ll_create) X(ceph_ll_fallocate) \
	X(ceph_ll_fsync) X(ceph_ll_getattr) X(ceph_ll_getlk) \
	X(ceph_ll_getxattr) X(ceph_ll_link) X(ceph_ll_listxattr) \
	X(ceph_ll_lookup) X(ceph_ll_lookup_root) X(ceph_ll_mkdir) \
	X(ceph_ll_mknod) X(ceph_ll_open) X(ceph_ll_opendir) \
	X(ceph_ll_put) X(ceph_ll_read) X(ceph_ll_readlink) \
	X(ceph_ll_register_callbacks) X(ceph_ll_releasedir) X(ceph_ll_removexattr) \
	X(ceph_ll_rename) X(ceph_ll_rmdir) X(ceph_ll_setattr) \
	X(ceph_ll_setlk) X(ceph_ll_setxattr) X(ceph_ll_statfs) \
	X(ceph_ll_symlink) X(ceph_ll_unlink) X(ceph_ll_walk) \
	X(ceph_ll_write) X(ceph_mkdir) X(ceph_mount) \
	X(ceph_mount_perms) X(ceph_open) X(ceph_opendir) \
	X(ceph_read) X(ceph_readdir_r) X(ceph_readdirplus_r) \
	X(ceph_release) X(ceph_rename) X(ceph_rmdir) \
	X(ceph_seekdir) X(ceph_select_filesystem) X(ceph_setxattr) \
	X(ceph_statx) X(ceph_sync_fs) X(ceph_telldir) \
	X(ceph_umask) X(ceph_unlink) X(ceph_unmount) \
	X(ceph_userperm_destroy) X(ceph_userperm_new) X(ceph_write)

#define CEPHLIB_RADOS(X)							\
	X(rados_buffer_free) X(rados_conf_read_file) X(rados_conf_set) \
	X(rados_connect) X(rados_create) X(rados_mon_command) \
	X(rados_shutdown)

#define CEPHLIB_PTR(f)	__typeof__(f) *f;
struct cephlib {
	CEPHLIB_FS(CEPHLIB_PTR)
	CEPHLIB_RADOS(CEPHLIB_PTR)
};
#undef CEPHLIB_PTR
extern struct cephlib cephlib;

/* 0, or -ENOENT with *cause naming the library or the function missing. */
int	cephlib_load_fs(char **cause);
int	cephlib_load_rados(char **cause);

#ifndef CEPHLIB_NO_MACROS
#define ceph_close(...) (cephlib.ceph_close)(__VA_ARGS__)
#define ceph_closedir(...) (cephlib.ceph_closedir)(__VA_ARGS__)
#define ceph_conf_get(...) (cephlib.ceph_conf_get)(__VA_ARGS__)
#define ceph_conf_read_file(...) (cephlib.ceph_conf_read_file)(__VA_ARGS__)
#define ceph_conf_set(...) (cephlib.ceph_conf_set)(__VA_ARGS__)
#define ceph_create(...) (cephlib.ceph_create)(__VA_ARGS__)
#define ceph_fsync(...) (cephlib.ceph_fsync)(__VA_ARGS__)
#define ceph_init(...) (cephlib.ceph_init)(__VA_ARGS__)
#define ceph_lgetxattr(...) (cephlib.ceph_lgetxattr)(__VA_ARGS__)
#define ceph_ll_close(...) (cephlib.ceph_ll_close)(__VA_ARGS__)
#define ceph_ll_create(...) (cephlib.ceph_ll_create)(__VA_ARGS__)
#define ceph_ll_fallocate(...) (cephlib.ceph_ll_fallocate)(__VA_ARGS__)
#define ceph_ll_fsync(...) (cephlib.ceph_ll_fsync)(__VA_ARGS__)
#define ceph_ll_getattr(...) (cephlib.ceph_ll_getattr)(__VA_ARGS__)
#define ceph_ll_getlk(...) (cephlib.ceph_ll_getlk)(__VA_ARGS__)
#define ceph_ll_getxattr(...) (cephlib.ceph_ll_getxattr)(__VA_ARGS__)
#define ceph_ll_link(...) (cephlib.ceph_ll_link)(__VA_ARGS__)
#define ceph_ll_listxattr(...) (cephlib.ceph_ll_listxattr)(__VA_ARGS__)
#define ceph_ll_lookup(...) (cephlib.ceph_ll_lookup)(__VA_ARGS__)
#define ceph_ll_lookup_root(...) (cephlib.ceph_ll_lookup_root)(__VA_ARGS__)
#define ceph_ll_mkdir(...) (cephlib.ceph_ll_mkdir)(__VA_ARGS__)
#define ceph_ll_mknod(...) (cephlib.ceph_ll_mknod)(__VA_ARGS__)
#define ceph_ll_open(...) (cephlib.ceph_ll_open)(__VA_ARGS__)
#define ceph_ll_opendir(...) (cephlib.ceph_ll_opendir)(__VA_ARGS__)
#define ceph_ll_put(...) (cephlib.ceph_ll_put)(__VA_ARGS__)
#define ceph_ll_read(...) (cephlib.ceph_ll_read)(__VA_ARGS__)
#define ceph_ll_readlink(...) (cephlib.ceph_ll_readlink)(__VA_ARGS__)
#define ceph_ll_register_callbacks(...) (cephlib.ceph_ll_register_callbacks)(__VA_ARGS__)
#define ceph_ll_releasedir(...) (cephlib.ceph_ll_releasedir)(__VA_ARGS__)
#define ceph_ll_removexattr(...) (cephlib.ceph_ll_removexattr)(__VA_ARGS__)
#define ceph_ll_rename(...) (cephlib.ceph_ll_rename)(__VA_ARGS__)
#define ceph_ll_rmdir(...) (cephlib.ceph_ll_rmdir)(__VA_ARGS__)
#define ceph_ll_setattr(...) (cephlib.ceph_ll_setattr)(__VA_ARGS__)
#define ceph_ll_setlk(...) (cephlib.ceph_ll_setlk)(__VA_ARGS__)
#define ceph_ll_setxattr(...) (cephlib.ceph_ll_setxattr)(__VA_ARGS__)
#define ceph_ll_statfs(...) (cephlib.ceph_ll_statfs)(__VA_ARGS__)
#define ceph_ll_symlink(...) (cephlib.ceph_ll_symlink)(__VA_ARGS__)
#define ceph_ll_unlink(...) (cephlib.ceph_ll_unlink)(__VA_ARGS__)
#define ceph_ll_walk(...) (cephlib.ceph_ll_walk)(__VA_ARGS__)
#define ceph_ll_write(...) (cephlib.ceph_ll_write)(__VA_ARGS__)
#define ceph_mkdir(...) (cephlib.ceph_mkdir)(__VA_ARGS__)
#define ceph_mount(...) (cephlib.ceph_mount)(__VA_ARGS__)
#define ceph_mount_perms(...) (cephlib.ceph_mount_perms)(__VA_ARGS__)
#define ceph_open(...) (cephlib.ceph_open)(__VA_ARGS__)
#define ceph_opendir(...) (cephlib.ceph_opendir)(__VA_ARGS__)
#define ceph_read(...) (cephlib.ceph_read)(__VA_ARGS__)
#define ceph_readdir_r(...) (cephlib.ceph_readdir_r)(__VA_ARGS__)
#define ceph_readdirplus_r(...) (cephlib.ceph_readdirplus_r)(__VA_ARGS__)
#define ceph_release(...) (cephlib.ceph_release)(__VA_ARGS__)
#define ceph_rename(...) (cephlib.ceph_rename)(__VA_ARGS__)
#define ceph_rmdir(...) (cephlib.ceph_rmdir)(__VA_ARGS__)
#define ceph_seekdir(...) (cephlib.ceph_seekdir)(__VA_ARGS__)
#define ceph_select_filesystem(...) (cephlib.ceph_select_filesystem)(__VA_ARGS__)
#define ceph_setxattr(...) (cephlib.ceph_setxattr)(__VA_ARGS__)
#define ceph_statx(...) (cephlib.ceph_statx)(__VA_ARGS__)
#define ceph_sync_fs(...) (cephlib.ceph_sync_fs)(__VA_ARGS__)
#define ceph_telldir(...) (cephlib.ceph_telldir)(__VA_ARGS__)
#define ceph_umask(...) (cephlib.ceph_umask)(__VA_ARGS__)
#define ceph_unlink(...) (cephlib.ceph_unlink)(__VA_ARGS__)
#define ceph_unmount(...) (cephlib.ceph_unmount)(__VA_ARGS__)
#define ceph_userperm_destroy(...) (cephlib.ceph_userperm_destroy)(__VA_ARGS__)
#define ceph_userperm_new(...) (cephlib.ceph_userperm_new)(__VA_ARGS__)
#define ceph_write(...) (cephlib.ceph_write)(__VA_ARGS__)
#define rados_buffer_free(...) (cephlib.rados_buffer_free)(__VA_ARGS__)
#define rados_conf_read_file(...) (cephlib.rados_conf_read_file)(__VA_ARGS__)
#define rados_conf_set(...) (cephlib.rados_conf_set)(__VA_ARGS__)
#define rados_connect(...) (cephlib.rados_connect)(__VA_ARGS__)
#define rados_create(...) (cephlib.rados_create)(__VA_ARGS__)
#define rados_mon_command(...) (cephlib.rados_mon_command)(__VA_ARGS__)
#define rados_shutdown(...) (cephlib.rados_shutdown)(__VA_ARGS__)
#endif /* CEPHLIB_NO_MACROS */

#endif
