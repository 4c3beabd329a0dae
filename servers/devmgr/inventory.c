/*
 * inventory.c - what devmgr knows about the machine: the IOMMU units
 * (iommu_info), every PCI function the kernel enumerated (device_list on
 * the device root), and the IOMMU groups they form (functions sharing a
 * requester ID share a group, and are attached to a DMA space together).
 * Everything here only reads and prints.
 */
#include <stdio.h>
#include <string.h>
#include <warden/syscalls.h>

#include "devmgr.h"

#define GSTS_TRANSLATION_ENABLED (1u << 31)

const char *pci_address_string(uint64_t address, char *buf, size_t size)
{
    unsigned segment = (unsigned)(address >> 16) & 0xFFFF;
    if (segment)
        snprintf(buf, size, "%04x:%02x:%02x.%x", segment, WD_PCI_BUS(address), WD_PCI_DEV(address), WD_PCI_FN(address));
    else
        snprintf(buf, size, "%02x:%02x.%x", WD_PCI_BUS(address), WD_PCI_DEV(address), WD_PCI_FN(address));
    return buf;
}

unsigned inventory_report_iommus(void)
{
    unsigned count = 0;
    for (;; count++) {
        struct wd_iommu_info u;
        long r = wd_iommu_info(count, &u);
        if (r == -WD_E_NOT_FOUND)
            break;
        if (r < 0) {
            printf("devmgr: cannot read IOMMU unit %u: %s (%s)\n", count, wd_error_name(r), wd_error_text(r));
            break;
        }
        printf("devmgr: IOMMU unit %u at 0x%llx: VT-d %u.%u, %u-bit IOVAs, %u-level tables, %s invalidation, "
               "caching mode %s, translation %s, %llu domain(s), %llu fault(s) so far\n",
               count, (unsigned long long)u.register_base, (u.version >> 4) & 0xF, u.version & 0xF,
               u.address_width, u.levels, u.queued_invalidation ? "queued" : "register-based",
               u.caching_mode ? "on" : "off", (u.status & GSTS_TRANSLATION_ENABLED) ? "on" : "OFF",
               (unsigned long long)u.domains, (unsigned long long)u.faults);
    }
    if (count == 0)
        printf("devmgr: no IOMMU: DMA isolation is unavailable, so DMA drivers are not started\n");
    return count;
}

long inventory_scan(wd_handle_t root, struct inventory *inv)
{
    inv->device_count = 0;
    inv->truncated = false;
    for (uint64_t index = 0;; index++) {
        struct wd_device_info info;
        long r = wd_device_list(root, index, &info);
        if (r == -WD_E_NOT_FOUND)
            return 0;
        if (r < 0)
            return r;
        if (inv->device_count == DEVMGR_MAX_DEVICES) {
            inv->truncated = true;
            return 0;
        }
        inv->devices[inv->device_count++] = info;
    }
}

unsigned inventory_group_size(const struct inventory *inv, unsigned index)
{
    unsigned n = 0;
    for (unsigned i = 0; i < inv->device_count; i++)
        n += inv->devices[i].group == inv->devices[index].group;
    return n;
}

static const char *class_name(uint32_t class_code)
{
    static const struct {
        uint32_t class_subclass;
        const char *name;
    } names[] = {
        { 0x0100, "SCSI" },         { 0x0101, "IDE" },          { 0x0106, "SATA" },
        { 0x0108, "NVMe" },         { 0x0200, "Ethernet" },     { 0x0300, "VGA" },
        { 0x0403, "audio" },        { 0x0600, "host bridge" },  { 0x0601, "ISA bridge" },
        { 0x0604, "PCI bridge" },   { 0x0c03, "USB" },          { 0x0c05, "SMBus" },
        { 0x00ff, "unclassified" },
    };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (names[i].class_subclass == class_code >> 8)
            return names[i].name;
    return "other";
}

/* "translated,aliased,..." or "-". */
static const char *flag_names(uint32_t flags, char *buf, size_t size)
{
    static const char *const names[] = { "translated", "aliased", "bridge", "attached", "quiesced", "owned", "mine" };
    size_t used = 0;
    buf[0] = '\0';
    for (unsigned bit = 0; bit < sizeof names / sizeof names[0]; bit++)
        if ((flags & (1u << bit)) && used < size)
            used += (size_t)snprintf(buf + used, size - used, "%s%s", used ? "," : "", names[bit]);
    return buf[0] ? buf : "-";
}

static void print_bars(const struct wd_device_info *d)
{
    for (unsigned i = 0; i < WD_DEVICE_BARS; i++) {
        const struct wd_bar_info *b = &d->bars[i];
        if (b->size == 0)
            continue;
        const char *kind = (b->flags & WD_BAR_IO) ? "io" : (b->flags & WD_BAR_64BIT) ? "mem64" : "mem32";
        bool mib = b->size >= (1ull << 20);
        printf("      BAR%u %-5s 0x%llx, %llu %s%s%s\n", i, kind, (unsigned long long)b->base,
               (unsigned long long)(mib ? b->size >> 20 : b->size >= 1024 ? b->size >> 10 : b->size),
               mib ? "MiB" : b->size >= 1024 ? "KiB" : "bytes", (b->flags & WD_BAR_PREFETCH) ? ", prefetchable" : "",
               b->base ? "" : ", unassigned");
    }
}

static void print_groups(const struct inventory *inv)
{
    for (unsigned i = 0; i < inv->device_count; i++) {
        const struct wd_device_info *d = &inv->devices[i];
        bool first_of_group = true;
        for (unsigned j = 0; j < i && first_of_group; j++)
            first_of_group = inv->devices[j].group != d->group;
        if (!first_of_group)
            continue;
        char rid[16], member[16];
        printf("devmgr: IOMMU group %u (requester %s):", d->group,
               pci_address_string(d->requester_id, rid, sizeof rid));
        for (unsigned j = i; j < inv->device_count; j++)
            if (inv->devices[j].group == d->group)
                printf(" %s", pci_address_string(inv->devices[j].address, member, sizeof member));
        unsigned n = inventory_group_size(inv, i);
        printf(n > 1 ? " (%u functions share one requester ID: they are isolated only as a group)\n" : "\n", n);
    }
}

void inventory_print(const struct inventory *inv)
{
    printf("devmgr: %u PCI function(s)%s:\n", inv->device_count, inv->truncated ? " (list truncated)" : "");
    printf("  address   ids        class               rev requester group iommu flags\n");
    for (unsigned i = 0; i < inv->device_count; i++) {
        const struct wd_device_info *d = &inv->devices[i];
        char addr[16], rid[16], unit[12], flags[96];
        if (d->iommu_unit == ~0u)
            snprintf(unit, sizeof unit, "none");
        else
            snprintf(unit, sizeof unit, "%u", d->iommu_unit);
        printf("  %-9s %04x:%04x  %06x %-12s %02x  %-9s %-5u %-5s %s\n",
               pci_address_string(d->address, addr, sizeof addr), d->vendor_id, d->device_id, d->class_code, class_name(d->class_code), d->revision,
               pci_address_string(d->requester_id, rid, sizeof rid), d->group, unit,
               flag_names(d->flags, flags, sizeof flags));
        print_bars(d);
    }
    print_groups(inv);
}
