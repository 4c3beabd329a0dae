/*
 * revoke.h - the revocation path of DESIGN.md §5: taking every device a
 * process owns away from it, in the order that keeps memory safe, when the
 * process dies or loses its last capability to the device. Also the
 * order stamps that let tests check that order (wd_system_info).
 */
#ifndef WARDEN_OBJ_REVOKE_H
#define WARDEN_OBJ_REVOKE_H

#include <stdint.h>

#include <warden/objects.h>

struct process;
struct device;
struct kobject;

/* What one revocation took away; reported in WD_LABEL_EXIT/REVOKED words 4-7. */
struct revoke_summary {
    uint64_t groups;
    uint64_t mappings;              /* DMA mappings of the dmaspaces detached */
    uint64_t irqs;
    uint64_t resets;                /* functions reset (FLR) */
    uint64_t first_address;         /* WD_PCI_ADDRESS of the first group revoked, 0: none */
    uint16_t last_domain;           /* domain ID of the last dmaspace detached, 0: none */
};

/* p is dying (its threads are stopped): for every group it owns, bus
 * mastering off, interrupts unhooked (IRTE cleared, IEC waited), context
 * entries cleared (context cache and IOTLB waited), ownership dropped.
 * Frames are not touched here: they go when the dmaspace's last
 * capability does, which is after this returns. */
void revoke_owned_devices(struct process *p, struct revoke_summary *out);
/* A capability to d just left holder's cspace: if holder is alive, owns
 * d's group and holds no other capability to it, revoke the group and send
 * WD_LABEL_REVOKED to holder's fault endpoint. */
void revoke_device_cap_lost(struct device *d, struct process *holder);
/* Words 4-7 of an EXIT or REVOKED message. */
void revoke_summary_words(const struct revoke_summary *s, uint64_t *words);

/* dmaspace.c calls this when it drops a DMA mapping's frame reference. */
void revoke_note_frame_release(void);
/* A lease is ending (cap/dependents.c): the latest revocation is now the
 * one of process pid's mappings; then its IOTLB flush completed. */
void revoke_begin(uint64_t pid);
void revoke_note_flush(void);
/* The revocation fields of wd_system_info. */
void revoke_fill_info(struct wd_system_info *info);

#endif
