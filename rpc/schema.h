/*
 * Declared parameters: each method lists its named arguments once (name,
 * type, default, required) and every request is checked against that
 * list. Unknown keys are errors: a misspelt read_only must never become a
 * read-write mount.
 */
#ifndef BL_SCHEMA_H
#define BL_SCHEMA_H

#include <stddef.h>
#include <stdint.h>

#include <msgpack.h>

enum rpc_ptype {
	RPC_P_STR,
	RPC_P_BOOL,
	RPC_P_UINT,
	RPC_P_STR_ARRAY,
	RPC_P_MAP,		/* nested named arguments, declared in .sub */
};

struct rpc_param {
	const char		*name;
	enum rpc_ptype		 type;
	int			 required;
	uint64_t		 max;	/* RPC_P_UINT: largest value; STR: longest;
					   STR_ARRAY: most entries (0: a default) */
	const char		*def_str;
	uint64_t		 def_uint;
	int			 def_bool;
	const struct rpc_param	*sub;	/* RPC_P_MAP; lists end with a NULL name */
};

struct rpc_args;

struct rpc_value {
	int		 present;	/* given by the caller */
	char		*str;
	uint64_t	 u;
	int		 b;
	char		**strs;
	size_t		 nstrs;
	struct rpc_args	*map;
};

/* One allocation with its values: a request costs one malloc, not two. */
struct rpc_args {
	const struct rpc_param	*decl;
	size_t			 n;
	struct rpc_value	 v[];
};

/*
 * params as it came on the wire: an array holding one map, or empty.
 * Returns 0, or -1 with *cause naming the field and what was wrong.
 */
int	rpc_args_parse(const struct rpc_param *decl, const msgpack_object *params,
	    struct rpc_args **out, char **cause);
void	rpc_args_free(struct rpc_args *);

/* Look-ups by declared name (a name not declared is a programming error). */
int		 rpc_args_has(const struct rpc_args *, const char *name);
const char	*rpc_args_str(const struct rpc_args *, const char *name);
uint64_t	 rpc_args_uint(const struct rpc_args *, const char *name);
int		 rpc_args_bool(const struct rpc_args *, const char *name);
const struct rpc_args *rpc_args_map(const struct rpc_args *, const char *name);
char *const	*rpc_args_strs(const struct rpc_args *, const char *name,
		    size_t *n);

#endif
