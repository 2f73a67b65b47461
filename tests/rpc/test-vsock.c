/*
 * The vsock listener of rpc/server.c: which peer CIDs are let in, and
 * listening itself (a free port, a port in use, the message when the
 * kernel has no AF_VSOCK). Connections end to end are in agent-vsock.py.
 */
#include "config.h"

#include <sys/socket.h>

#include <linux/vm_sockets.h>

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "rpc/server.h"
#include "tests/tap.h"

static void
test_peer_allowed(void)
{
	static const uint32_t host[] = { VMADDR_CID_HOST };
	static const uint32_t some[] = { 2, 3, 1024, UINT32_MAX - 1 };

	tap_ok(rpc_vsock_peer_allowed(VMADDR_CID_HOST, host, 1),
	    "the host (CID 2) is let in by the default list");
	tap_ok(!rpc_vsock_peer_allowed(VMADDR_CID_LOCAL, host, 1),
	    "CID 1 (local loopback, a workload in this VM) is not");
	tap_ok(!rpc_vsock_peer_allowed(VMADDR_CID_HYPERVISOR, host, 1),
	    "CID 0 is not");
	tap_ok(!rpc_vsock_peer_allowed(3, host, 1),
	    "another guest's CID is not");
	tap_ok(rpc_vsock_peer_allowed(1024, some, 4) &&
	    rpc_vsock_peer_allowed(UINT32_MAX - 1, some, 4),
	    "every CID of a longer list is let in");
	tap_ok(!rpc_vsock_peer_allowed(1025, some, 4),
	    "one just beside a listed CID is not");
	tap_ok(!rpc_vsock_peer_allowed(2, NULL, 0), "an empty list lets "
	    "nobody in");
	tap_ok(!rpc_vsock_peer_allowed(VMADDR_CID_ANY,
	    (const uint32_t[]){ VMADDR_CID_ANY }, 1),
	    "VMADDR_CID_ANY is never a peer, even when listed");
}

/* A port nobody here listens on, or 0 when AF_VSOCK is missing. */
static uint32_t
free_port(void)
{
	struct sockaddr_vm svm;
	int fd;

	srand((unsigned)time(NULL) ^ (unsigned)getpid());
	for (int i = 0; i < 50; i++) {
		uint32_t port = 40000 + (uint32_t)(rand() % 20000);

		if ((fd = socket(AF_VSOCK, SOCK_STREAM, 0)) == -1)
			return 0;
		memset(&svm, 0, sizeof(svm));
		svm.svm_family = AF_VSOCK;
		svm.svm_cid = VMADDR_CID_ANY;
		svm.svm_port = port;
		if (bind(fd, (struct sockaddr *)&svm, sizeof(svm)) == 0) {
			close(fd);
			return port;
		}
		close(fd);
	}
	return 0;
}

static void
test_listen(void)
{
	static const uint32_t host[] = { VMADDR_CID_HOST };
	struct event_base *base = event_base_new();
	struct rpc_server *srv, *srv2;
	char *cause = NULL;
	uint32_t port;
	int fd, r;

	srv = rpc_server_new(base, NULL, 0, NULL, NULL);
	if ((fd = socket(AF_VSOCK, SOCK_STREAM, 0)) == -1 &&
	    errno == EAFNOSUPPORT) {
		r = rpc_server_listen_vsock(srv, 1234, host, 1, 0, &cause);
		tap_ok(r == -1, "no AF_VSOCK in this kernel: listening fails");
		tap_has(cause, "vsock port 1234: this kernel has no AF_VSOCK",
		    "  saying so");
		free(cause);
		tap_ok(1, "# SKIP listening needs AF_VSOCK");
		tap_ok(1, "# SKIP listening needs AF_VSOCK");
		tap_ok(1, "# SKIP listening needs AF_VSOCK");
		goto out;
	}
	if (fd != -1)
		close(fd);
	port = free_port();
	r = rpc_server_listen_vsock(srv, port, host, 1, 0, &cause);
	tap_ok(port != 0 && r == 0, "listening on a free vsock port (%u) "
	    "succeeds%s%s", port, cause != NULL ? ": " : "",
	    cause != NULL ? cause : "");
	free(cause);
	cause = NULL;

	srv2 = rpc_server_new(base, NULL, 0, NULL, NULL);
	r = rpc_server_listen_vsock(srv2, port, host, 1, 0, &cause);
	tap_ok(r == -1, "a second listener on that port fails");
	{
		char want[64];

		snprintf(want, sizeof want, "vsock port %u: in use by another "
		    "program", port);
		tap_is_str(cause, want, "  saying the port is in use");
	}
	free(cause);
	cause = NULL;
	rpc_server_free(srv2);

	rpc_server_free(srv);
	srv = rpc_server_new(base, NULL, 0, NULL, NULL);
	r = rpc_server_listen_vsock(srv, port, host, 1, 0, &cause);
	tap_ok(r == 0, "the port is free again once the server is freed");
	free(cause);
out:
	rpc_server_free(srv);
	event_base_free(base);
}

int
main(void)
{
	test_peer_allowed();
	test_listen();
	return tap_done();
}
