/*
 * t_dma.h - what the DMA and device tests share (t_dma.c, t_devices.c,
 * dma_helpers.c): edu's registers and the tests' addresses, finding and
 * opening QEMU's edu device, running its DMA engine, DMA buffers,
 * starting the user-space edu driver (drivers/edu) and checking that a
 * device its owner lost is left quiet.
 */
#ifndef WARDEN_TESTS_T_DMA_H
#define WARDEN_TESTS_T_DMA_H

#include <stdbool.h>
#include <warden/abi.h>

#define EDU_VENDOR 0x1234
#define EDU_DEVICE 0x11e8
#define EDU_REG_ID 0x00
#define EDU_REG_DMA_SRC 0x80
#define EDU_REG_DMA_DST 0x88
#define EDU_REG_DMA_COUNT 0x90
#define EDU_REG_DMA_CMD 0x98
#define EDU_DMA_START 1u
#define EDU_DMA_TO_RAM 2u
#define EDU_BUFFER 0x40000ull

#define FAULT_BADGE 0xD3A
#define BAR_VA 0x700000000000ull
#define BUF_VA 0x710000000000ull
#define TRANSFER 4000u                  /* < 4096: QEMU 7.2's edu aborts on a full page */

/* VT-d fault reasons (spec 7.1.3) QEMU reports for second-level faults. */
#define FR_WRITE_DENIED 0x5             /* write to a page without write permission (or not present) */

struct edu {
    wd_handle_t device, dmaspace, fault_ep;
    struct wd_device_info info;
    volatile uint8_t *bar;
};

/* The device root init passed to this test (WD_NULL if none). */
wd_handle_t dma_device_root(void);
bool dma_iommu_present(void);
/* 0 with *out filled for the first function with these IDs, or -WD_E_NOT_FOUND. */
long dma_find_device(uint16_t vendor, uint16_t device, struct wd_device_info *out);
/* True when the machine has the device (name, for the skip message)
 * behind an IOMMU, *out describing it; otherwise the test is skipped. */
bool dma_test_device(uint16_t vendor, uint16_t device, const char *name, struct wd_device_info *out);
bool edu_open(struct edu *e, bool attach);
/* Helper processes: attach e->device, map BAR0, bus mastering on. */
bool edu_take_as_helper(struct edu *e);
bool edu_dma(struct edu *e, uint64_t ram_iova, uint64_t count, bool to_ram);
void edu_write64(struct edu *e, unsigned reg, uint64_t v);
uint64_t edu_read64(struct edu *e, unsigned reg);
volatile uint8_t *dma_buffer(wd_handle_t *frame, uint64_t va, uint64_t size, uint64_t flags);
/* The user-space edu driver as a test runs it. */
#define EDU_DRIVER_BADGE 0xED
struct edu_driver {
    wd_handle_t process;            /* WD_NULL when it did not start */
    wd_handle_t fault_ep;           /* its faults and exit, badge EDU_DRIVER_BADGE */
    wd_handle_t client;             /* SEND to its endpoint, from the name registry */
    uint64_t pid;
};
/* Starts the "edu" module the way devmgr does: device (copied) as its only
 * capability, an 8 MiB sub-pool, under a registry name of this test's own;
 * args_extra ("" or "intx") goes on its command line. Waits until it has
 * registered. false (a failure is counted) if it did not come up. */
bool edu_driver_start(struct edu_driver *d, wd_handle_t device, const char *args_extra);
/* The same for another driver module (started as "<module> <name> <args_extra>"). */
bool driver_start(struct edu_driver *d, const char *module_name, wd_handle_t device, const char *args_extra);
/* Only the spawn (no wait for registration); the name it will register
 * under goes to name. */
bool driver_spawn(struct edu_driver *d, const char *module_name, wd_handle_t device, const char *args_extra,
                  char *name, unsigned name_size);
/* Spawns module_name with the caller's s (args, caps, cap_rights,
 * pass_modules): the image, a sub-pool of pool_bytes, a fault endpoint
 * (badge EDU_DRIVER_BADGE) and the registry are filled in here. */
struct wd_spawn;
bool driver_spawn_module(struct edu_driver *d, const char *module_name, struct wd_spawn *s, uint64_t pool_bytes);
/* The spawn under a name the caller chose (a restarted driver takes its
 * predecessor's name, so its clients find it again), in a sub-pool of pool_bytes. */
bool driver_spawn_as(struct edu_driver *d, const char *module_name, wd_handle_t device, const char *name,
                     const char *args_extra, uint64_t pool_bytes);
/* Waits (5 s at most) until name is registered; its SEND capability goes to
 * d->client. On failure the process is killed. */
bool driver_wait_registered(struct edu_driver *d, const char *name);
/* Checks a device its owner lost (death or revocation): nobody owns it, no
 * dmaspace is attached, bus mastering is off, and the live irq count is
 * back to live_irqs. */
void device_expect_released(wd_handle_t device, uint64_t live_irqs);

/* Test patterns. */
void fill(volatile uint8_t *p, unsigned n, uint8_t seed);
bool all_equal(volatile uint8_t *p, unsigned n, uint8_t value);

#endif
