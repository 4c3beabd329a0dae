/*
 * platform.h - what the kernel learned about the machine from ACPI at boot:
 * the validated table list and the MADT, MCFG and DMAR summaries.
 */
#ifndef WARDEN_ACPI_PLATFORM_H
#define WARDEN_ACPI_PLATFORM_H

#include <stdbool.h>

#include "acpi/acpi.h"
#include "acpi/dmar.h"
#include "core/multiboot2.h"

struct platform {
    bool acpi_ok;
    struct acpi acpi;
    bool has_madt, has_mcfg, has_dmar;
    struct madt_summary madt;
    struct mcfg_summary mcfg;
    struct dmar_summary dmar;
};

extern struct platform platform;

/* Finds the tables through the RSDP GRUB passed, summarises and logs them.
 * Missing or broken ACPI is reported, not fatal. Needs the direct map. */
void platform_discover(const struct mb2_summary *boot);

#endif
