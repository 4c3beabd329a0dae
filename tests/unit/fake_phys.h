/*
 * fake_phys.h - a fake physical address space for ACPI unit tests, loaded
 * from the fixtures tools/capture-acpi-fixtures.py captured from QEMU.
 * Its map function refuses any range not wholly inside one loaded table,
 * like the kernel's refuses ranges outside the memory map.
 */
#ifndef WARDEN_TESTS_FAKE_PHYS_H
#define WARDEN_TESTS_FAKE_PHYS_H

#include <stddef.h>
#include <stdint.h>

#define FAKE_PHYS_MAX_REGIONS 16

struct fake_phys {
    unsigned count;
    struct { char signature[5]; uint64_t phys; size_t length; uint8_t *data; } regions[FAKE_PHYS_MAX_REGIONS];
    uint8_t rsdp[36];
    size_t rsdp_length;
};

/* Loads tests/unit/fixtures/<machine>/layout.txt and its tables. */
void fake_phys_load(struct fake_phys *fp, const char *machine);
void fake_phys_free(struct fake_phys *fp);

/* The loaded bytes of a table (to corrupt it in negative tests). */
uint8_t *fake_phys_table(struct fake_phys *fp, const char *signature, size_t *length);

/* acpi_map_fn over fp. */
const void *fake_phys_map(void *fp, uint64_t phys, size_t length);

/* Recomputes an ACPI table's checksum byte after a test edits it. */
void fake_phys_fix_checksum(uint8_t *table, size_t length);

#endif
