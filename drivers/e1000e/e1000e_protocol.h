/*
 * e1000e_protocol.h - what a client of the e1000e driver's frame service
 * sends (Ethernet frames, no FCS). The network service is its client; the
 * driver registers as "eth0" (or the name it is started with).
 *
 * IPC (wd_call on the endpoint from the registry; reply with the label):
 *   NET_OP_INFO     -> w0 = 0, w1 = MAC address (byte 0 in bits 0-7),
 *                      w2 = 1 if the link is up, w3 = largest frame in
 *                      bytes (1514), w4 = interrupt mode (libdriver's
 *                      WD_DRIVER_IRQ_*: 1 MSI, 2 INTx, 3 MSI-X)
 *   NET_OP_STATS    -> w0 = 0, w1 = frames sent, w2 = frames received and
 *                      delivered, w3 = frames dropped on receive (no
 *                      receive request, ring full, bad), w4 = transmits
 *                      that failed, w5 = interrupts handled
 *   NET_OP_RX_POOL  -> w0 = 0, caps[0] = a READ|MAP capability to the
 *                      receive buffers (the driver's own DMA memory: the
 *                      device writes frames there, the client only reads),
 *                      w1 = its size, w2 = bytes per buffer (2048)
 *   WD_SESSION_OPEN / WD_SESSION_CLOSE (<warden/session.h>): a session
 *                      over the client's region (a lease: READ lets the
 *                      device read it, which is all transmits need). With
 *                      w1 = NET_SESSION_RECEIVE the session also receives
 *                      every frame; one session at a time may (BUSY).
 * Ring requests (struct wd_ring_desc):
 *   NET_TX         offset, length: one frame (14..1514 bytes) in the
 *                  region, sent straight from it (zero copy). Completion:
 *                  arg = bytes sent. With arg = NET_TX_QUIET the client is
 *                  not woken for this completion: it is published with
 *                  the next one that wakes it (a received frame), and the
 *                  client sees it whenever it looks at its ring (the
 *                  network service does when it runs low on buffers).
 *   NET_RX         a receive request (offset 0, length 0; the receiving
 *                  session only). It completes with the next frame: arg =
 *                  the frame's offset in the receive buffers, length = its
 *                  bytes. The buffer is the client's to read until it
 *                  hands it back.
 *   NET_RX_RETURN  arg = the offset of a buffer NET_RX gave this session:
 *                  the driver may use it again. INVALID_ARG for any other
 *                  offset (a buffer cannot be handed back twice).
 * Completion status: 0, INVALID_ARG (length, op use), RANGE (outside the
 *   region), NO_RIGHTS (the lease does not let the device read it),
 *   NOT_SUPPORTED (op; NET_RX from a session that does not receive), DEAD
 *   (the region was taken back while the frame was sent: the device sent
 *   zeros, facts sheet §2.6).
 */
#ifndef WARDEN_E1000E_PROTOCOL_H
#define WARDEN_E1000E_PROTOCOL_H

#define NET_SERVICE_NAME "eth0"
#define NET_OP_INFO 1
#define NET_OP_STATS 2
#define NET_OP_RX_POOL 3
#define NET_SESSION_RECEIVE 1u
#define NET_FRAME_MIN 14u
#define NET_FRAME_MAX 1514u
#define NET_RX_BUFFER_BYTES 2048u
#define NET_TX_QUIET 1u                 /* NET_TX's arg: complete without waking the client */

enum net_frame_op {
    NET_TX = 1,
    NET_RX = 2,
    NET_RX_RETURN = 3,
};

#endif
