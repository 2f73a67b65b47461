/* Key/value labels as a small array: a handful per workload or drive. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "common/labels.h"
#include "common/xmalloc.h"

const char *
labels_get(const struct labels *l, const char *key)
{
	for (size_t i = 0; i < l->n; i++)
		if (strcmp(l->v[i].key, key) == 0)
			return l->v[i].value;
	return NULL;
}

void
labels_set(struct labels *l, const char *key, const char *value)
{
	for (size_t i = 0; i < l->n; i++) {
		if (strcmp(l->v[i].key, key) == 0) {
			free(l->v[i].value);
			l->v[i].value = xstrdup(value);
			return;
		}
	}
	l->v = xreallocarray(l->v, l->n + 1, sizeof(*l->v));
	l->v[l->n].key = xstrdup(key);
	l->v[l->n].value = xstrdup(value);
	l->n++;
}

void
labels_clear(struct labels *l)
{
	for (size_t i = 0; i < l->n; i++) {
		free(l->v[i].key);
		free(l->v[i].value);
	}
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

void
labels_copy(struct labels *dst, const struct labels *src)
{
	labels_clear(dst);
	for (size_t i = 0; i < src->n; i++)
		labels_set(dst, src->v[i].key, src->v[i].value);
}
