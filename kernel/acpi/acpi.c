/*
 * acpi.c - RSDP, RSDT/XSDT and table validation. See acpi.h.
 */
#include "acpi/acpi.h"
#include "core/printk.h"

#include <string.h>

uint8_t acpi_checksum(const void *data, size_t length)
{
    const uint8_t *p = data;
    uint8_t sum = 0;
    for (size_t i = 0; i < length; i++)
        sum += p[i];
    return sum;
}

static bool rsdp_valid(const struct acpi_rsdp *rsdp, size_t length)
{
    if (length < ACPI_RSDP_V1_LENGTH || memcmp(rsdp->signature, "RSD PTR ", 8) != 0) {
        printk("acpi: RSDP missing or without its signature\n");
        return false;
    }
    if (acpi_checksum(rsdp, ACPI_RSDP_V1_LENGTH) != 0) {
        printk("acpi: RSDP checksum is wrong\n");
        return false;
    }
    return true;
}

/* rsdp is a parsed copy; bytes/length are what the caller gave, and the
 * extended checksum covers rsdp->length of those bytes. */
static bool rsdp_v2_valid(const struct acpi_rsdp *rsdp, const void *bytes, size_t length)
{
    if (rsdp->revision < 2)
        return false;
    if (length < ACPI_RSDP_V2_LENGTH || rsdp->length < ACPI_RSDP_V2_LENGTH || rsdp->length > length) {
        printk("acpi: RSDP revision %u but its extended part is missing; using the RSDT\n", rsdp->revision);
        return false;
    }
    if (acpi_checksum(bytes, rsdp->length) != 0) {
        printk("acpi: RSDP extended checksum is wrong; using the RSDT\n");
        return false;
    }
    return true;
}

/* Maps and validates the table at phys; NULL (with a message) if bad. */
static const struct acpi_sdt_header *map_table(struct acpi *acpi, uint64_t phys, const char *expect)
{
    const struct acpi_sdt_header *h = acpi->map(acpi->map_ctx, phys, sizeof *h);
    if (!h) {
        printk("acpi: table at 0x%llx is outside readable memory, skipped\n", (unsigned long long)phys);
        return NULL;
    }
    char sig[5];
    memcpy(sig, h->signature, 4);
    sig[4] = '\0';
    for (int i = 0; i < 4; i++)
        if (sig[i] < 0x20 || sig[i] > 0x7E)
            sig[i] = '?';
    if (expect && memcmp(h->signature, expect, 4) != 0) {
        printk("acpi: expected %s at 0x%llx but found \"%s\", skipped\n", expect,
               (unsigned long long)phys, sig);
        return NULL;
    }
    uint32_t length = h->length;
    if (length < sizeof *h) {
        printk("acpi: %s at 0x%llx has impossible length %u, skipped\n", sig,
               (unsigned long long)phys, length);
        return NULL;
    }
    h = acpi->map(acpi->map_ctx, phys, length);
    if (!h) {
        printk("acpi: %s at 0x%llx claims %u bytes, past readable memory, skipped\n", sig,
               (unsigned long long)phys, length);
        return NULL;
    }
    if (acpi_checksum(h, length) != 0) {
        printk("acpi: %s at 0x%llx has a bad checksum, skipped\n", sig, (unsigned long long)phys);
        return NULL;
    }
    return h;
}

static void add_table(struct acpi *acpi, uint64_t phys)
{
    const struct acpi_sdt_header *h = map_table(acpi, phys, NULL);
    if (!h) {
        acpi->tables_rejected++;
        return;
    }
    if (acpi->table_count == ACPI_MAX_TABLES) {
        printk("acpi: more than %d tables, the rest ignored\n", ACPI_MAX_TABLES);
        return;
    }
    struct acpi_table *t = &acpi->tables[acpi->table_count++];
    memcpy(t->signature, h->signature, 4);
    t->signature[4] = '\0';
    t->phys = phys;
    t->header = h;
}

int acpi_init(struct acpi *acpi, const void *rsdp_bytes, size_t rsdp_length, acpi_map_fn map, void *ctx)
{
    memset(acpi, 0, sizeof *acpi);
    acpi->map = map;
    acpi->map_ctx = ctx;
    if (!rsdp_bytes)
        return ACPI_ERR_NO_RSDP;
    struct acpi_rsdp rsdp = { 0 };
    memcpy(&rsdp, rsdp_bytes, rsdp_length < sizeof rsdp ? rsdp_length : sizeof rsdp);
    if (!rsdp_valid(&rsdp, rsdp_length))
        return ACPI_ERR_NO_RSDP;
    acpi->rsdp_revision = rsdp.revision;
    memcpy(acpi->oem_id, rsdp.oem_id, 6);

    /* Prefer the XSDT (64-bit pointers); fall back to the RSDT. */
    const struct acpi_sdt_header *root = NULL;
    if (rsdp_v2_valid(&rsdp, rsdp_bytes, rsdp_length) && rsdp.xsdt_address) {
        root = map_table(acpi, rsdp.xsdt_address, "XSDT");
        if (root) {
            acpi->root_is_xsdt = true;
            acpi->root_phys = rsdp.xsdt_address;
        }
    }
    if (!root && rsdp.rsdt_address) {
        root = map_table(acpi, rsdp.rsdt_address, "RSDT");
        acpi->root_phys = rsdp.rsdt_address;
    }
    if (!root)
        return ACPI_ERR_BAD_ROOT;

    size_t entry_size = acpi->root_is_xsdt ? 8 : 4;
    size_t count = (root->length - sizeof *root) / entry_size;
    const uint8_t *entries = (const uint8_t *)(root + 1);
    for (size_t i = 0; i < count; i++) {
        uint64_t phys = 0;
        memcpy(&phys, entries + i * entry_size, entry_size);
        add_table(acpi, phys);
    }
    return ACPI_OK;
}

const struct acpi_sdt_header *acpi_find(const struct acpi *acpi, const char signature[4], unsigned instance)
{
    for (unsigned i = 0; i < acpi->table_count; i++)
        if (memcmp(acpi->tables[i].signature, signature, 4) == 0 && instance-- == 0)
            return acpi->tables[i].header;
    return NULL;
}
