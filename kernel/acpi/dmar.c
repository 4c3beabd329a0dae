/*
 * dmar.c - walks the DMAR's remapping structures and device scopes with a
 * bounds check at every step (VT-d spec 8.1-8.5). A structure whose length
 * is too small or runs past the table ends the walk; a bad device scope
 * ends that structure's scope list. Both are counted in `rejected`.
 */
#include "acpi/dmar.h"
#include "core/printk.h"

#include <stddef.h>
#include <string.h>

const char *dmar_scope_type_name(uint8_t type)
{
    switch (type) {
    case DMAR_SCOPE_ENDPOINT: return "endpoint";
    case DMAR_SCOPE_BRIDGE: return "bridge";
    case DMAR_SCOPE_IOAPIC: return "IOAPIC";
    case DMAR_SCOPE_HPET: return "HPET";
    case DMAR_SCOPE_ACPI_NAMESPACE: return "ACPI device";
    default: return "unknown";
    }
}

/* Parses the device scopes in [p, end) into scopes[]; returns the count. */
static unsigned parse_scopes(const uint8_t *p, const uint8_t *end, struct dmar_scope *scopes,
                             unsigned *rejected)
{
    unsigned n = 0;
    while (p < end) {
        const struct dmar_device_scope *ds = (const struct dmar_device_scope *)p;
        if ((size_t)(end - p) < sizeof *ds || ds->length < sizeof *ds || ds->length > end - p ||
            (ds->length - sizeof *ds) % 2) {
            printk("acpi: DMAR device scope with bad length, rest of the scope list ignored\n");
            (*rejected)++;
            break;
        }
        if (n < DMAR_MAX_SCOPES) {
            struct dmar_scope *s = &scopes[n++];
            memset(s, 0, sizeof *s);
            s->type = ds->type;
            s->enumeration_id = ds->enumeration_id;
            s->start_bus = ds->start_bus;
            unsigned pairs = (ds->length - sizeof *ds) / 2;
            if (pairs > DMAR_MAX_PATH) {
                printk("acpi: DMAR device scope path of %u hops truncated to %d\n", pairs, DMAR_MAX_PATH);
                (*rejected)++;
                pairs = DMAR_MAX_PATH;
            }
            const uint8_t *path = (const uint8_t *)(ds + 1);
            for (unsigned i = 0; i < pairs; i++) {
                s->path[i].device = path[2 * i];
                s->path[i].function = path[2 * i + 1];
            }
            s->path_length = (uint8_t)pairs;
        }
        p += ds->length;
    }
    return n;
}

bool dmar_parse(const struct acpi_sdt_header *table, struct dmar_summary *out)
{
    memset(out, 0, sizeof *out);
    if (table->length < sizeof(struct acpi_dmar)) {
        printk("acpi: DMAR too short (%u bytes)\n", table->length);
        return false;
    }
    const struct acpi_dmar *dmar = (const struct acpi_dmar *)table;
    out->address_width = dmar->host_address_width + 1u;
    out->flags = dmar->flags;

    const uint8_t *p = (const uint8_t *)(dmar + 1);
    const uint8_t *end = (const uint8_t *)table + table->length;
    while (p < end) {
        const struct dmar_structure *s = (const struct dmar_structure *)p;
        if ((size_t)(end - p) < sizeof *s || s->length < sizeof *s || s->length > end - p) {
            printk("acpi: DMAR structure at offset %td has bad length, rest of the DMAR ignored\n",
                   p - (const uint8_t *)table);
            out->rejected++;
            break;
        }
        const uint8_t *next = p + s->length;
        switch (s->type) {
        case DMAR_TYPE_DRHD: {
            const struct dmar_drhd *d = (const struct dmar_drhd *)s;
            if (s->length < sizeof *d || out->unit_count == DMAR_MAX_UNITS) {
                printk("acpi: DMAR DRHD %s, skipped\n", s->length < sizeof *d ? "too short" : "beyond the unit limit");
                out->rejected++;
                break;
            }
            struct dmar_unit *u = &out->units[out->unit_count++];
            u->register_base = d->register_base;
            u->segment = d->segment;
            u->include_pci_all = d->flags & DMAR_DRHD_INCLUDE_PCI_ALL;
            u->scope_count = parse_scopes((const uint8_t *)(d + 1), next, u->scopes, &out->rejected);
            break;
        }
        case DMAR_TYPE_RMRR: {
            const struct dmar_rmrr *r = (const struct dmar_rmrr *)s;
            if (s->length < sizeof *r || out->rmrr_count == DMAR_MAX_RMRRS || r->limit < r->base) {
                printk("acpi: DMAR RMRR malformed or beyond the limit, skipped\n");
                out->rejected++;
                break;
            }
            struct dmar_rmrr_region *m = &out->rmrrs[out->rmrr_count++];
            m->base = r->base;
            m->limit = r->limit;
            m->segment = r->segment;
            m->scope_count = parse_scopes((const uint8_t *)(r + 1), next, m->scopes, &out->rejected);
            break;
        }
        case DMAR_TYPE_ATSR:
            out->atsr_count++;
            break;
        default:
            out->other_count++;
            break;
        }
        p = next;
    }
    return true;
}
