/*
 * trap.c - what happens on every exception and interrupt.
 *
 * Exceptions: a breakpoint is counted and execution continues; a page
 * fault or #GP at an instruction listed in .extable resumes at its fixup;
 * anything else in the kernel is fatal: the dump shows the vector, error
 * code, RIP, CR2, all registers and a stack trace, then the kernel stops.
 * (User-mode faults become messages in a later issue.)
 * Interrupts: routed to the registered handler; spurious and unowned
 * vectors are counted and logged, never fatal.
 */
#include "arch/x86_64/trap.h"
#include "obj/thread.h"
#include "sched/sched.h"
#include "arch/x86_64/cpu.h"
#include "arch/x86_64/lapic.h"
#include "arch/x86_64/percpu.h"
#include "arch/x86_64/probe.h"
#include "arch/x86_64/stacktrace.h"
#include "core/panic.h"
#include "core/printk.h"

struct trap_counters trap_counters;
static interrupt_handler interrupt_handlers[256];

/* Log only the first few unexpected interrupts; the counter keeps the rest. */
#define UNEXPECTED_INTERRUPT_LOG_LIMIT 8

const char *exception_mnemonic(uint64_t vector)
{
    static const char *const names[32] = {
        "#DE", "#DB", "NMI", "#BP", "#OF", "#BR", "#UD", "#NM",
        "#DF", "#MF(old)", "#TS", "#NP", "#SS", "#GP", "#PF", "#15",
        "#MF", "#AC", "#MC", "#XM", "#VE", "#CP", "#22", "#23",
        "#24", "#25", "#26", "#27", "#HV", "#VC", "#SX", "#31",
    };
    return vector < 32 ? names[vector] : "IRQ";
}

void interrupt_register(uint8_t vector, interrupt_handler handler)
{
    KASSERT(vector >= 32);
    interrupt_handlers[vector] = handler;
}

static void describe_page_fault(uint64_t error_code)
{
    printk("  page fault: %s %s of a %s page%s\n",
           error_code & (1 << 2) ? "user" : "kernel",
           error_code & (1 << 4) ? "instruction fetch" : error_code & (1 << 1) ? "write" : "read",
           error_code & (1 << 0) ? "present (protection violation)" : "not-present",
           error_code & (1 << 3) ? ", reserved bit set" : "");
}

__attribute__((noreturn)) static void exception_dump_and_stop(const struct trap_frame *f)
{
    uint64_t cr2 = read_cr2();
    if (!panic_begin())
        cpu_halt_forever();     /* faulted while already dumping */
    printk("\n*** unhandled exception %s (vector %llu) in %s mode ***\n",
           exception_mnemonic(f->vector), (unsigned long long)f->vector,
           (f->cs & 3) ? "user" : "kernel");
    printk("  error code 0x%llx  RIP 0x%016llx  CR2 0x%016llx\n",
           (unsigned long long)f->error_code, (unsigned long long)f->rip, (unsigned long long)cr2);
    if (f->vector == EXC_PAGE_FAULT)
        describe_page_fault(f->error_code);
    printk("  RSP 0x%016llx  RFLAGS 0x%016llx  CS 0x%llx  SS 0x%llx\n",
           (unsigned long long)f->rsp, (unsigned long long)f->rflags,
           (unsigned long long)f->cs, (unsigned long long)f->ss);
    printk("  RAX 0x%016llx  RBX 0x%016llx  RCX 0x%016llx\n",
           (unsigned long long)f->rax, (unsigned long long)f->rbx, (unsigned long long)f->rcx);
    printk("  RDX 0x%016llx  RSI 0x%016llx  RDI 0x%016llx\n",
           (unsigned long long)f->rdx, (unsigned long long)f->rsi, (unsigned long long)f->rdi);
    printk("  RBP 0x%016llx  R8  0x%016llx  R9  0x%016llx\n",
           (unsigned long long)f->rbp, (unsigned long long)f->r8, (unsigned long long)f->r9);
    printk("  R10 0x%016llx  R11 0x%016llx  R12 0x%016llx\n",
           (unsigned long long)f->r10, (unsigned long long)f->r11, (unsigned long long)f->r12);
    printk("  R13 0x%016llx  R14 0x%016llx  R15 0x%016llx\n",
           (unsigned long long)f->r13, (unsigned long long)f->r14, (unsigned long long)f->r15);
    printk("  CR0 0x%016llx  CR3 0x%016llx  CR4 0x%016llx\n",
           (unsigned long long)read_cr0(), (unsigned long long)read_cr3(), (unsigned long long)read_cr4());
    stacktrace_print(f->rip, f->rbp);
    kernel_stop();
}

