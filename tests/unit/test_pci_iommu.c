/*
 * test_pci_iommu.c - the DMAR resolved onto the PCI topology: unit
 * assignment from the captured fixtures' scopes, unresolvable scopes,
 * INCLUDE_PCI_ALL, requester-ID aliases and IOMMU groups.
 */
#include "unit.h"
#include "fake_pci.h"
#include "pci/pci_enum.h"
#include "pci/pci_regs.h"

#include <warden/device.h>

#include <stdlib.h>
#include <string.h>

TEST(pci_units_from_bridge_fixture_scopes)
{
    load_dmar("acpi-q35-iommu-bridge");
    CHECK_EQ(dmar.unit_count, 1);
    fake_q35_bridge();
    enumerate();
    CHECK_EQ(pci_assign_iommu(&topo, &dmar, 0), 0);
    for (unsigned i = 0; i < topo.count; i++)
        CHECK_EQ(topo.functions[i].unit, 0);                /* edu 02:01.0 via the root port's bridge scope */

    fake_add(0, 0x04, 0, 0x1234, 0x11E8, 0x00FF00, 0x00);   /* a device the DMAR does not list */
    enumerate();
    CHECK_EQ(pci_assign_iommu(&topo, &dmar, 0), 0);
    CHECK_EQ(find(0, 4, 0)->unit, PCI_NO_UNIT);
    CHECK_EQ(find(2, 1, 0)->unit, 0);
    CHECK_EQ(pci_assign_iommu(&topo, &dmar, 1), 0);         /* no unit for segment 1 */
    CHECK_EQ(find(0, 0, 0)->unit, PCI_NO_UNIT);
}

TEST(pci_units_from_edu_fixture_scopes)
{
    load_dmar("acpi-q35-iommu");
    fake_q35_edu();
    enumerate();
    CHECK_EQ(pci_assign_iommu(&topo, &dmar, 0), 0);
    CHECK_EQ(topo.count, 7);
    for (unsigned i = 0; i < topo.count; i++) {
        CHECK_EQ(topo.functions[i].unit, 0);
        CHECK(!topo.functions[i].aliased);
        CHECK_EQ(topo.functions[i].group, i);               /* every bus-0 function alone */
    }
    CHECK_EQ(find(0, 3, 0)->requester_id, 0x0018);
    CHECK_EQ(topo.group_count, 7);

    /* The same topology without a DMAR: nothing covered, groups still by requester ID. */
    CHECK_EQ(pci_assign_iommu(&topo, NULL, 0), 0);
    CHECK_EQ(find(0, 3, 0)->unit, PCI_NO_UNIT);
    CHECK_EQ(topo.group_count, 7);
}

TEST(pci_unresolvable_scopes_skipped_and_counted)
{
    fake_q35_bridge();
    enumerate();
    static const uint8_t via_nic[][2] = { { 0x02, 0 }, { 0x00, 0 } };
    static const uint8_t missing[][2] = { { 0x09, 0 } };
    static const uint8_t to_edu[][2] = { { 0x03, 0 }, { 0x00, 0 }, { 0x01, 0 } };
    static const uint8_t to_bridge[][2] = { { 0x03, 0 }, { 0x00, 0 } };
    static const uint8_t ioapic[][2] = { { 0x00, 0 } };
    memset(&dmar, 0, sizeof dmar);
    dmar.unit_count = 1;
    struct dmar_unit *u = &dmar.units[0];
    u->scopes[u->scope_count++] = scope(DMAR_SCOPE_ENDPOINT, 0, 2, via_nic);   /* through a non-bridge */
    u->scopes[u->scope_count++] = scope(DMAR_SCOPE_ENDPOINT, 0, 1, missing);
    u->scopes[u->scope_count++] = scope(DMAR_SCOPE_BRIDGE, 5, 1, missing);     /* a bus nobody has */
    u->scopes[u->scope_count++] = scope(DMAR_SCOPE_ENDPOINT, 0, 0, missing);   /* empty path */
    u->scopes[u->scope_count++] = scope(DMAR_SCOPE_IOAPIC, 0xFF, 1, ioapic);   /* not PCI: ignored */
    u->scopes[u->scope_count++] = scope(DMAR_SCOPE_ENDPOINT, 0, 2, to_bridge);
    CHECK_EQ(pci_assign_iommu(&topo, &dmar, 0), 4);
    CHECK_EQ(find(1, 0, 0)->unit, 0);                       /* an endpoint scope naming a bridge ... */
    CHECK_EQ(find(2, 1, 0)->unit, PCI_NO_UNIT);              /* ... covers only the bridge */
    CHECK_EQ(find(0, 3, 0)->unit, PCI_NO_UNIT);              /* only the path's end is covered */
    CHECK_EQ(find(0, 2, 0)->unit, PCI_NO_UNIT);
    CHECK_EQ(find(0, 0, 0)->unit, PCI_NO_UNIT);              /* the IOAPIC's 00.0 path is not the MCH */

    struct dmar_scope s = scope(DMAR_SCOPE_ENDPOINT, 0, 3, to_edu);
    CHECK_EQ(pci_resolve_scope_endpoint(&topo, &s), pci_find(&topo, 2, 1, 0));
    s.path_length = 2;
    CHECK_EQ(pci_resolve_scope_endpoint(&topo, &s), pci_find(&topo, 1, 0, 0));
    s.path_length = DMAR_MAX_PATH + 1;
    CHECK_EQ(pci_resolve_scope_endpoint(&topo, &s), -1);
    CHECK_EQ(pci_find(&topo, 0, 0x1F, 1), -1);
}

