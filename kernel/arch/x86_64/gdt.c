/*
 * gdt.c - the boot CPU's GDT and TSS, and the IST stacks that let double
 * faults, NMIs and machine checks run on a known-good stack.
 * Per-CPU copies come with SMP; everything here is already grouped in one
 * struct per CPU so that is a matter of allocating more of them.
 */
#include "arch/x86_64/gdt.h"

#include <stddef.h>
#include <string.h>

#define IST_STACK_BYTES 16384

struct __attribute__((packed)) tss64 {
    uint32_t reserved0;
    uint64_t rsp[3];
    uint64_t reserved1;
    uint64_t ist[8];        /* ist[0] unused: IST slots are 1..7 */
    uint64_t reserved2;
    uint16_t reserved3;
    uint16_t iopb_offset;
};

struct __attribute__((packed)) descriptor_pointer {
    uint16_t limit;
    uint64_t base;
};

struct cpu_descriptors {
    uint64_t gdt[8];        /* null, kcode, kdata, ucode32, udata, ucode, tss(2) */
    struct tss64 tss;
    uint8_t ist_stacks[3][IST_STACK_BYTES] __attribute__((aligned(16)));
};

static struct cpu_descriptors boot_cpu __attribute__((aligned(64)));

/* Flat code/data descriptor (base 0, limit 0xFFFFF): access byte in bits
 * 40..47, limit[19:16] and the G/DB/L flags in bits 48..55 (SDM 3.4.5). */
static uint64_t segment_descriptor(uint8_t access, uint8_t flags)
{
    return 0xFFFFull | (uint64_t)access << 40 | (uint64_t)(flags | 0x0F) << 48;
}

enum {
    ACCESS_PRESENT = 0x80,
    ACCESS_DPL3 = 0x60,
    ACCESS_CODE_OR_DATA = 0x10,
    ACCESS_EXECUTABLE = 0x08,
    ACCESS_RW = 0x02,
    ACCESS_TSS_AVAILABLE = 0x09,
    FLAGS_LONG = 0x20,
    FLAGS_32BIT = 0x40,
    FLAGS_4K_GRANULARITY = 0x80,
};

static void set_tss_descriptor(uint64_t *slot, const struct tss64 *tss)
{
    uint64_t base = (uint64_t)tss;
    uint64_t limit = sizeof *tss - 1;
    slot[0] = (limit & 0xFFFF) | (base & 0xFFFFFF) << 16 |
              (uint64_t)(ACCESS_PRESENT | ACCESS_TSS_AVAILABLE) << 40 |
              ((limit >> 16) & 0xF) << 48 | ((base >> 24) & 0xFF) << 56;
    slot[1] = base >> 32;
}

void gdt_init(void)
{
    struct cpu_descriptors *cpu = &boot_cpu;
    memset(cpu->gdt, 0, sizeof cpu->gdt);
    uint8_t code = ACCESS_PRESENT | ACCESS_CODE_OR_DATA | ACCESS_EXECUTABLE | ACCESS_RW;
    uint8_t data = ACCESS_PRESENT | ACCESS_CODE_OR_DATA | ACCESS_RW;
    cpu->gdt[GDT_KERNEL_CODE / 8] = segment_descriptor(code, FLAGS_LONG | FLAGS_4K_GRANULARITY);
    cpu->gdt[GDT_KERNEL_DATA / 8] = segment_descriptor(data, FLAGS_32BIT | FLAGS_4K_GRANULARITY);
    cpu->gdt[GDT_USER_CODE32 / 8] = segment_descriptor(code | ACCESS_DPL3, FLAGS_32BIT | FLAGS_4K_GRANULARITY);
    cpu->gdt[GDT_USER_DATA / 8] = segment_descriptor(data | ACCESS_DPL3, FLAGS_32BIT | FLAGS_4K_GRANULARITY);
    cpu->gdt[GDT_USER_CODE / 8] = segment_descriptor(code | ACCESS_DPL3, FLAGS_LONG | FLAGS_4K_GRANULARITY);

    memset(&cpu->tss, 0, sizeof cpu->tss);
    for (int slot = IST_DOUBLE_FAULT; slot <= IST_MACHINE_CHECK; slot++)
        cpu->tss.ist[slot] = (uint64_t)&cpu->ist_stacks[slot - 1][IST_STACK_BYTES];
    cpu->tss.iopb_offset = sizeof cpu->tss;     /* no I/O permission bitmap */
    set_tss_descriptor(&cpu->gdt[GDT_TSS / 8], &cpu->tss);

    struct descriptor_pointer gdtr = { sizeof cpu->gdt - 1, (uint64_t)cpu->gdt };
    __asm__ volatile(
        "lgdt %0\n\t"
        "pushq %1\n\t"
        "leaq 1f(%%rip), %%rax\n\t"
        "pushq %%rax\n\t"
        "lretq\n"
        "1:\n\t"
        "movw %w2, %%ax\n\t"
        "movw %%ax, %%ds\n\t"
        "movw %%ax, %%es\n\t"
        "movw %%ax, %%ss\n\t"
        "xorl %%eax, %%eax\n\t"
        "movw %%ax, %%fs\n\t"
        "movw %%ax, %%gs\n\t"
        "ltr %w3"
        : : "m"(gdtr), "i"(GDT_KERNEL_CODE), "r"(GDT_KERNEL_DATA), "r"(GDT_TSS) : "rax", "memory");
}

void gdt_set_kernel_stack(uint64_t rsp0)
{
    boot_cpu.tss.rsp[0] = rsp0;
}
