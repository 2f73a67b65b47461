/*
 * Capability sets, the bounding set, ambient capabilities and securebits,
 * as 64-bit masks of CAP_* numbers. Only sandboxing/ includes this.
 */
#ifndef BL_CAPS_H
#define BL_CAPS_H

#include <stdint.h>

#define CAPS_BIT(c)	(UINT64_C(1) << (c))

/* The highest capability number the running kernel knows. */
int	caps_last(void);
/* Every capability the running kernel knows. */
uint64_t caps_all(void);

/* "CAP_NET_ADMIN", "cap_net_admin" or "net_admin"; 0, or -1 if unknown. */
int	caps_parse(const char *name, int *cap);
/* "CAP_NET_ADMIN" for CAP_NET_ADMIN; "CAP_<n>" for a number libcap lacks. */
const char *caps_name(int cap, char *buf, size_t len);

/* The calling thread's bounding set as the kernel holds it now. */
uint64_t caps_bounding(void);

/* The calling thread's permitted set, or 0 when it cannot be read. */
uint64_t caps_permitted(void);

/*
 * Drop every capability not in keep from the bounding set (needs
 * CAP_SETPCAP in the effective set). 0 or -1 with cause.
 */
int	caps_bound_limit(uint64_t keep, char **cause);

/*
 * Set and lock securebits (SECBIT_* values; needs CAP_SETPCAP), then read
 * them back so a kernel that ignored a bit cannot go unnoticed.
 */
int	caps_secbits_set(unsigned long bits, char **cause);

/*
 * Permitted = effective = perm, inheritable = inh, in one capset(2): the
 * caller can only lower what it holds (perm is cut to the current permitted
 * set first when trim is set; otherwise asking for more is an error).
 */
int	caps_set(uint64_t perm, uint64_t inh, int trim, char **cause);

/*
 * Clear the ambient set, then raise exactly the capabilities in mask (each
 * must be permitted and inheritable already).
 */
int	caps_ambient_set(uint64_t mask, char **cause);

/*
 * Read the effective, bounding and ambient sets back from the kernel and
 * compare: a step that reported success but left more behind is caught
 * here, before anything untrusted runs. 0 or -1 with cause.
 */
int	caps_verify(uint64_t eff, uint64_t bnd, uint64_t amb, char **cause);

#endif
