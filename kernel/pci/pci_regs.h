/*
 * pci_regs.h - PCI configuration space layout (PCI Local Bus 3.0, PCI
 * Express Base chapter 7): header offsets, command and status bits, BAR
 * encodings, capability IDs and the PCIe capability's port types. Offsets
 * are of the aligned dword that holds a field; accessors extract the field.
 */
#ifndef WARDEN_PCI_REGS_H
#define WARDEN_PCI_REGS_H

#include <stdint.h>

/* Common header (types 0 and 1). */
#define PCI_ID                  0x00    /* vendor ID 15:0, device ID 31:16 */
#define PCI_COMMAND_STATUS      0x04    /* command 15:0, status 31:16 */
#define PCI_CLASS_REVISION      0x08    /* revision 7:0, class code 31:8 */
#define PCI_HEADER_DWORD        0x0C    /* header type 23:16 */
#define PCI_BAR0                0x10
#define PCI_BUS_NUMBERS         0x18    /* type 1: primary 7:0, secondary 15:8, subordinate 23:16 */
#define PCI_CAP_POINTER         0x34    /* 7:0 */

#define PCI_HEADER_SIZE         0x40    /* capabilities live at or above this */
#define PCI_CONFIG_SIZE         0x100   /* the conventional (non-extended) config space */

#define PCI_BAR_COUNT_TYPE0     6
#define PCI_BAR_COUNT_TYPE1     2

/* Command register bits. */
#define PCI_COMMAND_IO          (1u << 0)
#define PCI_COMMAND_MEMORY      (1u << 1)
#define PCI_COMMAND_MASTER      (1u << 2)   /* Bus Master Enable */
#define PCI_COMMAND_DECODE      (PCI_COMMAND_IO | PCI_COMMAND_MEMORY)
#define PCI_COMMAND_INTX_DISABLE (1u << 10)
#define PCI_INTERRUPT_DWORD     0x3C    /* line 7:0, pin 15:8 (1 = INTA .. 4 = INTD, 0 none) */

/* MSI capability (offsets from the capability). */
#define PCI_MSI_CONTROL         0x02    /* 16-bit */
#define PCI_MSI_ADDRESS_LO      0x04
#define PCI_MSI_ADDRESS_HI      0x08    /* 64-bit capable only */
#define PCI_MSI_DATA_32         0x08
#define PCI_MSI_DATA_64         0x0C
#define PCI_MSI_ENABLE          (1u << 0)
#define PCI_MSI_64BIT           (1u << 7)
#define PCI_MSI_MME_MASK        (7u << 4)   /* multiple message enable */
static inline unsigned pci_msi_vectors(uint16_t control) { return 1u << ((control >> 1) & 7); }   /* MMC */

/* MSI-X capability and table (offsets from the capability / the entry). */
#define PCI_MSIX_CONTROL        0x02    /* 16-bit: table size - 1 in 10:0 */
#define PCI_MSIX_TABLE          0x04    /* BIR 2:0, offset 31:3 */
#define PCI_MSIX_ENABLE         (1u << 15)
#define PCI_MSIX_FUNCTION_MASK  (1u << 14)
#define PCI_MSIX_ENTRY_BYTES    16
#define PCI_MSIX_ENTRY_ADDRESS_LO 0x0
#define PCI_MSIX_ENTRY_ADDRESS_HI 0x4
#define PCI_MSIX_ENTRY_DATA     0x8
#define PCI_MSIX_ENTRY_CONTROL  0xC     /* bit 0: vector masked */
static inline unsigned pci_msix_entries(uint16_t control) { return (control & 0x7FF) + 1u; }
static inline unsigned pci_msix_bar(uint32_t table) { return table & 7; }
static inline uint32_t pci_msix_offset(uint32_t table) { return table & ~7u; }

/* Status register bits. */
#define PCI_STATUS_CAP_LIST     (1u << 4)

