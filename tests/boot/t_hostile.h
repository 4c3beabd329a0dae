/*
 * t_hostile.h - what the parts of boot test hostile_driver_escapes share
 * (t_hostile_driver.c: the test and its DMA attempts; t_hostile_config.c:
 * config space, BARs and other devices; t_hostile_rights.c: leases, the
 * fault flood, rights and priority, a device given up; t_hostile_helpers.c):
 * the hostile driver (drivers/hostile) as the test runs it, "another
 * driver" for it to attack (this test, owning QEMU's AHCI controller with
 * memory mapped in its own domain and an interrupt), and the checks made
 * from outside the driver after each attempt.
 */
#ifndef WARDEN_TESTS_T_HOSTILE_H
#define WARDEN_TESTS_T_HOSTILE_H

#include <stdbool.h>
#include <warden/abi.h>

#include "hostile_protocol.h"
#include "t_dma.h"

#define AHCI_VENDOR 0x8086
#define AHCI_DEVICE 0x2922
#define E1000E_VENDOR 0x8086
#define E1000E_DEVICE 0x10d3
#define VICTIM_BADGE 0x71C
#define GSTS_IRES (1u << 25)            /* VT-d GSTS: interrupt remapping enabled */
#define FR_BEYOND_WIDTH 0x4             /* VT-d fault reason: address above the domain's width */

/* The pattern every device write of the driver carries (HOSTILE_OP_LOAD). */
#define DEVICE_BYTE 0xE7u
#define DEVICE_WORD 0xE7E7E7E7u

/* IOVAs in the driver's domain (the victim's in its own). */
#define PROBE_IOVA 0x7000ull            /* the mask probe's page; 2^28 and 2^32 above it alias here when clamped */
#define ALIAS_IOVA 0x5000ull            /* 2^width above it would alias here if truncated */
#define UNMAPPED_IOVA 0x300000ull       /* mapped; the page after it is not */
#define READ_ONLY_IOVA 0x400000ull
#define VICTIM_IOVA 0x500000ull         /* mapped in the victim's domain only */
#define NEXT_OWNER_IOVA 0x600000ull     /* the next owner's buffer after the driver gave the device up */
#define QUIESCED_IOVA 0x700000ull       /* mapped: a quiesced device must not write it */
#define LEASE_IOVA 0x800000ull
#define FLOOD_IOVA 0x900000ull          /* unmapped */
#define TEST_BYTES 4000u

/* "Another driver": this test, owning AHCI (always on q35, bus mastering
 * off), with a page of VICTIM_BYTE at VICTIM_IOVA in its domain and an
 * interrupt bound to its endpoint (AHCI's MSI through a remapping entry;
 * without interrupt remapping an ISA line). */
#define VICTIM_BYTE 0x5Au
struct victim {
    struct wd_device_info info;
    wd_handle_t device, dmaspace, frame, irq, endpoint;
    volatile uint8_t *memory;
    struct wd_irq_info irq_info;
};

struct hostile_run {
    struct edu_driver driver;       /* the process; its faults and exit come to driver.fault_ep */
    wd_handle_t edu;                /* this test's capability to the same edu device */
    struct wd_device_info edu_info;
    struct wd_iommu_info unit;
    bool remapping;                 /* the unit remaps interrupts */
    unsigned mask_bits;             /* edu's DMA mask as probed: 28, 32, or 64 (more than 32) */
    unsigned edu_msi_cap;           /* edu's MSI capability, found before the driver owned it */
    struct victim victim;
    uint64_t va;                    /* next free address for this test's buffers */
};

/* t_hostile_helpers.c */
bool victim_open(struct victim *v);
/* Interrupts the victim's irq took since irq_create (the kernel's count). */
uint64_t victim_interrupts(const struct victim *v);
/* Starts the hostile driver with a copy of run->edu without GRANT; false
 * (counted) if it did not register. */
bool hostile_start(struct hostile_run *run);
/* Kills it and waits for its EXIT message. */
void hostile_stop(struct hostile_run *run);
/* One request: returns the reply's w0 (or the IPC error); *reply has all of it. */
long hostile_call(struct hostile_run *run, enum hostile_op op, uint64_t w0, uint64_t w1, uint64_t w2, uint64_t w3,
                  wd_handle_t cap, struct wd_msg *reply);
/* A frame of this test filled with byte, mapped here; *frame gets its capability. */
volatile uint8_t *test_page(struct hostile_run *run, uint64_t size, uint8_t byte, uint64_t flags, wd_handle_t *frame);
/* A copy of frame with these rights (MAP|GRANT always added) for the driver. */
wd_handle_t lend(wd_handle_t frame, uint64_t rights);
/* Waits for the DMA fault the driver's device caused, as its supervisor
 * sees it: source edu, the IOVA's page, reason (0: any), a write, the
 * driver as owner; flags (WD_DMA_FAULT_*) must all be set. false if none. */
bool expect_dma_fault(struct hostile_run *run, uint64_t iova, unsigned reason, uint64_t flags);
/* No DMA fault message within ms. */
void expect_no_dma_fault(struct hostile_run *run, unsigned ms);
/* edu's fault count (device_info, readable by any holder). */
uint64_t edu_fault_count(const struct hostile_run *run);
/* The device writes bytes at iova; 0 when it said it is done. */
long device_write(struct hostile_run *run, uint64_t iova, uint64_t bytes);

/* The rows (each prints what it tried and saw). */
void hostile_probe_mask(struct hostile_run *run);
void hostile_unmapped(struct hostile_run *run);
void hostile_read_only(struct hostile_run *run);
void hostile_other_domain(struct hostile_run *run);
void hostile_beyond_width(struct hostile_run *run);
void hostile_forged_msi(struct hostile_run *run);
void hostile_msi_config(struct hostile_run *run);
void hostile_bar_config(struct hostile_run *run);
void hostile_msix(struct hostile_run *run);
void hostile_bridges(struct hostile_run *run);
void hostile_foreign_bars(struct hostile_run *run);
void hostile_lease_revoked(struct hostile_run *run);
void hostile_fault_flood(struct hostile_run *run);
void hostile_escalation(struct hostile_run *run);
void hostile_priority(struct hostile_run *run);
void hostile_stale_bar(struct hostile_run *run);

/* edu's BARs and ROM BAR, read by this test while nobody owns the device. */
struct config_snapshot {
    uint32_t bars[6], rom;
};
void config_snapshot(wd_handle_t device, struct config_snapshot *out);
/* Offset of capability id in device's list (0: none); needs READ and no other owner. */
unsigned pci_capability(wd_handle_t device, unsigned id);

#endif
