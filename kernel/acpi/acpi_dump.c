/*
 * acpi_dump.c - hex dump of the ACPI tables (see acpi_dump.h). The root
 * table (RSDT/XSDT) is dumped too, since it is not in the table list.
 */
#include "acpi/acpi_dump.h"
#include "core/printk.h"

#define BYTES_PER_LINE 32

static void dump_bytes(const char *signature, uint64_t phys, const uint8_t *bytes, size_t length)
{
    printk("acpidump: table %.4s 0x%llx %zu\n", signature, (unsigned long long)phys, length);
    for (size_t i = 0; i < length; i += BYTES_PER_LINE) {
        printk("acpidump: data ");
        for (size_t k = i; k < length && k < i + BYTES_PER_LINE; k++)
            printk("%02x", bytes[k]);
        printk("\n");
    }
}

void acpi_dump(const struct acpi *acpi, const uint8_t *rsdp, size_t rsdp_length)
{
    if (rsdp_length)
        dump_bytes("RSDP", 0, rsdp, rsdp_length);
    if (acpi->root_phys) {
        const struct acpi_sdt_header *root = acpi->map(acpi->map_ctx, acpi->root_phys, sizeof *root);
        if (root && (root = acpi->map(acpi->map_ctx, acpi->root_phys, root->length)))
            dump_bytes(root->signature, acpi->root_phys, (const uint8_t *)root, root->length);
    }
    for (unsigned i = 0; i < acpi->table_count; i++) {
        const struct acpi_table *t = &acpi->tables[i];
        dump_bytes(t->signature, t->phys, (const uint8_t *)t->header, t->header->length);
    }
    printk("acpidump: end\n");
}
