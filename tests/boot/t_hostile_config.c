/*
 * t_hostile_config.c - hostile_driver_escapes, the rows about config space
 * and other devices (see t_hostile_driver.c): writes that would move edu's
 * BARs or reprogram its MSI; an MSI-X device's capability and table
 * (QEMU's e1000e, where the machine has one); bridges' bus numbers and
 * windows and the chipset's host and ISA bridges; a device the driver was
 * handed but another driver owns; devices it was never given.
 *
 * Each refused config write is checked three ways: the error the driver
 * got, the register the driver read back before and after, and - where
 * nobody owns the device - the register this test reads itself.
 */
#include <string.h>

#include "boot_tests.h"
#include "t_hostile.h"

#define CAP_MSI 0x05
#define CAP_MSIX 0x11
#define PCI_CLASS_BRIDGE 0x06

struct config_write {
    unsigned offset, width;
    uint32_t value;
    const char *what;
};

/* The driver writes w to target; the kernel must refuse with `error` and
 * the register must read the same before and after. */
static void refused_write(struct hostile_run *run, uint64_t target, const struct config_write *w, long error)
{
    struct wd_msg reply;
    long r = hostile_call(run, HOSTILE_OP_CONFIG_WRITE, target, w->offset, w->width, w->value, WD_NULL, &reply);
    printf("#   %-34s 0x%03x/%u := 0x%08x: %s, reads 0x%llx before and 0x%llx after\n", w->what, w->offset,
           w->width, w->value, wd_error_name(r), (unsigned long long)reply.w[1], (unsigned long long)reply.w[2]);
    BT_CHECK_EQ(r, error);
    BT_CHECK_EQ(reply.w[1], reply.w[2]);
}

/* 6. MSI: enable, address (the victim's compatibility-format address),
 * data (its vector), message control as a whole and the next pointer.
 * Then the device's real interrupt still goes to the driver's own irq,
 * not the victim (with the victim's values in place, QEMU would deliver
 * it there: it does not block compatibility format). */
void hostile_msi_config(struct hostile_run *run)
{
    unsigned cap = run->edu_msi_cap;
    printf("# 6. config writes to edu's MSI capability (at 0x%x)\n", cap);
    if (!cap) {
        BT_CHECK(!"edu has no MSI capability");
        return;
    }
    uint32_t vector = run->victim.irq_info.vector;
    const struct config_write writes[] = {
        { cap + 2, 2, 0x0000, "MSI enable off" },
        { cap + 2, 2, 0x0071, "MSI enable on, 8 vectors" },
        { cap + 4, 4, 0xFEE00000u, "MSI address: the victim's CPU" },
        { cap + 8, 4, 0x00000000u, "MSI address, upper half" },
        { cap + 12, 2, vector, "MSI data: the victim's vector" },
        { cap, 4, 0x00010005u, "MSI header and control" },
        { cap + 1, 1, 0x50, "MSI next pointer" },
    };
    for (unsigned i = 0; i < sizeof writes / sizeof writes[0]; i++)
        refused_write(run, 0, &writes[i], -WD_E_PROTECTED);
    uint64_t before = victim_interrupts(&run->victim);
    struct wd_msg reply;
    BT_CHECK_EQ(hostile_call(run, HOSTILE_OP_RAISE, 0, 0, 0, 0, WD_NULL, &reply), 0);
    BT_CHECK_EQ(reply.w[1], 1);                                     /* its own irq got it */
    BT_CHECK_EQ(victim_interrupts(&run->victim), before);
}

/* 7. BARs and the ROM BAR: sizing, moving, byte and word writes. The
 * driver's mapping still reaches the device afterwards; once the driver is
 * gone the test compares every BAR with what it read before. */
