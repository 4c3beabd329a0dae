/*
 * ktest.h - the in-kernel boot test runner (command-line flag `test`).
 *
 * Output is KTAP version 1: a plan, one `ok N name` / `not ok N name`
 * line per test (`# SKIP reason` for skips), diagnostics as `# ` lines,
 * then `warden-test: PASS` or `warden-test: FAIL`, then QEMU exits through
 * isa-debug-exit (status 33 pass, 35 fail). tests/harness.py judges it.
 * Later issues move the suite into user-space processes.
 */
#ifndef WARDEN_SELFTEST_KTEST_H
#define WARDEN_SELFTEST_KTEST_H

#include <stdbool.h>

#include <warden/startinfo.h>

struct ktest_context {
    bool failed;
    bool skipped;
    char skip_reason[96];
};

struct ktest {
    const char *name;
    void (*run)(struct ktest_context *t);
};

/* Records a failed expectation (with its source line) and returns cond. */
bool ktest_check(struct ktest_context *t, bool cond, const char *expr, const char *file, int line);
#define KTEST_EXPECT(t, cond) ktest_check((t), (cond), #cond, __FILE__, __LINE__)

void ktest_skip(struct ktest_context *t, const char *reason);

/* Runs every kernel test, prints them as an indented KTAP subtest and
 * records up to max results (for init's start info). Returns how many. */
unsigned ktest_run_all(struct wd_ktest_result *results, unsigned max);

/* Test groups, one per file in kernel/selftest/. */
void test_frame_alloc_real_map(struct ktest_context *t);
void test_frames_above_4g(struct ktest_context *t);
void test_frame_alloc_contiguous(struct ktest_context *t);
void test_kobj_allocator(struct ktest_context *t);
void test_page_map_unmap_4k(struct ktest_context *t);
void test_page_map_unmap_2m(struct ktest_context *t);
void test_kernel_sections_protected(struct ktest_context *t);
void test_breakpoint_recovered(struct ktest_context *t);
void test_page_fault_recovered(struct ktest_context *t);
void test_timer_calibrated(struct ktest_context *t);
void test_timer_periodic_ticks(struct ktest_context *t);
void test_timer_oneshot(struct ktest_context *t);
void test_acpi_tables_valid(struct ktest_context *t);
void test_madt_cpus_and_ioapics(struct ktest_context *t);
void test_mcfg_ecam_matches_port_io(struct ktest_context *t);
void test_iommu_units(struct ktest_context *t);
void test_isa_serial_irq(struct ktest_context *t);

#endif
