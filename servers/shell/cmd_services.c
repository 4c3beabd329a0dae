/*
 * cmd_services.c - the service commands: blk (the NVMe block service
 * "blk0": its size, a read shown as hex and ASCII, a pattern write read
 * back) and net (the network service: address, counters, ping). Each
 * opens a data-path session for the command and closes it after.
 */
#include <stdio.h>
#include <string.h>
#include <warden/region.h>
#include <warden/registry.h>
#include <warden/syscalls.h>

#include "net_protocol.h"
#include "nvme_protocol.h"
#include "shell.h"

#define CALL_TIMEOUT_NS (5000ull * 1000 * 1000)
#define BLK_REGION_BYTES 4096u
#define BLK_MAX_BLOCKS 8u

static long lookup(const char *name, wd_handle_t *endpoint)
{
    long r = wd_name_lookup(shell_registry, name, endpoint);
    if (r < 0)
        shell_error("no service \"%s\" (%s)", name, wd_error_name(r));
    return r;
}

static long call_simple(wd_handle_t endpoint, uint32_t op, uint64_t w0, struct wd_msg *msg)
{
    *msg = (struct wd_msg){ .info = wd_msg_info(op, 1, 0), .w = { w0 } };
    long r = wd_call(endpoint, msg, CALL_TIMEOUT_NS);
    return r < 0 ? r : (long)msg->w[0];
}

/* One block request over a fresh session; the data is in s->region. */
static long blk_io(struct wd_client_session *s, uint16_t op, uint64_t lba, uint32_t bytes)
{
    struct wd_ring_desc req = { .offset = 0, .length = bytes, .op = op, .id = 1, .arg = lba }, done;
    long r = wd_client_submit(s, &req);
    if (r == 0)
        r = wd_client_kick(s);
    if (r == 0)
        r = wd_client_wait(s, &done, CALL_TIMEOUT_NS);
    return r < 0 ? r : -(long)done.status;
}

static void hexdump(const uint8_t *data, uint64_t length, uint64_t base)
{
    for (uint64_t line = 0; line < length; line += 16) {
        printf("%08llx ", (unsigned long long)(base + line));
        for (unsigned i = 0; i < 16; i++)
            printf(" %02x", data[line + i]);
        printf("  ");
        for (unsigned i = 0; i < 16; i++)
            printf("%c", data[line + i] >= 0x20 && data[line + i] < 0x7F ? data[line + i] : '.');
        printf("\n");
    }
}

static void run_blk(int argc, char **argv)
{
    wd_handle_t blk;
    if (lookup(NVME_SERVICE_NAME, &blk) < 0)
        return;
    struct wd_msg msg;
    long r = call_simple(blk, NVME_OP_INFO, 0, &msg);
    uint64_t block = msg.w[1], blocks = msg.w[2];
    if (r < 0 || block == 0 || block > BLK_REGION_BYTES) {
        shell_error("blk0 does not answer: %s", wd_error_name(r));
        wd_cap_delete(blk);
        return;
    }
    if (argc == 1) {
        printf("blk0: %llu blocks of %llu bytes (%llu MiB), largest transfer %llu KiB\n",
               (unsigned long long)blocks, (unsigned long long)block,
               (unsigned long long)(blocks * block >> 20), (unsigned long long)(msg.w[3] >> 10));
        wd_cap_delete(blk);
        return;
    }
    uint64_t lba, count = 1, byte = 0;
    bool read = strcmp(argv[1], "read") == 0, write = strcmp(argv[1], "write") == 0;
    if ((!read && !write) || argc < 3 || !parse_number(argv[2], &lba) ||
        (read && argc == 4 && (!parse_number(argv[3], &count) || count == 0 || count * block > BLK_REGION_BYTES)) ||
        (write && (argc != 4 || !parse_number(argv[3], &byte) || byte > 0xFF)) || lba >= blocks ||
        count > blocks - lba) {
        shell_error("usage: blk | blk read LBA [N<=%llu] | blk write LBA BYTE (LBA < %llu)",
                    (unsigned long long)(BLK_REGION_BYTES / block), (unsigned long long)blocks);
        wd_cap_delete(blk);
        return;
    }
    struct wd_client_session s;
    r = wd_client_open(&s, blk, wd_start_info->pool, BLK_REGION_BYTES, WD_RIGHT_READ | WD_RIGHT_WRITE, 4, NULL, 0,
                       CALL_TIMEOUT_NS);
    if (r < 0) {
        shell_error("cannot open a session with blk0: %s", wd_error_name(r));
        wd_cap_delete(blk);
        return;
    }
    uint8_t *data = s.region.cpu;
    if (write) {
        memset(data, (int)byte, block);
        r = blk_io(&s, NVME_BLK_WRITE, lba, (uint32_t)block);
        if (r == 0) {
            memset(data, (int)~byte, block);
            r = blk_io(&s, NVME_BLK_READ, lba, (uint32_t)block);
        }
        bool same = true;
        for (uint64_t i = 0; i < block; i++)
            same = same && data[i] == (uint8_t)byte;
        if (r < 0)
            shell_error("blk0: %s", wd_error_name(r));
        else
            printf("blk0: block %llu written with 0x%02llx and read back: %s\n", (unsigned long long)lba,
                   (unsigned long long)byte, same ? "the same" : "DIFFERENT");
    } else {
        r = blk_io(&s, NVME_BLK_READ, lba, (uint32_t)(count * block));
        if (r < 0)
            shell_error("blk0: %s", wd_error_name(r));
        else
            hexdump(data, count * block, lba * block);
    }
    wd_client_close(&s, CALL_TIMEOUT_NS);
    wd_cap_delete(blk);
}

