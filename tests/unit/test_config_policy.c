/*
 * test_config_policy.c - host tests of the config-space write mediation
 * rules (kernel/pci/config_policy.c).
 */
#include "unit.h"

#include "pci/config_policy.h"

#include <warden/errors.h>

TEST(config_policy_endpoint_registers)
{
    struct pci_function edu = { .header_type = 0, .msi_cap = 0x40 };
    unsigned msi = pci_msi_capability_bytes(0x0080);        /* 64-bit address, no masking */
    CHECK_EQ(msi, 14);
    CHECK_EQ(pci_msi_capability_bytes(0x0000), 10);
    CHECK_EQ(pci_msi_capability_bytes(0x0180), 24);
    CHECK_EQ(pci_config_write_check(&edu, msi, 0x04, 2), 0);               /* command */
    CHECK_EQ(pci_config_write_check(&edu, msi, 0x06, 2), 0);               /* status (W1C) */
    CHECK_EQ(pci_config_write_check(&edu, msi, 0x0C, 1), 0);               /* cache line size */
    CHECK_EQ(pci_config_write_check(&edu, msi, 0x3C, 1), 0);               /* interrupt line */
    for (unsigned off = 0x10; off < 0x28; off++)
        CHECK_EQ(pci_config_write_check(&edu, msi, off, 1), -WD_E_PROTECTED);
    CHECK_EQ(pci_config_write_check(&edu, msi, 0x0C, 4), 0);
    CHECK_EQ(pci_config_write_check(&edu, msi, 0x28, 4), 0);               /* CardBus CIS: not a BAR */
    CHECK_EQ(pci_config_write_check(&edu, msi, 0x30, 4), -WD_E_PROTECTED); /* ROM */
    CHECK_EQ(pci_config_write_check(&edu, msi, 0x33, 1), -WD_E_PROTECTED);
    CHECK_EQ(pci_config_write_check(&edu, msi, 0x3F, 1), 0);
    CHECK_EQ(pci_config_write_check(&edu, msi, 0x40, 1), -WD_E_PROTECTED); /* MSI capability */
    CHECK_EQ(pci_config_write_check(&edu, msi, 0x4C, 2), -WD_E_PROTECTED); /* MSI data (64-bit layout) */
    CHECK_EQ(pci_config_write_check(&edu, msi, 0x4E, 2), 0);               /* just past it */
    CHECK_EQ(pci_config_write_check(&edu, msi, 0x3E, 4), -WD_E_PROTECTED); /* straddles into it */
}

TEST(config_policy_msix_and_bridges)
{
    struct pci_function nic = { .header_type = 0, .msix_cap = 0x70 };
    CHECK_EQ(pci_config_write_check(&nic, 0, 0x70, 4), -WD_E_PROTECTED);
    CHECK_EQ(pci_config_write_check(&nic, 0, 0x78, 4), -WD_E_PROTECTED);   /* PBA offset */
    CHECK_EQ(pci_config_write_check(&nic, 0, 0x7C, 4), 0);
    CHECK_EQ(pci_config_write_check(&nic, 0, 0x40, 4), 0);                 /* no MSI capability */
    struct pci_function bridge = { .header_type = 1 };
    CHECK_EQ(pci_config_write_check(&bridge, 0, 0x04, 2), 0);
    CHECK_EQ(pci_config_write_check(&bridge, 0, 0x04, 4), 0);
    CHECK_EQ(pci_config_write_check(&bridge, 0, 0x00, 4), -WD_E_PROTECTED);
    CHECK_EQ(pci_config_write_check(&bridge, 0, 0x18, 4), -WD_E_PROTECTED); /* bus numbers */
    CHECK_EQ(pci_config_write_check(&bridge, 0, 0x20, 4), -WD_E_PROTECTED); /* memory window */
    CHECK_EQ(pci_config_write_check(&bridge, 0, 0x3E, 2), -WD_E_PROTECTED); /* bridge control */
}

TEST(config_policy_chipset_bridges)
{
    /* Header type 0, but bridges: q35's host bridge and ICH9's ISA (LPC) bridge. */
    struct pci_function host = { .header_type = 0, .class_code = 0x060000 };
    struct pci_function isa = { .header_type = 0, .class_code = 0x060100 };
    struct pci_function other = { .header_type = 0, .class_code = 0x068000 };
    CHECK_EQ(pci_config_write_check(&host, 0, 0x04, 2), 0);                /* command */
    CHECK_EQ(pci_config_write_check(&host, 0, 0x60, 4), -WD_E_PROTECTED);  /* PCIEXBAR */
    CHECK_EQ(pci_config_write_check(&host, 0, 0x90, 1), -WD_E_PROTECTED);  /* PAM0 */
    CHECK_EQ(pci_config_write_check(&isa, 0, 0x04, 4), 0);
    CHECK_EQ(pci_config_write_check(&isa, 0, 0x40, 4), -WD_E_PROTECTED);   /* PMBASE */
    CHECK_EQ(pci_config_write_check(&isa, 0, 0x60, 1), -WD_E_PROTECTED);   /* PIRQA routing */
    CHECK_EQ(pci_config_write_check(&isa, 0, 0xF0, 4), -WD_E_PROTECTED);   /* RCBA */
    CHECK_EQ(pci_config_write_check(&other, 0, 0x0C, 1), -WD_E_PROTECTED);
    struct pci_function storage = { .header_type = 0, .class_code = 0x010601 };
    CHECK_EQ(pci_config_write_check(&storage, 0, 0x40, 4), 0);             /* not a bridge: the driver's */
}
