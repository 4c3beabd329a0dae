/*
 * t_nvme.h - what the NVMe tests share (t_nvme.c: the block service;
 * t_nvme_crash.c: deaths, resets and restarts; helpers in
 * t_nvme_helpers.c): the controller's IDs, the disk areas the tests may
 * write, starting the driver on the machine's controller, opening a block
 * session, one request waited for, and many requests in flight.
 */
#ifndef WARDEN_TESTS_T_NVME_H
#define WARDEN_TESTS_T_NVME_H

#include <stdbool.h>
#include <stdint.h>
#include <warden/region.h>

#include "t_dma.h"
#include "../../drivers/nvme/nvme_protocol.h"

#define NVME_VENDOR 0x1b36
#define NVME_DEVICE 0x0010
#define REGION_BYTES (2ull << 20)
#define CAPACITY 16u
#define TIMEOUT (20000 * BT_MS)
#define MIB (1ull << 20)
/* Tests write only in [16, 32) MiB: the harness checks [0, 16) (read by
 * nvme_blk_integrity) and [32, 48) (written by it) against its pattern. */
#define SCRATCH_BYTE (16 * MIB)
#define DEEP 128u                       /* requests in flight: more than a queue pair's 63 command slots */
#define WD_DRIVER_IRQ_INTX 2u           /* <warden/driver.h>'s mode, as NVME_OP_STATS reports it */

/* True when the machine has an NVMe controller behind an IOMMU (else the
 * test is skipped); *info describes it. */
bool nvme_present(struct wd_device_info *info);
/* Opens the controller and starts "nvme <name> <args>" on it; false
 * (skipped or failed) if not. */
bool nvme_up_with(struct edu_driver *drv, wd_handle_t *device, const char *args);
static inline bool nvme_up(struct edu_driver *drv, wd_handle_t *device) { return nvme_up_with(drv, device, ""); }
void nvme_down(struct edu_driver *drv, wd_handle_t device);
/* NVME_OP_INFO on service: the block size (0, a failure counted, if the call failed); *blocks. */
uint64_t nvme_info(wd_handle_t service, uint64_t *blocks);
/* A session on service with a REGION_BYTES region and capacity requests
 * each way; the namespace's block size and blocks (blocks may be NULL). */
bool nvme_open(wd_handle_t service, struct wd_client_session *s, uint64_t rights, uint32_t capacity,
               uint64_t *block_size, uint64_t *blocks);
/* nvme_up_with (args) and nvme_open (READ|WRITE, capacity) in one; on an
 * open failure the driver is stopped again. */
bool nvme_up_open(struct edu_driver *drv, wd_handle_t *device, const char *args, struct wd_client_session *s,
                  uint32_t capacity, uint64_t *block_size, uint64_t *blocks);
/* One request, waited for: its status as -WD_E_* (0 = success). */
long block_request(struct wd_client_session *s, uint16_t op, uint64_t offset, uint64_t length, uint64_t lba);
/* DEEP 4 KiB requests of op (request k: region offset k * 4 KiB, block
 * lba + k * 4 KiB / block_size) plus one 256 KiB request that is split,
 * in one kick; each must complete exactly once, successfully. */
void run_deep(struct wd_client_session *s, uint16_t op, uint64_t lba, uint64_t block_size);

#endif