void hostile_bar_config(struct hostile_run *run)
{
    printf("# 7. config writes that would move edu's BARs\n");
    const struct config_write writes[] = {
        { 0x10, 4, 0xFFFFFFFFu, "BAR0 sizing" },   { 0x10, 4, 0x00000000u, "BAR0 to 0" },
        { 0x12, 2, 0xFEB0, "BAR0 upper word" },    { 0x13, 1, 0x80, "BAR0 top byte" },
        { 0x14, 4, 0xFFFFFFFFu, "BAR1" },          { 0x18, 4, 0xFFFFFFFFu, "BAR2" },
        { 0x1C, 4, 0xFFFFFFFFu, "BAR3" },          { 0x20, 4, 0xFFFFFFFFu, "BAR4" },
        { 0x24, 4, 0xFFFFFFFFu, "BAR5" },          { 0x30, 4, 0xFFFFF801u, "ROM BAR on" },
    };
    for (unsigned i = 0; i < sizeof writes / sizeof writes[0]; i++)
        refused_write(run, 0, &writes[i], -WD_E_PROTECTED);
    struct wd_msg reply;
    BT_CHECK_EQ(hostile_call(run, HOSTILE_OP_READ_ID, 0, 0, 0, 0, WD_NULL, &reply), 0x010000ED);
}

/* 8. MSI-X (e1000e): the capability, the table's page through its BAR,
 * and a device write to the table's physical address. */
void hostile_msix(struct hostile_run *run)
{
    struct wd_device_info nic;
    printf("# 8. MSI-X: an e1000e the driver owns too\n");
    if (dma_find_device(E1000E_VENDOR, E1000E_DEVICE, &nic) != 0) {
        printf("#   skipped: no e1000e on this machine\n");
        return;
    }
    long device = BT_OK(wd_device_open(dma_device_root(), nic.address));
    unsigned cap = device < 0 ? 0 : pci_capability((wd_handle_t)device, CAP_MSIX);
    BT_CHECK(cap != 0);
    unsigned bar = 6;
    for (unsigned b = 0; b < 6; b++)
        if (nic.bars[b].protected_size)
            bar = b;
    BT_CHECK(bar < 6);
    if (!cap || bar == 6)
        return;
    const struct wd_bar_info *table = &nic.bars[bar];
    struct wd_msg reply;
    long target = hostile_call(run, HOSTILE_OP_ADOPT, 1, run->remapping ? WD_IRQ_MSIX(0) : ~0ull, 0, 0,
                               (wd_handle_t)device, &reply);
    BT_CHECK(target > 0);
    BT_CHECK_EQ(reply.w[1], 0);                                     /* it owns the e1000e now */
    if (run->remapping) {
        BT_CHECK((long)reply.w[2] > 0);
        BT_CHECK_EQ(reply.w[3] & 0xFFF00010, 0xFEE00010);           /* the kernel's remappable address */
        BT_CHECK_EQ(reply.w[4], nic.requester_id);
    }
    const struct config_write writes[] = {
        { cap + 2, 2, 0x0000, "MSI-X enable off" },
        { cap + 2, 2, 0x4000, "MSI-X function mask" },
        { cap + 4, 4, 0x00002000u | bar, "MSI-X table offset" },
        { cap + 8, 4, 0x00000000u, "MSI-X PBA offset" },
    };
    for (unsigned i = 0; i < sizeof writes / sizeof writes[0]; i++)
        refused_write(run, (uint64_t)target, &writes[i], -WD_E_PROTECTED);
    BT_CHECK(hostile_call(run, HOSTILE_OP_BAR_MAP, (uint64_t)target, bar, table->protected_offset, WD_PAGE_SIZE,
                          WD_NULL, &reply) > 0);
    printf("#   map the table's page (BAR%u + 0x%llx): vm_map %s, dma_map %s\n", bar,
           (unsigned long long)table->protected_offset, wd_error_name((long)reply.w[1]),
           wd_error_name((long)reply.w[2]));
    BT_CHECK_EQ(reply.w[1], -WD_E_PROTECTED);
    BT_CHECK_EQ(reply.w[2], -WD_E_NOT_SUPPORTED);                   /* no peer-to-peer DMA either */
    BT_CHECK(hostile_call(run, HOSTILE_OP_BAR_MAP, (uint64_t)target, bar, 0, table->size, WD_NULL, &reply) > 0);
    BT_CHECK_EQ(reply.w[1], -WD_E_PROTECTED);                       /* nor the whole BAR */
    uint64_t after = table->protected_offset + table->protected_size;
    if (after < table->size) {                                      /* the PBA is the driver's */
        BT_CHECK(hostile_call(run, HOSTILE_OP_BAR_MAP, (uint64_t)target, bar, after, WD_PAGE_SIZE, WD_NULL,
                              &reply) > 0);
        BT_CHECK_EQ(reply.w[1], 0);
    }
    uint64_t physical = table->base + table->protected_offset;
    if (run->mask_bits == 64 || physical >> run->mask_bits == 0) {
        printf("#   device write to the table's physical address 0x%llx\n", (unsigned long long)physical);
        uint64_t faults = edu_fault_count(run);
        BT_CHECK_EQ(device_write(run, physical, 16), 0);
        expect_dma_fault(run, physical, FR_WRITE_DENIED, 0);
        BT_CHECK(edu_fault_count(run) > faults);
    }
}

