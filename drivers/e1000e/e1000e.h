/*
 * e1000e.h - what the e1000e driver's files share: the NIC's state
 * (registers, interrupts, MAC, rings, the receive buffers) and the calls
 * between hw.c (bring-up that trusts neither the firmware nor the last
 * owner, interrupts, the rings), datapath.c (client sessions: frames sent
 * from clients' regions, received frames handed to the receiving session)
 * and main.c (start-up, the request loop).
 *
 * One thread. The device has no FLR and CTRL.RST resets almost nothing
 * (facts sheet §0.6), so bring-up zeroes the interrupt mask, RCTL and TCTL
 * and sets up its rings before it lets the device master the bus. The
 * descriptor rings and the receive buffers are the driver's own DMA
 * memory; a transmit is sent straight from the client's region.
 */
#ifndef WARDEN_E1000E_H
#define WARDEN_E1000E_H

#include <stdbool.h>
#include <stdint.h>
#include <warden/driver.h>

#include "e1000e_protocol.h"
#include "e1000e_regs.h"

#define E1000E_RING 256u                    /* descriptors per ring (4 KiB) */
#define E1000E_RX_BUFFERS 512u              /* the receive pool: a ring's worth armed, the rest lent or free */
#define E1000E_NOTIFY_BADGE 0xE7
#define E1000E_CLIENT_BADGE 0xE71
#define E1000E_FAULT_BADGE 0xFA1E
#define E1000E_IRQ_BADGE 0xE1000            /* + MSI-X entry (0 with MSI or INTx) */
#define E1000E_MSIX_RX 0u                   /* MSI-X entries: RX queue 0, TX queue 0, other causes (link) */
#define E1000E_MSIX_TX 1u
#define E1000E_MSIX_OTHER 2u
#define E1000E_VECTORS 3u
#define E1000E_RX_PENDING_MAX 256u          /* receive requests waiting for frames */

enum e1000e_buffer_state { BUFFER_FREE, BUFFER_ARMED, BUFFER_LENT };

struct e1000e_tx_slot {
    struct wd_session *session;             /* NULL: free */
    uint64_t id;
    uint16_t length;
    bool quiet;                             /* NET_TX_QUIET: completion published without a signal */
};

struct e1000e {
    struct wd_driver driver;
    volatile void *regs;                    /* BAR0 */
    uint64_t regs_size;
    wd_handle_t endpoint;
    unsigned irq_mode;                      /* WD_DRIVER_IRQ_MSIX, _MSI or _INTX */
    wd_handle_t vector_irq[E1000E_VECTORS]; /* MSI-X: one per cause; else [0] only */
    struct wd_driver_irq fallback;          /* MSI or INTx, when MSI-X cannot work */
    uint8_t mac[6];
    bool link_up;
    /* TX: free-running counters; index = counter % E1000E_RING. */
    struct wd_dma_buffer tx_ring;
    struct e1000e_tx_slot tx_slots[E1000E_RING];
    uint32_t tx_tail, tx_clean, tx_rung;
    bool tx_interrupt_on;                   /* the send cause is unmasked: sends were left on the device */
    /* RX: descriptors [rx_next, rx_arm) belong to the device; the slot's buffer is rx_slot_buffer. */
    struct wd_dma_buffer rx_ring, rx_pool;
    uint16_t rx_slot_buffer[E1000E_RING];
    uint8_t buffer_state[E1000E_RX_BUFFERS];
    uint16_t free_buffer[E1000E_RX_BUFFERS];
    unsigned free_buffers;
    uint32_t rx_next, rx_arm;
    /* The session that receives, and its receive requests in order. */
    struct wd_session *receiver;
    uint64_t rx_pending[E1000E_RX_PENDING_MAX];
    unsigned rx_pending_head, rx_pending_count;
    uint64_t sessions_to_flush;             /* bit per session id */
    uint64_t sessions_quiet;                /* bit per session id: only quiet completions to publish */
    struct wd_session_table sessions;
    uint64_t sent, received, rx_dropped, tx_failed, interrupts, bad_frames;
    bool force_intx;                        /* "intx": the pin even where MSI-X and MSI work */
    bool force_msi;                         /* "msi": MSI even where MSI-X works */
    uint32_t throttle_us;                   /* "throttle-us=N": at most one interrupt per N us per vector */
};

/* hw.c */
uint32_t e1000e_read(struct e1000e *e, uint32_t reg);
void e1000e_write(struct e1000e *e, uint32_t reg, uint32_t value);
/* Bring-up, up to the device mastering the bus and receiving: 0 or -WD_E_*. */
long e1000e_bring_up(struct e1000e *e);
/* Interrupt message of MSI-X entry vector (0 with MSI/INTx): the causes
 * it stands for, cleared. */
uint32_t e1000e_interrupt_causes(struct e1000e *e, unsigned vector);
/* Acknowledges the message of entry vector to the kernel. */
void e1000e_interrupt_ack(struct e1000e *e, unsigned vector);
/* The receive buffer with this index: its IOVA, its offset in the pool. */
uint64_t e1000e_buffer_iova(const struct e1000e *e, unsigned buffer);
/* Arms free receive buffers into the ring while both have room; writes RDT once. */
void e1000e_rx_arm(struct e1000e *e);
/* Reads the link state; true if it changed. */
bool e1000e_link_changed(struct e1000e *e);
/* Adds the statistics registers to the counters (they clear on read). */
void e1000e_read_stats(struct e1000e *e);

/* datapath.c */
void e1000e_datapath_notified(struct e1000e *e, uint64_t bits);
/* After the device's interrupt: sends' completions, received frames. */
void e1000e_datapath_interrupt(struct e1000e *e, uint32_t causes);
/* NET_OP_RX_POOL in msg, turned into the reply. */
void e1000e_rx_pool_request(struct e1000e *e, struct wd_msg *msg);
/* Whether a session opened with these flags (w1 of the open) may open: 0,
 * or BUSY when it asks to receive and another session does. */
long e1000e_datapath_may_open(struct e1000e *e, uint64_t flags);
/* A session opened (its flags in s->args[0]). */
void e1000e_datapath_opened(struct e1000e *e, struct wd_session *s);

#endif
