/* Key/value labels: a workload's (from its token) or a drive's. */
#ifndef BL_LABELS_H
#define BL_LABELS_H

#include <stddef.h>

struct label {
	char	*key;
	char	*value;
};

struct labels {
	size_t		 n;
	struct label	*v;
};

/* NULL when absent. */
const char	*labels_get(const struct labels *, const char *key);
/* Copies key and value; replaces an existing key. */
void		 labels_set(struct labels *, const char *key, const char *value);
void		 labels_clear(struct labels *);
void		 labels_copy(struct labels *dst, const struct labels *src);

#endif