/* The registers a driver with a bridge capability tries. Bridges
 * (header type 1) get changed values; the chipset's host and ISA bridges
 * their own (a write that got through would change nothing, so the error
 * is the proof). */
static unsigned bridge_writes(wd_handle_t device, const struct wd_device_info *d, struct config_write *out)
{
    static const struct {
        uint32_t class_code;
        unsigned offset, width;
        const char *what;
    } chipset[] = {
        { 0x060000, 0x60, 4, "host bridge: PCIEXBAR (ECAM base)" },
        { 0x060000, 0x90, 1, "host bridge: PAM0 (BIOS area)" },
        { 0x060000, 0x9D, 1, "host bridge: SMRAM" },
        { 0x060100, 0x40, 4, "ISA bridge: PMBASE (ACPI I/O)" },
        { 0x060100, 0x60, 1, "ISA bridge: PIRQA routing" },
        { 0x060100, 0xF0, 4, "ISA bridge: RCBA (chipset registers)" },
    };
    unsigned n = 0;
    if (d->header_type == 1) {
        uint32_t buses = (uint32_t)wd_device_config_read(device, 0x18, 4);
        out[n++] = (struct config_write){ 0x18, 4, buses + 0x100, "bridge: secondary bus + 1" };
        out[n++] = (struct config_write){ 0x1A, 1, 0xFF, "bridge: subordinate bus" };
        out[n++] = (struct config_write){ 0x1C, 2, 0xF0F0, "bridge: I/O window" };
        out[n++] = (struct config_write){ 0x20, 4, 0x0000FFF0u, "bridge: memory window" };
        out[n++] = (struct config_write){ 0x24, 4, 0x0000FFF0u, "bridge: prefetchable window" };
        out[n++] = (struct config_write){ 0x3E, 2, 0x0040, "bridge: secondary bus reset" };
        return n;
    }
    for (unsigned i = 0; i < sizeof chipset / sizeof chipset[0]; i++)
        if ((d->class_code & 0xFFFF00) == chipset[i].class_code)
            out[n++] = (struct config_write){ chipset[i].offset, chipset[i].width,
                                              (uint32_t)wd_device_config_read(device, chipset[i].offset,
                                                                              chipset[i].width),
                                              chipset[i].what };
    return n;
}

/* 9. Bridges: a driver handed a bridge's capability (which no supervisor
 * should do) cannot renumber buses, move windows or reset the bus below. */
void hostile_bridges(struct hostile_run *run)
{
    printf("# 9. config writes to bridges (bus numbers, windows) and the chipset's bridges\n");
    wd_handle_t root = dma_device_root();
    struct wd_device_info d;
    unsigned bridges = 0;
    for (uint64_t i = 0; wd_device_list(root, i, &d) == 0; i++) {
        if ((d.class_code >> 16) != PCI_CLASS_BRIDGE)
            continue;
        long device = BT_OK(wd_device_open(root, d.address));
        struct config_write writes[8];
        unsigned n = device < 0 ? 0 : bridge_writes((wd_handle_t)device, &d, writes);
        if (!n)
            continue;
        struct wd_msg reply;
        long target = hostile_call(run, HOSTILE_OP_ADOPT, 0, ~0ull, 0, 0, (wd_handle_t)device, &reply);
        BT_CHECK(target > 0);
        printf("#   %02x:%02x.%x (class %06x, header type %u)\n", WD_PCI_BUS(d.address), WD_PCI_DEV(d.address),
               WD_PCI_FN(d.address), d.class_code, d.header_type);
        for (unsigned w = 0; w < n; w++) {
            long outside = wd_device_config_read((wd_handle_t)device, writes[w].offset, writes[w].width);
            refused_write(run, (uint64_t)target, &writes[w], -WD_E_PROTECTED);
            BT_CHECK_EQ(wd_device_config_read((wd_handle_t)device, writes[w].offset, writes[w].width), outside);
        }
        bridges++;
    }
    if (!bridges)
        printf("#   none on this machine\n");
}