/* Header types (without the multi-function bit). */
#define PCI_HEADER_TYPE_NORMAL  0
#define PCI_HEADER_TYPE_BRIDGE  1
#define PCI_HEADER_MULTI_FUNCTION 0x80

/* BAR encodings. */
#define PCI_BAR_IO              (1u << 0)
#define PCI_BAR_IO_ADDRESS_MASK 0xFFFFFFFCu
#define PCI_BAR_MEM_TYPE_MASK   (3u << 1)
#define PCI_BAR_MEM_TYPE_64     (2u << 1)
#define PCI_BAR_MEM_PREFETCH    (1u << 3)
#define PCI_BAR_MEM_ADDRESS_MASK 0xFFFFFFF0u

/* Capability IDs. */
#define PCI_CAP_ID_MSI          0x05
#define PCI_CAP_ID_PCIE         0x10
#define PCI_CAP_ID_MSIX         0x11

/* PCIe capability: device/port type, bits 7:4 of its flags (cap + 2). */
#define PCIE_TYPE_ENDPOINT      0x0
#define PCIE_TYPE_LEGACY_ENDPOINT 0x1
#define PCIE_TYPE_ROOT_PORT     0x4
#define PCIE_TYPE_UPSTREAM      0x5
#define PCIE_TYPE_DOWNSTREAM    0x6
#define PCIE_TYPE_PCIE_TO_PCI   0x7     /* PCIe-to-PCI/PCI-X bridge: aliases with (secondary, 00.0) */
#define PCIE_TYPE_PCI_TO_PCIE   0x8     /* PCI/PCI-X-to-PCIe bridge: aliases with its own BDF */
#define PCIE_TYPE_RC_ENDPOINT   0x9

/* PCIe capability registers (offsets from the capability). */
#define PCIE_DEVCAP             0x04
#define PCIE_DEVCAP_FLR         (1u << 28)  /* Function Level Reset capable */
#define PCIE_DEVCTL             0x08
#define PCIE_DEVCTL_FLR         (1u << 15)  /* write 1: initiate a Function Level Reset */
#define PCIE_FLR_WAIT_MS        100         /* before the function may be touched again (PCIe §6.6.2) */

/* A vendor ID no function has: reads of absent functions return all ones. */
#define PCI_VENDOR_NONE         0xFFFF

static inline uint16_t pci_id_vendor(uint32_t id) { return (uint16_t)id; }
static inline uint16_t pci_id_device(uint32_t id) { return (uint16_t)(id >> 16); }
static inline uint16_t pci_command(uint32_t command_status) { return (uint16_t)command_status; }
static inline uint16_t pci_status(uint32_t command_status) { return (uint16_t)(command_status >> 16); }
static inline uint8_t pci_revision(uint32_t class_revision) { return (uint8_t)class_revision; }
static inline uint32_t pci_class_code(uint32_t class_revision) { return class_revision >> 8; }
static inline uint8_t pci_header_type_raw(uint32_t header_dword) { return (uint8_t)(header_dword >> 16); }
static inline uint8_t pci_secondary_bus(uint32_t bus_numbers) { return (uint8_t)(bus_numbers >> 8); }
static inline uint8_t pci_subordinate_bus(uint32_t bus_numbers) { return (uint8_t)(bus_numbers >> 16); }

/* A capability header dword: ID 7:0, next pointer 15:8, capability-specific 31:16. */
static inline uint8_t pci_cap_id(uint32_t header) { return (uint8_t)header; }
static inline uint8_t pci_cap_next(uint32_t header) { return (uint8_t)(header >> 8) & 0xFC; }
static inline uint8_t pcie_cap_port_type(uint32_t header) { return (uint8_t)(header >> 20) & 0xF; }

/* A requester ID (source ID) is bus 15:8, device 7:3, function 2:0. */
static inline uint16_t pci_bdf(uint8_t bus, uint8_t dev, uint8_t fn)
{
    return (uint16_t)(bus << 8 | (dev & 0x1F) << 3 | (fn & 0x7));
}

#endif
