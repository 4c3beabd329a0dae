/*
 * warden/ipc.h - the IPC message: how it travels in registers, and the
 * kernel-originated messages (faults, exits, timers).
 *
 * Registers of ipc_call / ipc_send / ipc_recv / ipc_reply / ipc_reply_recv /
 * ipc_signal_recv (rax = system call number in, status out):
 *   rdi  in: endpoint handle (not used by ipc_reply)   out: sender's badge
 *   rsi  in/out: message info word (label, word count, cap count, flags);
 *        ipc_signal_recv: in: the notification to signal
 *   rdx, r10, r8, r9, r12, r13, r14, r15   in/out: data words 0..7;
 *        ipc_signal_recv: rdx in: the bits to signal
 *   rbx  in: user pointer to wd_handle_t[4]: caps to send, and where the
 *        handles of received caps are written (0 when no caps are used)
 *   rbp  in: timeout in ns (WD_NO_WAIT = poll, WD_FOREVER = no timeout)
 * libc's wd_call() & co. load and store these from a struct wd_msg.
 */
#ifndef WARDEN_ABI_IPC_H
#define WARDEN_ABI_IPC_H

#include <warden/types.h>

#define WD_MSG_WORDS 8
#define WD_MSG_CAPS 4

/* Info word layout. */
#define WD_MSG_LABEL_MASK   0xFFFFFFFFull
#define WD_MSG_NWORDS_SHIFT 32              /* 4 bits: 0..8 */
#define WD_MSG_NCAPS_SHIFT  36              /* 3 bits: 0..4 */
#define WD_MSG_MOVE_CAPS    (1ull << 40)    /* in: move the caps instead of copying */
#define WD_MSG_CAPS_LOST    (1ull << 41)    /* out: receiver could not take every cap */
#define WD_MSG_KNOWN_BITS   0x3FFFFFFFFFFull

static inline uint64_t wd_msg_info(uint32_t label, unsigned nwords, unsigned ncaps)
{
    return (uint64_t)label | ((uint64_t)nwords << WD_MSG_NWORDS_SHIFT) |
           ((uint64_t)ncaps << WD_MSG_NCAPS_SHIFT);
}
static inline uint32_t wd_msg_label(uint64_t info) { return (uint32_t)(info & WD_MSG_LABEL_MASK); }
static inline unsigned wd_msg_nwords(uint64_t info) { return (unsigned)(info >> WD_MSG_NWORDS_SHIFT) & 0xF; }
static inline unsigned wd_msg_ncaps(uint64_t info) { return (unsigned)(info >> WD_MSG_NCAPS_SHIFT) & 0x7; }

/* A message as user code sees it. Layout is fixed: libc's assembly stub
 * reads and writes these offsets. */
struct wd_msg {
    uint64_t info;                  /* 0: label | nwords | ncaps | flags */
    uint64_t badge;                 /* 8: out: the badge of the sender's capability */
    uint64_t w[WD_MSG_WORDS];       /* 16 */
    wd_handle_t caps[WD_MSG_CAPS];  /* 80 */
};

/* Labels at and above this value are reserved for kernel messages. */
#define WD_LABEL_KERNEL 0xFFFF0000u
#define WD_LABEL_FAULT  0xFFFF0001u /* w0 count, w1 thread id, w2 vector, w3 error code,
                                       w4 fault address (CR2), w5 RIP, w6 process id */
#define WD_LABEL_EXIT   0xFFFF0002u /* w0 count, w1 process id, w2 status, w3 wd_exit_reason,
                                       then what its death revoked (DESIGN §5): w4 devices
                                       (IOMMU groups), w5 DMA mappings, w6 interrupts,
                                       w7 PCI address of the first device (0: none) */
#define WD_LABEL_TIMER  0xFFFF0003u /* w0 count (expiries coalesced), w1 now in ns */
#define WD_LABEL_DMA_FAULT 0xFFFF0004u /* w0 count (faults since the last delivery), w1 source
                                       (requester) ID, w2 faulting IOVA (page), w3 VT-d fault
                                       reason, w4 WD_DMA_FAULT_* flags, w5 owner process id,
                                       w6 the device's PCI address (WD_PCI_ADDRESS) */
#define WD_LABEL_IRQ    0xFFFF0005u /* badge as bound; w0 count (interrupts since the last message),
                                       w1 time of the latest one in ns, w2 irq_create index */
#define WD_LABEL_REVOKED 0xFFFF0006u /* to a live process's fault endpoint: it lost its last
                                       capability to a device it owned (cap_revoke, cap_delete,
                                       cap_move), so the kernel revoked the device as on death.
                                       Words as WD_LABEL_EXIT; w2 = 0, w3 = 0 */
#define WD_LABEL_NOTIFY 0xFFFF0007u /* a bound notification was signalled: badge as bound; w0 count
                                       (signals since the last delivery), w1 the bits (taken: the
                                       notification's word is 0 again), w2 the time it was
                                       delivered (time_now, ns) */

enum wd_exit_reason {
    WD_EXIT_NORMAL = 1,             /* process_exit, or its last thread exited */
    WD_EXIT_KILLED = 2,             /* process_kill */
};

#endif