/* 10. Other devices: one it was handed but the victim owns, and one it
 * was never given (every handle it holds tried as a device root). */
void hostile_foreign_bars(struct hostile_run *run)
{
    struct victim *v = &run->victim;
    printf("# 10. BARs of devices it does not own: %02x:%02x.%x (handed to it, owned by another driver)\n",
           WD_PCI_BUS(v->info.address), WD_PCI_DEV(v->info.address), WD_PCI_FN(v->info.address));
    struct wd_msg reply;
    long target = hostile_call(run, HOSTILE_OP_ADOPT, 1, ~0ull, 0, 0, v->device, &reply);
    BT_CHECK(target > 0);
    BT_CHECK_EQ(reply.w[1], -WD_E_NOT_OWNER);                       /* attach */
    unsigned bar = 6;
    for (unsigned b = 0; b < 6; b++)
        if (v->info.bars[b].size && (v->info.bars[b].flags & WD_BAR_MMIO))
            bar = b;
    if (bar < 6)
        BT_CHECK_EQ(hostile_call(run, HOSTILE_OP_BAR_MAP, (uint64_t)target, bar, 0, WD_PAGE_SIZE, WD_NULL, &reply),
                    -WD_E_NOT_OWNER);
    const struct config_write command = { 0x04, 2, 0x0006, "command: bus master on" };
    struct wd_msg w;
    BT_CHECK_EQ(hostile_call(run, HOSTILE_OP_CONFIG_WRITE, (uint64_t)target, command.offset, command.width,
                             command.value, WD_NULL, &w), -WD_E_NOT_OWNER);
    BT_CHECK_EQ(wd_device_config_read(v->device, 4, 2) & 4, 0);    /* the victim's AHCI: still no bus master */
    /* Never given: nothing it holds opens a device. */
    struct wd_device_info other;
    uint64_t address = dma_find_device(E1000E_VENDOR, E1000E_DEVICE, &other) == 0 ? other.address : v->info.address;
    long tried = hostile_call(run, HOSTILE_OP_OPEN_DEVICES, address, 0, 0, 0, WD_NULL, &reply);
    printf("#   device_open of %02x:%02x.%x with each of the %ld handles it holds: %llu opened; "
           "frame_create(MMIO): %s\n", WD_PCI_BUS(address), WD_PCI_DEV(address), WD_PCI_FN(address), tried,
           (unsigned long long)reply.w[1], wd_error_name((long)reply.w[2]));
    BT_CHECK(tried >= 8);                                           /* self, pool, registry, devices, ... */
    BT_CHECK_EQ(reply.w[1], 0);
    BT_CHECK_EQ(reply.w[2], -WD_E_BAD_FLAGS);
    /* Its own BAR: mapped for the CPU, never for DMA (no peer-to-peer). */
    BT_CHECK(hostile_call(run, HOSTILE_OP_BAR_MAP, 0, 0, 0, WD_PAGE_SIZE, WD_NULL, &reply) > 0);
    BT_CHECK_EQ(reply.w[1], 0);
    BT_CHECK_EQ(reply.w[2], -WD_E_NOT_SUPPORTED);
    BT_CHECK_EQ(hostile_call(run, HOSTILE_OP_BAR_MAP, 0, 1, 0, WD_PAGE_SIZE, WD_NULL, &reply), -WD_E_NOT_FOUND);
}
