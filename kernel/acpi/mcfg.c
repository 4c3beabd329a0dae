/*
 * mcfg.c - summarises the MCFG: one ECAM window per PCI segment group.
 * A trailing partial allocation entry, or one with start bus > end bus,
 * is reported and skipped.
 */
#include "acpi/acpi.h"
#include "core/printk.h"

#include <string.h>

bool mcfg_parse(const struct acpi_sdt_header *table, struct mcfg_summary *out)
{
    memset(out, 0, sizeof *out);
    if (table->length < sizeof(struct acpi_mcfg)) {
        printk("acpi: MCFG too short (%u bytes)\n", table->length);
        return false;
    }
    size_t space = table->length - sizeof(struct acpi_mcfg);
    size_t count = space / sizeof(struct acpi_mcfg_allocation);
    if (space % sizeof(struct acpi_mcfg_allocation)) {
        printk("acpi: MCFG has %zu trailing bytes, ignored\n", space % sizeof(struct acpi_mcfg_allocation));
        out->entries_rejected++;
    }
    const struct acpi_mcfg_allocation *a =
        (const struct acpi_mcfg_allocation *)((const uint8_t *)table + sizeof(struct acpi_mcfg));
    for (size_t i = 0; i < count; i++) {
        if (a[i].start_bus > a[i].end_bus || a[i].base_address == 0) {
            printk("acpi: MCFG entry %zu (segment %u, buses %u-%u, base 0x%llx) is invalid, skipped\n",
                   i, a[i].segment, a[i].start_bus, a[i].end_bus, (unsigned long long)a[i].base_address);
            out->entries_rejected++;
            continue;
        }
        if (out->count == MCFG_MAX_SEGMENTS)
            break;
        out->segments[out->count].base = a[i].base_address;
        out->segments[out->count].segment = a[i].segment;
        out->segments[out->count].start_bus = a[i].start_bus;
        out->segments[out->count].end_bus = a[i].end_bus;
        out->count++;
    }
    return true;
}
