/*
 * t_net_stack.h - what the network-service tests (t_net_stack.c) share with
 * their helpers (t_net_stack_helpers.c): the stack of driver, network
 * service and echo service; test sockets; the host peer's campaigns and
 * their RESULT lines; the service's counters.
 */
#ifndef WARDEN_TESTS_T_NET_STACK_H
#define WARDEN_TESTS_T_NET_STACK_H

#include <stdbool.h>
#include <stdint.h>
#include <warden/region.h>

#include "t_dma.h"
#include "../../servers/net/net_protocol.h"

#define NIC_VENDOR 0x8086
#define NIC_DEVICE 0x10d3
#define CALL_TIMEOUT (5000 * BT_MS)
#define PEER_IP NET_IPV4(10, 0, 2, 2)
#define GUEST_IP NET_IPV4(10, 0, 2, 15)
#define PEER_CONTROL_PORT 5555
#define CONTROL_PORT 5000
#define SOCKET_REGION (64u * 1024)
#define SOCKET_CAPACITY 32u
#define TEXT_MAX 512u
#define ECHO_OP_STATS 1
#define ETH_POOL (8ull << 20)
#define NET_POOL (4ull << 20)
#define ECHO_POOL (2ull << 20)

struct stack {
    wd_handle_t device;
    struct edu_driver eth, net, echo;
    char eth_name[32], net_name[32], echo_name[32];
};

/* A test socket: one receive kept posted at offset 0, sends from TEXT_MAX on. */
struct sock {
    struct wd_client_session s;
    bool receive_posted;
    uint64_t next_id;
};

/* True when the harness put a host peer of this kind (netpeer=WHICH) on the wire, else skipped. */
bool host_peer(const char *which);
/* A request to the network service with w0: its first reply word, or -WD_E_*. */
long netsvc_call(wd_handle_t service, uint32_t op, uint64_t w0, struct wd_msg *m);
/* The network service's counter called name (~0 if it has none). */
uint64_t netsvc_counter(wd_handle_t net, const char *name);
/* The datagrams the echo service has echoed. */
uint64_t echoed(struct stack *st);
/* Kills the echo service, the network service and the driver. */
void stack_down(struct stack *st);
/* The stack up (with the echo service if echo) and its address configured
 * as how within 10 s; on failure everything is taken down again. */
bool stack_ready(struct stack *st, const char *net_args, bool echo, unsigned how);
/* A socket on port with a receive posted: 0 or -WD_E_*. */
long sock_open(struct sock *k, wd_handle_t net, uint16_t port);
/* One request and its completion (receives that complete meanwhile are dropped). */
long sock_request(struct sock *k, uint16_t op, uint64_t offset, uint32_t length, uint64_t arg,
                  struct wd_ring_desc *out);
/* text as one datagram to ip:port: 0 or -WD_E_*. */
long sock_send_text(struct sock *k, const char *text, uint32_t ip, uint16_t port);
/* The next datagram as text (NUL-terminated) within timeout: 0, TIMEOUT or an error. */
long sock_recv_text(struct sock *k, char *out, uint64_t timeout);
/* RUN campaign id until the peer ACKs (a second apart, 10 tries). */
bool peer_run(struct sock *k, const char *campaign, unsigned id);
/* The peer's RESULT line for id into out (waiting at most timeout, saying how it goes); sends GOT. */
bool peer_result(struct stack *st, struct sock *k, unsigned id, char *out, uint64_t timeout);
/* key=N from a RESULT line (~0 if absent). */
uint64_t result_value(const char *line, const char *key);
/* Whether a RESULT line says ok. */
bool result_ok(const char *line);
/* Prints the service's counters and ARP cache (a failure's story). */
void print_counters(wd_handle_t net);

#endif