static void ip_text(uint32_t ip, char out[16])
{
    snprintf(out, 16, "%u.%u.%u.%u", ip >> 24, (ip >> 16) & 0xFF, (ip >> 8) & 0xFF, ip & 0xFF);
}

static bool parse_ip(const char *s, uint32_t *out)
{
    uint32_t ip = 0;
    for (int part = 0; part < 4; part++) {
        uint64_t v = 0;
        int digits = 0;
        while (*s >= '0' && *s <= '9' && digits < 4)
            v = v * 10 + (uint64_t)(*s++ - '0'), digits++;
        if (!digits || v > 255 || (part < 3 && *s++ != '.'))
            return false;
        ip = ip << 8 | (uint32_t)v;
    }
    *out = ip;
    return *s == '\0';
}

static void net_ping(wd_handle_t net, const char *target)
{
    uint32_t ip;
    if (!parse_ip(target, &ip)) {
        shell_error("'%s' is not an IPv4 address", target);
        return;
    }
    struct wd_client_session s;
    uint64_t port = 0;
    long r = wd_client_open(&s, net, wd_start_info->pool, 4096, WD_RIGHT_READ | WD_RIGHT_WRITE, 4, &port, 1,
                            CALL_TIMEOUT_NS);
    if (r < 0) {
        shell_error("cannot open a socket: %s", wd_error_name(r));
        return;
    }
    for (uint64_t i = 0; i < 3; i++) {
        struct wd_ring_desc req = { .op = NETSOCK_PING, .length = 56, .id = i, .arg = ip }, done;
        r = wd_client_submit(&s, &req);
        if (r == 0)
            r = wd_client_kick(&s);
        if (r == 0)
            r = wd_client_wait(&s, &done, CALL_TIMEOUT_NS);
        if (r == 0 && done.status == 0)
            printf("reply from %s: %llu us\n", target, (unsigned long long)(done.arg / 1000));
        else
            printf("no reply from %s: %s\n", target, wd_error_name(r < 0 ? r : -(long)done.status));
    }
    wd_client_close(&s, CALL_TIMEOUT_NS);
}

static void run_net(int argc, char **argv)
{
    wd_handle_t net;
    if (lookup(NETSVC_NAME, &net) < 0)
        return;
    if (argc == 3 && strcmp(argv[1], "ping") == 0) {
        net_ping(net, argv[2]);
    } else if (argc == 1) {
        struct wd_msg msg;
        long r = call_simple(net, NETSVC_OP_INFO, 0, &msg);
        if (r < 0) {
            shell_error("net does not answer: %s", wd_error_name(r));
        } else {
            char ip[16], gw[16];
            ip_text((uint32_t)msg.w[1], ip);
            ip_text((uint32_t)msg.w[3], gw);
            printf("net: address %s/%llu, gateway %s (%s), link %s, MAC %012llx\n", ip, (unsigned long long)msg.w[2],
                   gw, msg.w[4] == NETSVC_CONFIG_DHCP ? "DHCP" : msg.w[4] == NETSVC_CONFIG_STATIC ? "static" : "none yet",
                   msg.w[6] ? "up" : "down", (unsigned long long)msg.w[5]);
            printf("counters (non-zero):\n");
            for (uint64_t i = 0; call_simple(net, NETSVC_OP_COUNTER, i, &msg) == 0; i++) {
                char name[33];
                memcpy(name, &msg.w[2], 32);
                name[32] = '\0';
                if (msg.w[1])
                    printf("  %-28s %llu\n", name, (unsigned long long)msg.w[1]);
            }
        }
    } else {
        shell_error("usage: net | net ping IP");
    }
    wd_cap_delete(net);
}

const struct shell_command blk_command = { "blk", "blk [read LBA [N]|write LBA BYTE]",
                                           "the disk: size, blocks as hex + ASCII, a pattern written", 0, 3, run_blk };
const struct shell_command net_command = { "net", "net [ping IP]", "the network: address, counters, ping", 0, 2,
                                           run_net };
