/*
 * stacktrace.c - walks saved-RBP frames (the kernel is built with frame
 * pointers). Every read goes through probe_read_u64, so a corrupt chain
 * ends the trace instead of faulting inside the panic path.
 * Symbolize with: addr2line -f -e build/kernel.elf <address>.
 */
#include "arch/x86_64/stacktrace.h"
#include "arch/x86_64/layout.h"
#include "arch/x86_64/probe.h"
#include "core/printk.h"

#define STACKTRACE_MAX_FRAMES 32

void stacktrace_print(uint64_t rip, uint64_t rbp)
{
    printk("stack trace:\n");
    unsigned n = 0;
    if (rip)
        printk("  #%u 0x%016llx\n", n++, (unsigned long long)rip);
    for (unsigned depth = 0; depth < STACKTRACE_MAX_FRAMES; depth++) {
        if (rbp < KERNEL_VMA || rbp % 8)
            break;  /* the boot path zeroes RBP: end of chain */
        uint64_t next_rbp, return_address;
        if (probe_read_u64((const void *)rbp, &next_rbp) ||
            probe_read_u64((const void *)(rbp + 8), &return_address))
            break;
        if (return_address == 0)
            break;
        printk("  #%u 0x%016llx\n", n++, (unsigned long long)return_address);
        if (next_rbp <= rbp)
            break;  /* stacks grow down: callers' frames are higher */
        rbp = next_rbp;
    }
}