TEST(pci_include_pci_all_and_first_claim_wins)
{
    fake_q35_bridge();
    enumerate();
    static const uint8_t nic[][2] = { { 0x02, 0 } };
    static const uint8_t root_port[][2] = { { 0x03, 0 } };
    static const uint8_t edu[][2] = { { 0x01, 0 } };
    memset(&dmar, 0, sizeof dmar);
    dmar.unit_count = 4;
    dmar.units[0].segment = 1;                              /* another segment: ignored */
    dmar.units[0].include_pci_all = true;
    dmar.units[0].scopes[dmar.units[0].scope_count++] = scope(DMAR_SCOPE_ENDPOINT, 0, 1, nic);
    dmar.units[1].scopes[dmar.units[1].scope_count++] = scope(DMAR_SCOPE_ENDPOINT, 0, 1, nic);
    dmar.units[1].scopes[dmar.units[1].scope_count++] = scope(DMAR_SCOPE_BRIDGE, 0, 1, root_port);
    dmar.units[2].include_pci_all = true;                   /* catches the rest */
    dmar.units[3].scopes[dmar.units[3].scope_count++] = scope(DMAR_SCOPE_ENDPOINT, 2, 1, edu);
    CHECK_EQ(pci_assign_iommu(&topo, &dmar, 0), 0);
    CHECK_EQ(find(0, 2, 0)->unit, 1);
    CHECK_EQ(find(0, 3, 0)->unit, 1);
    CHECK_EQ(find(1, 0, 0)->unit, 1);
    CHECK_EQ(find(2, 1, 0)->unit, 1);                       /* unit 3's later claim loses */
    CHECK_EQ(find(0, 0, 0)->unit, 2);
    CHECK_EQ(find(0, 0x1F, 3)->unit, 2);
    for (unsigned i = 0; i < topo.count; i++)
        CHECK(topo.functions[i].unit != PCI_NO_UNIT);

    dmar.unit_count = 1;
    dmar.units[0].segment = 0;                              /* INCLUDE_PCI_ALL alone covers everything */
    dmar.units[0].scope_count = 0;
    CHECK_EQ(pci_assign_iommu(&topo, &dmar, 0), 0);
    for (unsigned i = 0; i < topo.count; i++)
        CHECK_EQ(topo.functions[i].unit, 0);
}

