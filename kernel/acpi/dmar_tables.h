/*
 * dmar_tables.h - wire layout of the ACPI DMAR table (Intel VT-d spec,
 * chapter 8): the header, remapping structures (DRHD, RMRR, ATSR, ...)
 * and device scope entries. Packed, so any byte offset may be cast.
 */
#ifndef WARDEN_ACPI_DMAR_TABLES_H
#define WARDEN_ACPI_DMAR_TABLES_H

#include <stdint.h>

#include "acpi/acpi_tables.h"

struct __attribute__((packed)) acpi_dmar {
    struct acpi_sdt_header header;
    uint8_t host_address_width;     /* N means N+1 address bits */
    uint8_t flags;
    uint8_t reserved[10];
    /* remapping structures follow */
};

#define DMAR_FLAG_INTR_REMAP (1u << 0)
#define DMAR_FLAG_X2APIC_OPT_OUT (1u << 1)
#define DMAR_FLAG_DMA_CTRL_PLATFORM_OPT_IN (1u << 2)

enum dmar_structure_type {
    DMAR_TYPE_DRHD = 0,     /* DMA remapping hardware unit */
    DMAR_TYPE_RMRR = 1,     /* reserved memory region */
    DMAR_TYPE_ATSR = 2,     /* root port ATS capability */
    DMAR_TYPE_RHSA = 3,
    DMAR_TYPE_ANDD = 4,
    DMAR_TYPE_SATC = 5,
};

struct __attribute__((packed)) dmar_structure {
    uint16_t type;
    uint16_t length;
};

struct __attribute__((packed)) dmar_drhd {
    struct dmar_structure s;
    uint8_t flags;                  /* bit 0: INCLUDE_PCI_ALL */
    uint8_t size;                   /* register set size, 2^size pages (rev 3+) */
    uint16_t segment;
    uint64_t register_base;
    /* device scopes follow */
};
#define DMAR_DRHD_INCLUDE_PCI_ALL (1u << 0)

struct __attribute__((packed)) dmar_rmrr {
    struct dmar_structure s;
    uint16_t reserved;
    uint16_t segment;
    uint64_t base;
    uint64_t limit;                 /* inclusive */
    /* device scopes follow */
};

struct __attribute__((packed)) dmar_atsr {
    struct dmar_structure s;
    uint8_t flags;                  /* bit 0: ALL_PORTS */
    uint8_t reserved;
    uint16_t segment;
    /* device scopes follow */
};

struct __attribute__((packed)) dmar_device_scope {
    uint8_t type;
    uint8_t length;
    uint16_t reserved;
    uint8_t enumeration_id;         /* IOAPIC / HPET id */
    uint8_t start_bus;
    /* (device, function) path pairs follow */
};

enum dmar_scope_type {
    DMAR_SCOPE_ENDPOINT = 1,
    DMAR_SCOPE_BRIDGE = 2,          /* the bridge and everything below it */
    DMAR_SCOPE_IOAPIC = 3,
    DMAR_SCOPE_HPET = 4,
    DMAR_SCOPE_ACPI_NAMESPACE = 5,
};

#endif
