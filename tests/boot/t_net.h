/*
 * t_net.h - what the e1000e tests share (t_net.c, t_soak.c; helpers in
 * t_net_nic.c): the NIC's IDs, a driver with a receiving session and its
 * receive buffers mapped read-only, and a stream of test frames the host
 * peer (tests/netpeer/, the harness's `net` and `soak` configurations)
 * checks and mirrors back.
 */
#ifndef WARDEN_TESTS_T_NET_H
#define WARDEN_TESTS_T_NET_H

#include <stdbool.h>
#include <stdint.h>
#include <warden/region.h>

#include "t_dma.h"
#include "../../drivers/e1000e/e1000e_protocol.h"

#define NET_VENDOR 0x8086
#define NET_DEVICE 0x10d3
#define POOL_VA 0x730000000000ull
#define NIC_REGION (1ull << 20)
#define NIC_CAPACITY 128u             /* receives posted + sends + buffers being handed back */
#define RX_POSTED 32u
#define TX_IN_FLIGHT 16u
#define WINDOW 24u                      /* frames sent and not back yet: fewer than the receives posted */
#define NIC_TIMEOUT (10000 * BT_MS)
#define ETHERTYPE_TEST 0x88B5
#define HEADER 24u
#define TX_SLOT 2048u                   /* region bytes per frame being sent */

struct nic {
    struct edu_driver drv;
    wd_handle_t device;
    struct wd_client_session s;
    uint8_t mac[6];
    wd_handle_t pool;                   /* the receive buffers, READ */
    uint64_t pool_size;
    unsigned rx_posted;
    uint64_t next_rx_id;
};

struct stream {
    unsigned sent, tx_done, received, bad, lost_sends;
    bool seen[4096];
};

/* True when the machine has the NIC behind an IOMMU and a host peer on its wire (else skipped). */
bool net_present(struct wd_device_info *info);
/* A call to the frame service: its first reply word, or -WD_E_*. */
long nic_call(wd_handle_t service, uint32_t op, struct wd_msg *m);
/* Starts the driver (args), opens a receiving session, maps the receive buffers, posts receives. */
bool nic_up(struct nic *n, wd_handle_t device, const char *args);
/* Unmaps the receive buffers, closes the session if close, kills the driver. */
void nic_down(struct nic *n, bool close);
/* Sends count frames of random sizes (seeded) and takes the mirrored ones
 * (see t_net_nic.c); 0, or the first error (DEAD when the driver went away). */
long stream(struct nic *n, unsigned count, uint32_t seed, uint64_t wait_ns, struct stream *st);
/* Test frame seq, length bytes, at offset in the region. */
void build_frame(struct nic *n, uint64_t offset, uint32_t seq, unsigned length);

#endif