TEST(pci_requester_ids_and_groups_behind_pcie_to_pci_bridge)
{
    load_dmar("acpi-q35-iommu-bridge");
    fake_q35_bridge();
    fake_edu(2, 0x02, 0xFE700000);                          /* a second device behind the bridge */
    enumerate();
    CHECK_EQ(pci_assign_iommu(&topo, &dmar, 0), 0);
    const struct pci_function *edu = find(2, 1, 0), *edu2 = find(2, 2, 0);
    const struct pci_function *br = find(1, 0, 0), *rp = find(0, 3, 0);
    CHECK_EQ(edu->requester_id, 0x0200);                    /* QEMU measured: SID 0x0200 */
    CHECK(edu->aliased);
    CHECK_EQ(edu2->requester_id, 0x0200);
    CHECK(edu2->aliased);
    CHECK_EQ(edu->group, edu2->group);
    CHECK_EQ(br->requester_id, 0x0100);                     /* the root port passes IDs on */
    CHECK(!br->aliased);
    CHECK(br->group != edu->group);
    CHECK_EQ(rp->requester_id, 0x0018);
    CHECK_EQ(find(0, 0x1F, 2)->requester_id, 0x00FA);
    CHECK(!find(0, 0x1F, 2)->aliased);
    for (unsigned i = 0; i < topo.count; i++) {
        const struct pci_function *f = &topo.functions[i];
        CHECK(f->group < topo.group_count);
        for (unsigned j = 0; j < i; j++) {
            if (f->bus == 0 && topo.functions[j].bus == 0)
                CHECK(f->group != topo.functions[j].group);
        }
    }
    CHECK_EQ(topo.group_count, 9);                          /* 10 functions, the two edus together */
    CHECK_EQ(topo.functions[0].group, 0);
    CHECK_EQ(edu2->group, 5);                               /* dense, in enumeration order */
    CHECK_EQ(find(0, 0x1F, 0)->group, 6);
}

TEST(pci_conventional_pci_bridge_aliases_to_its_own_bdf)
{
    fake_reset();
    fake_add(0, 0, 0, 0x8086, 0x29C0, 0x060000, 0x00);
    fake_root_port(0x03, 1, 3);
    fake_bridge_buses(fake_add(1, 0, 0, 0x8086, 0x244E, 0x060401, 0x01), 2, 2);   /* no PCIe capability */
    fake_edu(2, 0x03, 0xFE600000);
    fake_edu(2, 0x04, 0xFE500000);
    fake_root_port(0x04, 4, 6);
    fake_pcie_pci_bridge(4, 5, 6);
    fake_bridge_buses(fake_add(5, 1, 0, 0x8086, 0x244E, 0x060401, 0x01), 6, 6);
    fake_edu(6, 0x00, 0xFE400000);
    enumerate();
    CHECK_EQ(topo.count, 9);
    memset(&dmar, 0, sizeof dmar);
    dmar.unit_count = 1;
    dmar.units[0].include_pci_all = true;
    CHECK_EQ(pci_assign_iommu(&topo, &dmar, 0), 0);

    const struct pci_function *pci_bridge = find(1, 0, 0), *a = find(2, 3, 0), *b = find(2, 4, 0);
    CHECK_EQ(a->requester_id, 0x0100);
    CHECK(a->aliased);
    CHECK_EQ(b->requester_id, 0x0100);
    CHECK_EQ(pci_bridge->requester_id, 0x0100);
    CHECK(!pci_bridge->aliased);
    CHECK_EQ(a->group, pci_bridge->group);                  /* the bridge shares their ID */
    CHECK_EQ(b->group, pci_bridge->group);

    /* PCIe-to-PCI bridge above a conventional one: the top-most alias wins. */
    const struct pci_function *deep = find(6, 0, 0), *inner = find(5, 1, 0);
    CHECK_EQ(deep->requester_id, 0x0500);
    CHECK(deep->aliased);
    CHECK_EQ(inner->requester_id, 0x0500);
    CHECK(inner->aliased);
    CHECK_EQ(deep->group, inner->group);
    CHECK(deep->group != a->group);
    CHECK_EQ(find(4, 0, 0)->requester_id, 0x0400);
    CHECK_EQ(topo.group_count, 6);                          /* 00.0, rp 03, {01:00.0 + 2}, rp 04, 04:00.0, {05:01.0 + 06:00.0} */

    /* The same requester ID under two units is two groups (different context tables). */
    static const uint8_t path_a[][2] = { { 0x03, 0 }, { 0x00, 0 }, { 0x03, 0 } };
    dmar.unit_count = 2;
    dmar.units[1].scopes[dmar.units[1].scope_count++] = scope(DMAR_SCOPE_ENDPOINT, 0, 3, path_a);
    CHECK_EQ(pci_assign_iommu(&topo, &dmar, 0), 0);
    CHECK_EQ(a->unit, 1);
    CHECK_EQ(b->unit, 0);
    CHECK(a->group != b->group);
    CHECK_EQ(b->group, pci_bridge->group);
    CHECK_EQ(topo.group_count, 7);
}
