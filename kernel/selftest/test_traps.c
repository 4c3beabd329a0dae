/*
 * test_traps.c - boot tests of exception handling: a breakpoint is taken
 * and execution continues after it; a page fault and a #GP at listed
 * instructions resume at their fixups.
 */
#include "selftest/ktest.h"
#include "arch/x86_64/probe.h"
#include "arch/x86_64/trap.h"

#include <stdint.h>

void test_breakpoint_recovered(struct ktest_context *t)
{
    uint64_t before = trap_counters.breakpoints;
    uint64_t resume_address;
    __asm__ volatile("leaq 1f(%%rip), %0\n\t"
                     "int3\n"
                     "1:"
                     : "=r"(resume_address)
                     :
                     : "memory");   /* the handler updates trap_counters */
    KTEST_EXPECT(t, trap_counters.breakpoints == before + 1);
    KTEST_EXPECT(t, trap_counters.last_breakpoint_rip == resume_address);
}

void test_page_fault_recovered(struct ktest_context *t)
{
    uint64_t before = trap_counters.exception_fixups;
    uint64_t value = 0x1234;
    KTEST_EXPECT(t, probe_read_u64((const void *)0xdea000, &value) == -1);      /* #PF */
    KTEST_EXPECT(t, value == 0x1234);
    KTEST_EXPECT(t, probe_read_u64((const void *)0x8000000000000000ull, &value) == -1); /* #GP */
    KTEST_EXPECT(t, trap_counters.exception_fixups == before + 2);
    static const uint64_t readable = 0xABCDEF;
    KTEST_EXPECT(t, probe_read_u64(&readable, &value) == 0 && value == 0xABCDEF);
    KTEST_EXPECT(t, trap_counters.exception_fixups == before + 2);
}
