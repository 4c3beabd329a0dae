/*
 * kmain.c - the boot sequence, in order. Each step either works or says
 * clearly why the kernel cannot go on.
 *
 *   serial -> GDT/TSS/IDT -> boot information -> command line
 *   -> frame allocator -> kernel page tables (direct map) -> object allocator
 *   -> ACPI (MADT, MCFG, DMAR) -> LAPIC + timer -> PCI (ECAM) -> IOMMU probe
 *   -> bus mastering off everywhere, IOMMU units enabled (deny-all), groups
 *   -> boot tests (with `test`) or idle
 */
#include "core/boot.h"
#include "acpi/acpi_dump.h"
#include "acpi/platform.h"
#include "arch/x86_64/cpu.h"
#include "arch/x86_64/gdt.h"
#include "arch/x86_64/ioapic.h"
#include "arch/x86_64/lapic.h"
#include "arch/x86_64/layout.h"
#include "arch/x86_64/qemu.h"
#include "arch/x86_64/serial.h"
#include "arch/x86_64/timer.h"
#include "arch/x86_64/trap.h"
#include "core/panic.h"
#include "core/user_boot.h"
#include "obj/console.h"
#include "arch/x86_64/percpu.h"
#include "sched/sched.h"
#include "core/printk.h"
#include "iommu/iommu.h"
#include "iommu/vtd_probe.h"
#include "mm/kernel_vm.h"
#include "mm/kobj.h"
#include "mm/physmem.h"
#include "pci/ecam.h"
#include "selftest/ktest.h"

#include <string.h>


struct mb2_summary boot_info;
struct cmdline kernel_cmdline;

static void read_boot_information(uint32_t magic, uint64_t info_phys)
{
    if (magic != MB2_BOOT_MAGIC)
        panic("not started by a multiboot2 boot loader (magic 0x%x)", magic);
    if (info_phys == 0 || info_phys >= EARLY_WINDOW_BYTES)
        panic("boot information at 0x%llx is outside the first %llu MiB the boot page tables map",
              (unsigned long long)info_phys, (unsigned long long)(EARLY_WINDOW_BYTES >> 20));
    int r = mb2_parse((const void *)(KERNEL_VMA + info_phys), EARLY_WINDOW_BYTES - info_phys,
                      info_phys, &boot_info);
    if (r != MB2_OK)
        panic("boot information at 0x%llx is unusable (error %d)", (unsigned long long)info_phys, r);
    printk("boot: %u bytes of boot information at 0x%llx, %u module(s)%s\n", boot_info.info_size,
           (unsigned long long)info_phys, boot_info.module_count,
           boot_info.tags_rejected ? ", some tags rejected (see above)" : "");
}

/* The command line from GRUB, plus flags the QEMU harness passes through
 * fw_cfg (so tests can add flags without rebuilding the ISO). */
char kernel_command_line[CMDLINE_MAX_BYTES];

static void read_command_line(void)
{
    char *combined = kernel_command_line;
    const size_t combined_size = sizeof kernel_command_line;
    char extra[256];
    size_t len = strnlen(boot_info.cmdline, combined_size - 1);
    memcpy(combined, boot_info.cmdline, len);
    combined[len] = '\0';
    if (qemu_fwcfg_read_string("opt/warden/cmdline", extra, sizeof extra) > 0 &&
        len + 1 + strlen(extra) < combined_size) {
        combined[len] = ' ';
        memcpy(combined + len + 1, extra, strlen(extra) + 1);
    }
    cmdline_parse(&kernel_cmdline, combined);
    printk("boot: command line \"%s\"\n", combined);
}

static void *kobj_page_alloc(void)
{
    uint64_t phys = physmem_alloc();
    return phys ? phys_to_virt(phys) : NULL;
}

static void kobj_page_free(void *page)
{
    physmem_free(virt_to_phys(page));
}

static const struct kobj_page_source kernel_page_source = { kobj_page_alloc, kobj_page_free };

/* `crash=KIND` makes the kernel fault on purpose, so the test harness can
 * check what an unhandled exception prints. Not inlined, so the stack
 * trace has a kernel caller (kmain) to find. */
__attribute__((noinline)) static void crash_on_request(void)
{
    const char *kind = cmdline_value(&kernel_cmdline, "crash");
    if (!kind)
        return;
    printk("boot: crashing on request (crash=%s)\n", kind);
    if (strcmp(kind, "pagefault") == 0)
        (void)*(volatile uint64_t *)0xdea000;       /* unmapped since the identity map is gone */
    else if (strcmp(kind, "ud") == 0)
        __asm__ volatile("ud2");
    else if (strcmp(kind, "gp") == 0)
        (void)*(volatile uint64_t *)0x8000000000000000ull;  /* non-canonical */
    else if (strcmp(kind, "panic") == 0)
        panic("panic requested on the command line");
    printk("boot: unknown crash kind \"%s\" (pagefault, ud, gp, panic)\n", kind);
}

void kmain(uint32_t magic, uint64_t info_phys)
{
    serial_init();
    printk("\nWarden %s: x86-64 microkernel with VT-d DMA isolation\n", WARDEN_VERSION);
    gdt_init();
    idt_init();
    percpu_init_boot_cpu();

    read_boot_information(magic, info_phys);
    read_command_line();

    physmem_init(&boot_info);
    kernel_vm_init(&boot_info);
    kobj_init(&kernel_page_source);

    platform_discover(&boot_info);
    pic_disable();
    lapic_init(platform.has_madt ? platform.madt.lapic_address : 0);
    if (platform.has_madt)
        ioapic_init(&platform.madt);    /* every line masked until an irq object programs it */
    timer_init();
    sched_init();
    cpu_sti();
    timer_start_periodic(SCHED_TICK_HZ);

    if (platform.has_mcfg && !ecam_init(&platform.mcfg))
        printk("pci: no usable ECAM window: no devices will be listed\n");
    vtd_probe(platform.has_dmar ? &platform.dmar : NULL);
    iommu_boot(platform.has_dmar ? &platform.dmar : NULL);

    if (cmdline_has(&kernel_cmdline, "acpidump"))
        acpi_dump(&platform.acpi, boot_info.rsdp, boot_info.rsdp_length);
    crash_on_request();

    static struct wd_ktest_result ktests[WD_START_MAX_KTESTS];
    unsigned ktest_count = 0;
    if (cmdline_has(&kernel_cmdline, "test"))
        ktest_count = ktest_run_all(ktests, WD_START_MAX_KTESTS);

    kernel_vm_prepare_user_spaces();
    console_init();                 /* COM1's input: after the self-tests, which use its line */
    cpu_cli();                      /* from here the kernel runs with interrupts off, except in idle */
    timer_start_periodic(SCHED_TICK_HZ);    /* again: the boot tests reprogram the timer */
    struct physmem_stats mem = physmem_stats();
    printk("Warden is up: %llu MiB free.\n", (unsigned long long)(mem.free_frames * FRAME_SIZE >> 20));
    if (!user_boot_start_init(ktests, ktest_count) &&
        (cmdline_has(&kernel_cmdline, "test") || cmdline_has(&kernel_cmdline, "bench"))) {
        printk("warden-test: FAIL (no init)\n");
        qemu_exit(QEMU_EXIT_FAIL);
    }
    sched_run_idle();
}
