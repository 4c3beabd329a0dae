/*
 * echo - the UDP echo service (RFC 862): every datagram to its port goes
 * back to its sender, unchanged. An ordinary client of the network
 * service (net_protocol.h): one socket, receive buffers kept posted, each
 * received datagram sent back from the buffer it arrived in. Started by
 * init's supervisor (devmgr asks for it with the network) or by a test as
 * "echo [NAME] [net=NAME] [port=N]":
 *   NAME      the name it registers its statistics under (default "echo")
 *   net=NAME  the network service (default "net")
 *   port=N    the UDP port (default 7)
 * IPC on its endpoint: ECHO_OP_STATS -> w0 = 0, w1 = datagrams echoed,
 * w2 = sends that failed, w3 = times it opened its socket again after the
 * network service was restarted.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <warden/region.h>
#include <warden/registry.h>
#include <warden/service.h>
#include <warden/syscalls.h>

#include "net_protocol.h"

#define ECHO_OP_STATS 1
#define BUFFERS 64u
#define BUFFER_BYTES 2048u
#define CAPACITY 128u
#define SESSION_BADGE 0xEC0
#define PATIENCE (10000ull * 1000 * 1000)
#define ID_RECV (1ull << 32)
#define QUIET_WHILE_POSTED 8u       /* sends complete quietly while this many receives wait (one wakes us) */

struct echo {
    struct wd_service net;
    struct wd_client_session socket;
    wd_handle_t endpoint;
    uint64_t port;
    uint64_t echoed, failed, reopened;
    unsigned receives_posted;
};

static long post_receive(struct echo *e, uint64_t buffer)
{
    struct wd_ring_desc d = { .op = NETSOCK_RECV, .offset = buffer * BUFFER_BYTES, .length = BUFFER_BYTES,
                              .id = ID_RECV | buffer };
    long r = wd_client_submit(&e->socket, &d);
    e->receives_posted += r == 0;
    return r;
}

static long open_socket(struct echo *e)
{
    e->receives_posted = 0;
    long r = wd_client_open(&e->socket, e->net.endpoint, wd_start_info->pool, BUFFERS * BUFFER_BYTES,
                            WD_RIGHT_READ | WD_RIGHT_WRITE, CAPACITY, &e->port, 1, PATIENCE);
    if (r == 0)
        r = wd_client_bind(&e->socket, e->endpoint, SESSION_BADGE);
    for (uint64_t b = 0; r == 0 && b < BUFFERS; b++)
        r = post_receive(e, b);
    return r == 0 ? wd_client_kick(&e->socket) : r;
}

/* The network service was restarted: a new socket with its new incarnation. */
static long reopen(struct echo *e)
{
    wd_client_close(&e->socket, 0);
    struct wd_msg probe = { .info = wd_msg_info(NETSVC_OP_INFO, 0, 0) };
    long r = wd_service_call(&e->net, &probe, PATIENCE);    /* finds the new incarnation */
    if (r == 0)
        r = open_socket(e);
    if (r == 0)
        e->reopened++;
    return r;
}

/* One completion: a datagram goes back where it came from; a sent one's buffer receives again. */
static void completed(struct echo *e, const struct wd_ring_desc *c)
{
    uint64_t buffer = c->id & 0xFFFFFFFF;
    if (c->id & ID_RECV) {
        e->receives_posted--;
        /* Quiet while receives wait: one of them wakes us, and its completion brings this one's. */
        uint16_t op = e->receives_posted >= QUIET_WHILE_POSTED ? NETSOCK_SEND | NETSOCK_QUIET : NETSOCK_SEND;
        struct wd_ring_desc d = { .op = op, .offset = buffer * BUFFER_BYTES,
                                  .length = c->length & ~NETSOCK_TRUNCATED, .arg = c->arg, .id = buffer };
        if (c->status || wd_client_submit(&e->socket, &d) < 0)
            post_receive(e, buffer);
        return;
    }
    if (c->status)
        e->failed++;
    else
        e->echoed++;
    post_receive(e, buffer);
}

static int serve(struct echo *e)
{
    struct wd_msg msg;
    long r = wd_recv(e->endpoint, &msg, WD_FOREVER);
    for (;;) {
        if (r < 0) {
            printf("echo: receiving failed: %s; stopping\n", wd_error_name(r));
            return 1;
        }
        if (wd_msg_label(msg.info) == WD_LABEL_NOTIFY) {
            if (msg.badge == SESSION_BADGE) {
                wd_client_notified(&e->socket, msg.w[1]);
                struct wd_ring_desc c;
                long w;
                while ((w = wd_client_poll(&e->socket, &c)) == 0)
                    completed(e, &c);
                if (w == -WD_E_DEAD || w == -WD_E_PROTOCOL) {
                    printf("echo: the network service went away; opening the socket again\n");
                    long o = reopen(e);
                    if (o < 0) {
                        printf("echo: cannot open its socket again: %s; stopping\n", wd_error_name(o));
                        return 1;
                    }
                }
                wd_client_kick(&e->socket);
            }
            r = wd_recv(e->endpoint, &msg, WD_FOREVER);
            continue;
        }
        for (unsigned i = 0; i < wd_msg_ncaps(msg.info) && i < WD_MSG_CAPS; i++)
            wd_cap_delete(msg.caps[i]);
        if (wd_msg_label(msg.info) == ECHO_OP_STATS) {
            msg.w[0] = 0;
            msg.w[1] = e->echoed;
            msg.w[2] = e->failed;
            msg.w[3] = e->reopened;
            msg.info = wd_msg_info(ECHO_OP_STATS, 4, 0);
        } else {
            msg.w[0] = (uint64_t)-WD_E_NOT_SUPPORTED;
            msg.info = wd_msg_info(wd_msg_label(msg.info), 1, 0);
        }
        r = wd_reply_recv(e->endpoint, &msg, WD_FOREVER);
    }
}

int main(int argc, char **argv)
{
    static struct echo echo;
    struct echo *e = &echo;
    const char *name = "echo", *net_name = NETSVC_NAME;
    e->port = 7;
    for (int i = 1; i < argc; i++) {
        if (strncmp(argv[i], "net=", 4) == 0)
            net_name = argv[i] + 4;
        else if (strncmp(argv[i], "port=", 5) == 0)
            e->port = strtoul(argv[i] + 5, NULL, 10);
        else
            name = argv[i];
    }
    long ep = wd_endpoint_create(wd_start_info->pool);
    if (ep < 0) {
        printf("echo: cannot create its endpoint: %s\n", wd_error_name(ep));
        return 1;
    }
    e->endpoint = (wd_handle_t)ep;
    long r = wd_service_connect(&e->net, wd_start_info->registry, net_name, PATIENCE);
    if (r == 0)
        r = open_socket(e);
    if (r < 0) {
        printf("echo: cannot open a socket on UDP port %llu of \"%s\": %s (%s)\n", (unsigned long long)e->port,
               net_name, wd_error_name(r), wd_error_text(r));
        return 1;
    }
    long client = wd_cap_copy(e->endpoint, WD_NULL, WD_RIGHT_SEND | WD_RIGHT_GRANT, 1);
    if (client < 0 || wd_name_register(wd_start_info->registry, name, (wd_handle_t)client) < 0)
        printf("echo: cannot register as \"%s\" (it echoes anyway)\n", name);
    if (client >= 0)
        wd_cap_delete((wd_handle_t)client);
    printf("echo: echoing UDP port %llu through \"%s\"; registered as \"%s\"\n", (unsigned long long)e->port, net_name,
           name);
    return serve(e);
}