static void handle_exception(struct trap_frame *f)
{
    switch (f->vector) {
    case EXC_BREAKPOINT:
        trap_counters.breakpoints++;
        trap_counters.last_breakpoint_rip = f->rip;
        printk("trap: breakpoint at 0x%016llx, continuing\n", (unsigned long long)f->rip);
        return;
    case EXC_PAGE_FAULT:
    case EXC_GENERAL_PROTECTION: {
        uint64_t fixup = (f->cs & 3) ? 0 : extable_fixup_for(f->rip);
        if (fixup) {
            trap_counters.exception_fixups++;
            f->rip = fixup;
            return;
        }
        break;
    }
    default:
        break;
    }
    exception_dump_and_stop(f);
}

static void handle_interrupt(struct trap_frame *f)
{
    interrupt_handler handler = interrupt_handlers[f->vector];
    if (handler) {
        handler(f);
        return;
    }
    bool spurious = f->vector == VECTOR_LAPIC_SPURIOUS ||
                    f->vector == VECTOR_PIC_BASE + 7 || f->vector == VECTOR_PIC_BASE + 15;
    uint64_t *counter = spurious ? &trap_counters.spurious_interrupts : &trap_counters.unhandled_interrupts;
    if (++*counter <= UNEXPECTED_INTERRUPT_LOG_LIMIT)
        printk("trap: %s interrupt on vector 0x%llx ignored\n",
               spurious ? "spurious" : "unowned", (unsigned long long)f->vector);
    /* Spurious LAPIC/PIC interrupts must not be acknowledged; others must. */
    if (!spurious)
        lapic_eoi();
}

/* Exceptions a user thread causes are its own fault; NMI and machine
 * checks are the machine's, whoever was running. */
static bool is_user_fault(const struct trap_frame *f)
{
    return (f->cs & 3) && f->vector != EXC_NMI && f->vector != EXC_MACHINE_CHECK &&
           f->vector != EXC_DOUBLE_FAULT;
}

/* An interrupt on an exception vector: no exception happened, a device
 * wrote the vector into the interrupt window (only a forged MSI does: the
 * kernel gives no source a vector below 32). The stub marked it on a
 * vector with an error code; on the others the LAPIC has it in service,
 * which an exception never is. Nobody is faulted for it. */
static bool forged_on_exception_vector(struct trap_frame *f)
{
    if (f->vector >= FORGED_VECTOR_FLAG)
        f->vector -= FORGED_VECTOR_FLAG;
    else if (f->vector >= 32 || !lapic_in_service((uint8_t)f->vector))
        return false;
    if (++trap_counters.unhandled_interrupts <= UNEXPECTED_INTERRUPT_LOG_LIMIT)
        printk("trap: an interrupt on exception vector %llu (%s): a device sent it, nothing faulted; ignored\n",
               (unsigned long long)f->vector, exception_mnemonic(f->vector));
    lapic_eoi();
    return true;
}

void trap_dispatch(struct trap_frame *frame)
{
    struct percpu *cpu = this_cpu();
    if (cpu->idle_since) {          /* woken from hlt: the idle span ends here, before the handler */
        cpu->idle_tsc += rdtsc() - cpu->idle_since;
        cpu->idle_since = 0;
    }
    if (forged_on_exception_vector(frame)) {
        /* counted as an unowned interrupt */
    } else if (frame->vector < 32 && is_user_fault(frame)) {
        if (!thread_fault_recovered(frame))  /* a fault it asked to survive resumes at its fixup */
            thread_fault(frame);    /* does not return */
    } else if (frame->vector < 32) {
        handle_exception(frame);
    } else {
        handle_interrupt(frame);
    }
    if (frame->cs & 3)
        sched_preempt_point();
}

uint64_t extable_fixup_for(uint64_t rip)
{
    extern const struct extable_entry __extable_start[], __extable_end[];
    for (const struct extable_entry *e = __extable_start; e < __extable_end; e++)
        if (e->fault_rip == rip)
            return e->fixup_rip;
    return 0;
}
