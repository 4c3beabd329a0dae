/*
 * bench.h - what the benchmark files share (bench.c: the kernel paths;
 * bench_datapath.c: notifications, rings, grants; bench_blk.c: NVMe): the lfence;rdtsc clock
 * (one tick per guest instruction under -icount shift=0), the sample
 * array, the report line, MEASURE, and starting a role of this program.
 */
#ifndef WARDEN_BENCH_H
#define WARDEN_BENCH_H

#include <stdio.h>
#include <warden/spawn.h>
#include <warden/syscalls.h>

#define ITERATIONS 2000
#define WARMUP 100

extern uint64_t samples[ITERATIONS];
/* Appended to the next report line (" inv=1", ...). */
extern const char *report_suffix;

static inline uint64_t tsc(void)
{
    uint32_t lo, hi;
    __asm__ volatile("lfence; rdtsc" : "=a"(lo), "=d"(hi) : : "memory");
    return ((uint64_t)hi << 32) | lo;
}

/* Sorts samples[0..n) and prints "BENCH name min= median= p90= insns<suffix>". */
void report_n(const char *name, unsigned n);
static inline void report(const char *name) { report_n(name, ITERATIONS); }

#define MEASURE(name, setup, body)                                  \
    do {                                                            \
        for (int i_ = -WARMUP; i_ < ITERATIONS; i_++) {             \
            setup;                                                  \
            uint64_t t0_ = tsc();                                   \
            body;                                                   \
            uint64_t t1_ = tsc();                                   \
            if (i_ >= 0)                                            \
                samples[i_] = t1_ - t0_;                            \
        }                                                           \
        report(name);                                               \
    } while (0)

/* Starts "bench <args>" with caps at priority (0: default); exits on failure. */
wd_handle_t spawn_role_with(const char *args, const wd_handle_t *caps, unsigned ncaps, uint32_t priority);
/* The edu device opened and attached to a fresh dmaspace (*space_out), or a negative error. */
long open_edu(wd_handle_t pool, wd_handle_t *space_out, struct wd_device_info *info);

/* bench_datapath.c */
void bench_datapath(wd_handle_t pool);
/* bench_net.c: UDP echo across two e1000e NICs on one QEMU hub. */
void bench_net(const char *only);   /* only: NULL, "net1:N" or "net32:N" (one measure) */
/* Its roles: "notify-waiter", "ring-server". */
int bench_datapath_role(const char *role, const wd_handle_t *caps);

/* bench_blk.c: the NVMe block path (needs an NVMe disk: tools/bench.sh attaches one) */
void bench_blk(wd_handle_t pool);
/* Only a 64 MiB read, 4 KiB or 2 MiB IOMMU pages (tools/iotlb.sh counts the IOTLB in QEMU's trace). */
void bench_blk_iotlb(wd_handle_t pool, bool small_pages);
/* Just one block measure, which = "qd1" or "qd32" (tools/profile.sh). */
void bench_blk_only(wd_handle_t pool, const char *which);

#endif
