/*
 * acpi_dump.h - prints the RSDP and every validated ACPI table as hex on
 * the console (flag `acpidump`), so tools/capture-acpi-fixtures.py can turn
 * a real machine's tables into unit-test fixtures.
 */
#ifndef WARDEN_ACPI_ACPI_DUMP_H
#define WARDEN_ACPI_ACPI_DUMP_H

#include <stddef.h>
#include <stdint.h>

#include "acpi/acpi.h"

/* Format, one record per line:
 *   acpidump: table SIG PHYS LENGTH      (SIG "RSDP" for the RSDP copy)
 *   acpidump: data HEX...                (up to 32 bytes per line)
 *   acpidump: end */
void acpi_dump(const struct acpi *acpi, const uint8_t *rsdp, size_t rsdp_length);

#endif
