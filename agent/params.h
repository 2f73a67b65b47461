/* Declared parameters shared by the agent's methods and the wire fuzzer. */
#ifndef BL_PARAMS_H
#define BL_PARAMS_H

#include "rpc/schema.h"

extern const struct rpc_param params_mount[];
extern const struct rpc_param params_wait_mounts[];

#endif
