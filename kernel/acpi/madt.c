/*
 * madt.c - summarises the MADT: local APIC address, CPUs, I/O APICs and
 * ISA interrupt overrides. Entries are bounds-checked one by one; a bad
 * entry length ends the walk (the next entry cannot be found reliably).
 */
#include "acpi/acpi.h"
#include "core/printk.h"

#include <string.h>

static void add_cpu(struct madt_summary *out, uint32_t apic_id, uint32_t flags)
{
    if (!(flags & (MADT_LAPIC_ENABLED | MADT_LAPIC_ONLINE_CAPABLE)))
        return;
    if (out->cpu_count < MADT_MAX_CPUS)
        out->cpu_apic_ids[out->cpu_count++] = apic_id;
}

/* Minimum length of each entry type we read. */
static size_t entry_min_length(uint8_t type)
{
    switch (type) {
    case MADT_LOCAL_APIC: return sizeof(struct acpi_madt_local_apic);
    case MADT_IO_APIC: return sizeof(struct acpi_madt_io_apic);
    case MADT_INTERRUPT_OVERRIDE: return sizeof(struct acpi_madt_interrupt_override);
    case MADT_LOCAL_APIC_ADDRESS: return sizeof(struct acpi_madt_local_apic_address);
    case MADT_LOCAL_X2APIC: return sizeof(struct acpi_madt_local_x2apic);
    default: return sizeof(struct acpi_madt_entry);
    }
}

bool madt_parse(const struct acpi_sdt_header *table, struct madt_summary *out)
{
    memset(out, 0, sizeof *out);
    if (table->length < sizeof(struct acpi_madt)) {
        printk("acpi: MADT too short (%u bytes)\n", table->length);
        return false;
    }
    const struct acpi_madt *madt = (const struct acpi_madt *)table;
    out->lapic_address = madt->lapic_address;
    out->has_8259 = madt->flags & 1;

    const uint8_t *p = (const uint8_t *)(madt + 1);
    const uint8_t *end = (const uint8_t *)table + table->length;
    while (p + sizeof(struct acpi_madt_entry) <= end) {
        const struct acpi_madt_entry *e = (const struct acpi_madt_entry *)p;
        if (e->length < entry_min_length(e->type) || e->length > end - p) {
            printk("acpi: MADT entry type %u at offset %td has bad length %u, rest of the MADT ignored\n",
                   e->type, p - (const uint8_t *)table, e->length);
            out->entries_rejected++;
            break;
        }
        switch (e->type) {
        case MADT_LOCAL_APIC: {
            const struct acpi_madt_local_apic *l = (const void *)e;
            add_cpu(out, l->apic_id, l->flags);
            break;
        }
        case MADT_LOCAL_X2APIC: {
            const struct acpi_madt_local_x2apic *x = (const void *)e;
            add_cpu(out, x->x2apic_id, x->flags);
            break;
        }
        case MADT_IO_APIC: {
            const struct acpi_madt_io_apic *io = (const void *)e;
            if (out->ioapic_count < MADT_MAX_IOAPICS) {
                out->ioapics[out->ioapic_count].id = io->io_apic_id;
                out->ioapics[out->ioapic_count].address = io->address;
                out->ioapics[out->ioapic_count].gsi_base = io->gsi_base;
                out->ioapic_count++;
            }
            break;
        }
        case MADT_INTERRUPT_OVERRIDE: {
            const struct acpi_madt_interrupt_override *o = (const void *)e;
            if (out->override_count < MADT_MAX_OVERRIDES) {
                out->overrides[out->override_count].source_irq = o->source;
                out->overrides[out->override_count].gsi = o->gsi;
                out->overrides[out->override_count].flags = o->flags;
                out->override_count++;
            }
            break;
        }
        case MADT_LOCAL_APIC_ADDRESS: {
            const struct acpi_madt_local_apic_address *a = (const void *)e;
            out->lapic_address = a->address;
            break;
        }
        default:
            break;
        }
        p += e->length;
    }
    return true;
}
