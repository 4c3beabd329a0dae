/*
 * ktest.c - runs the boot tests in order and prints KTAP (see ktest.h).
 */
#include "selftest/ktest.h"
#include "arch/x86_64/cpu.h"
#include "core/printk.h"

#include <string.h>

static const struct ktest tests[] = {
    { "frame_alloc_real_map", test_frame_alloc_real_map },
    { "frames_above_4g", test_frames_above_4g },
    { "frame_alloc_contiguous", test_frame_alloc_contiguous },
    { "kobj_allocator", test_kobj_allocator },
    { "page_map_unmap_4k", test_page_map_unmap_4k },
    { "page_map_unmap_2m", test_page_map_unmap_2m },
    { "kernel_sections_protected", test_kernel_sections_protected },
    { "breakpoint_recovered", test_breakpoint_recovered },
    { "page_fault_recovered", test_page_fault_recovered },
    { "timer_calibrated", test_timer_calibrated },
    { "timer_periodic_ticks", test_timer_periodic_ticks },
    { "timer_oneshot", test_timer_oneshot },
    { "acpi_tables_valid", test_acpi_tables_valid },
    { "madt_cpus_and_ioapics", test_madt_cpus_and_ioapics },
    { "mcfg_ecam_matches_port_io", test_mcfg_ecam_matches_port_io },
    { "iommu_units", test_iommu_units },
    { "isa_serial_irq", test_isa_serial_irq },
};
#define TEST_COUNT (sizeof tests / sizeof tests[0])

bool ktest_check(struct ktest_context *t, bool cond, const char *expr, const char *file, int line)
{
    if (!cond) {
        t->failed = true;
        printk("# %s:%d: expected %s\n", file, line, expr);
    }
    return cond;
}

void ktest_skip(struct ktest_context *t, const char *reason)
{
    t->skipped = true;
    size_t n = strnlen(reason, sizeof t->skip_reason - 1);
    memcpy(t->skip_reason, reason, n);
    t->skip_reason[n] = '\0';
}

static void record(struct wd_ktest_result *out, const char *name, int status, const char *note)
{
    size_t n = strnlen(name, sizeof out->name - 1);
    memcpy(out->name, name, n);
    out->name[n] = '\0';
    n = strnlen(note, sizeof out->note - 1);
    memcpy(out->note, note, n);
    out->note[n] = '\0';
    out->status = status;
}

/* Prints the kernel's own tests as an indented KTAP subtest (the
 * top-level report belongs to the user-space test runner, which re-reports
 * these results from the start info). */
unsigned ktest_run_all(struct wd_ktest_result *results, unsigned max)
{
    unsigned passed = 0, failed = 0, skipped = 0, count = 0;
    printk("    KTAP version 1\n    # Subtest: kernel\n    1..%u\n", (unsigned)TEST_COUNT);
    for (unsigned i = 0; i < TEST_COUNT; i++) {
        struct ktest_context t = { 0 };
        tests[i].run(&t);
        int status = t.failed ? 1 : t.skipped ? 2 : 0;
        if (t.failed) {
            failed++;
            printk("    not ok %u %s\n", i + 1, tests[i].name);
        } else if (t.skipped) {
            skipped++;
            printk("    ok %u %s # SKIP %s\n", i + 1, tests[i].name, t.skip_reason);
        } else {
            passed++;
            printk("    ok %u %s\n", i + 1, tests[i].name);
        }
        if (count < max)
            record(&results[count++], tests[i].name, status, t.skipped ? t.skip_reason : "");
    }
    printk("    # kernel: %u passed, %u failed, %u skipped\n", passed, failed, skipped);
    return count;
}
