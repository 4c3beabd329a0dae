/*
 * acpi_tables.h - wire layouts of the ACPI structures the kernel reads
 * (ACPI 6.x: RSDP 5.2.5, SDT header 5.2.6, MADT 5.2.12, and PCI
 * Firmware spec MCFG). Packed, so any byte offset may be cast to them.
 * The DMAR has its own header, dmar_tables.h.
 */
#ifndef WARDEN_ACPI_TABLES_H
#define WARDEN_ACPI_TABLES_H

#include <stdint.h>

struct __attribute__((packed)) acpi_rsdp {
    char signature[8];              /* "RSD PTR " */
    uint8_t checksum;               /* covers the first 20 bytes */
    char oem_id[6];
    uint8_t revision;               /* 0: ACPI 1.0 (RSDT only); 2+: XSDT fields valid */
    uint32_t rsdt_address;
    uint32_t length;                /* revision 2+: whole structure */
    uint64_t xsdt_address;
    uint8_t extended_checksum;      /* covers `length` bytes */
    uint8_t reserved[3];
};
#define ACPI_RSDP_V1_LENGTH 20
#define ACPI_RSDP_V2_LENGTH 36

struct __attribute__((packed)) acpi_sdt_header {
    char signature[4];
    uint32_t length;                /* including this header */
    uint8_t revision;
    uint8_t checksum;               /* all `length` bytes sum to 0 */
    char oem_id[6];
    char oem_table_id[8];
    uint32_t oem_revision;
    uint32_t creator_id;
    uint32_t creator_revision;
};

/* MADT ("APIC"). */
struct __attribute__((packed)) acpi_madt {
    struct acpi_sdt_header header;
    uint32_t lapic_address;
    uint32_t flags;                 /* bit 0: PC-AT compatible 8259s present */
    /* entries follow */
};

struct __attribute__((packed)) acpi_madt_entry {
    uint8_t type;
    uint8_t length;
};

enum acpi_madt_type {
    MADT_LOCAL_APIC = 0,
    MADT_IO_APIC = 1,
    MADT_INTERRUPT_OVERRIDE = 2,
    MADT_LOCAL_APIC_NMI = 4,
    MADT_LOCAL_APIC_ADDRESS = 5,
    MADT_LOCAL_X2APIC = 9,
};

struct __attribute__((packed)) acpi_madt_local_apic {
    struct acpi_madt_entry entry;
    uint8_t processor_uid;
    uint8_t apic_id;
    uint32_t flags;                 /* bit 0 enabled, bit 1 online capable */
};

struct __attribute__((packed)) acpi_madt_io_apic {
    struct acpi_madt_entry entry;
    uint8_t io_apic_id;
    uint8_t reserved;
    uint32_t address;
    uint32_t gsi_base;
};

struct __attribute__((packed)) acpi_madt_interrupt_override {
    struct acpi_madt_entry entry;
    uint8_t bus;                    /* 0: ISA */
    uint8_t source;                 /* ISA IRQ */
    uint32_t gsi;
    uint16_t flags;                 /* polarity bits 1:0, trigger mode bits 3:2 */
};

struct __attribute__((packed)) acpi_madt_local_apic_address {
    struct acpi_madt_entry entry;
    uint16_t reserved;
    uint64_t address;
};

struct __attribute__((packed)) acpi_madt_local_x2apic {
    struct acpi_madt_entry entry;
    uint16_t reserved;
    uint32_t x2apic_id;
    uint32_t flags;
    uint32_t processor_uid;
};

#define MADT_LAPIC_ENABLED (1u << 0)
#define MADT_LAPIC_ONLINE_CAPABLE (1u << 1)

/* MCFG. */
struct __attribute__((packed)) acpi_mcfg {
    struct acpi_sdt_header header;
    uint8_t reserved[8];
    /* allocations follow */
};

struct __attribute__((packed)) acpi_mcfg_allocation {
    uint64_t base_address;          /* ECAM base for bus 0 of this segment */
    uint16_t segment;
    uint8_t start_bus;
    uint8_t end_bus;
    uint32_t reserved;
};

#endif
