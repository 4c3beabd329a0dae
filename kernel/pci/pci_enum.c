/*
 * pci_enum.c - boot-time PCI enumeration and IOMMU bookkeeping (see
 * pci_enum.h). Owns no state: everything lives in the caller's topology.
 *
 * Invariants: every function the scan reaches ends with Bus Master Enable
 * off and its BARs and decode bits as firmware left them; the scan ends on
 * any config space contents (bus numbers rise along every path, each bus is
 * scanned once, capability walks are bounded); a bridge is recorded before
 * everything below it, so parent indices are always smaller than a child's.
 */
#include "pci/pci_enum.h"
#include "pci/pci_regs.h"

#include <warden/device.h>

/* At most this many capabilities fit above the header in 256 bytes. */
#define PCI_MAX_CAPABILITIES ((PCI_CONFIG_SIZE - PCI_HEADER_SIZE) / 4)

struct scan {
    const struct pci_config_access *cfg;
    struct pci_topology *out;
    uint8_t bus_seen[256 / 8];
};

static uint32_t cfg_read(const struct scan *s, uint8_t bus, uint8_t dev, uint8_t fn, uint16_t offset)
{
    return s->cfg->read32(s->cfg->ctx, bus, dev, fn, offset);
}

static void cfg_write(const struct scan *s, uint8_t bus, uint8_t dev, uint8_t fn, uint16_t offset, uint32_t value)
{
    s->cfg->write32(s->cfg->ctx, bus, dev, fn, offset, value);
}

/* Writes the command register; the status half is written as zero, which
 * leaves its write-one-to-clear bits alone. */
static void write_command(const struct scan *s, uint8_t bus, uint8_t dev, uint8_t fn, uint16_t command)
{
    cfg_write(s, bus, dev, fn, PCI_COMMAND_STATUS, command);
}

static bool function_present(uint32_t id)
{
    uint16_t vendor = pci_id_vendor(id);
    return vendor != PCI_VENDOR_NONE && vendor != 0;
}

static void read_capabilities(const struct scan *s, struct pci_function *f, uint16_t status)
{
    if (!(status & PCI_STATUS_CAP_LIST))
        return;
    uint8_t at = (uint8_t)cfg_read(s, f->bus, f->dev, f->fn, PCI_CAP_POINTER) & 0xFC;
    for (unsigned n = 0; n < PCI_MAX_CAPABILITIES && at >= PCI_HEADER_SIZE; n++) {
        uint32_t header = cfg_read(s, f->bus, f->dev, f->fn, at);
        uint8_t id = pci_cap_id(header);
        if (id == PCI_CAP_ID_PCIE && !f->pcie_cap) {
            f->pcie_cap = at;
            f->pcie_port_type = pcie_cap_port_type(header);
        } else if (id == PCI_CAP_ID_MSI && !f->msi_cap) {
            f->msi_cap = at;
        } else if (id == PCI_CAP_ID_MSIX && !f->msix_cap) {
            f->msix_cap = at;
        }
        at = pci_cap_next(header);
    }
}

/* Writes all ones to a BAR dword, returns what reads back, restores it. */
static uint32_t bar_probe(const struct scan *s, const struct pci_function *f, uint16_t offset, uint32_t original)
{
    cfg_write(s, f->bus, f->dev, f->fn, offset, 0xFFFFFFFFu);
    uint32_t mask = cfg_read(s, f->bus, f->dev, f->fn, offset);
    cfg_write(s, f->bus, f->dev, f->fn, offset, original);
    return mask;
}

/* A BAR's size is its lowest writable address bit. */
static uint64_t lowest_set_bit(uint64_t x)
{
    return x & (~x + 1);
}

/* Sizes the BAR in slot i of `slots`; returns the slots it takes (2 for 64-bit). */
static unsigned size_bar(const struct scan *s, struct pci_function *f, unsigned i, unsigned slots)
{
    uint16_t offset = (uint16_t)(PCI_BAR0 + 4 * i);
    uint32_t low = cfg_read(s, f->bus, f->dev, f->fn, offset);
    uint32_t low_mask = bar_probe(s, f, offset, low);
    struct pci_bar *bar = &f->bars[i];

    if (low & PCI_BAR_IO) {
        uint64_t size = lowest_set_bit(low_mask & PCI_BAR_IO_ADDRESS_MASK);
        if (size)
            *bar = (struct pci_bar){ low & PCI_BAR_IO_ADDRESS_MASK, size, WD_BAR_IO };
        return 1;
    }
    uint64_t base = low & PCI_BAR_MEM_ADDRESS_MASK, mask = low_mask & PCI_BAR_MEM_ADDRESS_MASK;
    uint32_t flags = WD_BAR_MMIO | (low & PCI_BAR_MEM_PREFETCH ? WD_BAR_PREFETCH : 0);
    unsigned taken = 1;
    if ((low & PCI_BAR_MEM_TYPE_MASK) == PCI_BAR_MEM_TYPE_64) {
        if (i + 1 >= slots)
            return 1;       /* malformed: no slot left for the high half */
        uint32_t high = cfg_read(s, f->bus, f->dev, f->fn, offset + 4);
        base |= (uint64_t)high << 32;
        mask |= (uint64_t)bar_probe(s, f, offset + 4, high) << 32;
        flags |= WD_BAR_64BIT;
        taken = 2;
    }
    uint64_t size = lowest_set_bit(mask);
    if (size)
        *bar = (struct pci_bar){ base, size, flags };
    return taken;
}

static void size_bars(const struct scan *s, struct pci_function *f)
{
    unsigned slots = f->header_type == PCI_HEADER_TYPE_NORMAL ? PCI_BAR_COUNT_TYPE0
                   : f->header_type == PCI_HEADER_TYPE_BRIDGE ? PCI_BAR_COUNT_TYPE1 : 0;
    for (unsigned i = 0; i < slots;)
        i += size_bar(s, f, i, slots);
}

static void scan_bus(struct scan *s, uint8_t bus, int parent, unsigned depth);

static void scan_function(struct scan *s, uint8_t bus, uint8_t dev, uint8_t fn, uint32_t id,
                          uint8_t header, int parent, unsigned depth)
{
    uint32_t command_status = cfg_read(s, bus, dev, fn, PCI_COMMAND_STATUS);
    uint16_t command = pci_command(command_status);
    uint16_t running = command & (uint16_t)~PCI_COMMAND_MASTER;

    struct pci_topology *out = s->out;
    if (out->count == PCI_MAX_FUNCTIONS) {
        write_command(s, bus, dev, fn, running);      /* quiesced even though not recorded */
        out->truncated = true;
        return;
    }
    /* Bus mastering off first; decode off too while the BARs are sized. */
    write_command(s, bus, dev, fn, running & (uint16_t)~PCI_COMMAND_DECODE);

    int index = (int)out->count++;
    struct pci_function *f = &out->functions[index];
    uint32_t class_revision = cfg_read(s, bus, dev, fn, PCI_CLASS_REVISION);
    *f = (struct pci_function){
        .bus = bus, .dev = dev, .fn = fn,
        .vendor_id = pci_id_vendor(id), .device_id = pci_id_device(id),
        .class_code = pci_class_code(class_revision), .revision = pci_revision(class_revision),
        .header_type = header & (uint8_t)~PCI_HEADER_MULTI_FUNCTION,
        .parent = parent,
        .bus_master_was_on = (command & PCI_COMMAND_MASTER) != 0,
        .requester_id = pci_bdf(bus, dev, fn),
        .unit = PCI_NO_UNIT,
    };
    read_capabilities(s, f, pci_status(command_status));
    size_bars(s, f);
    write_command(s, bus, dev, fn, running);

    if (f->header_type != PCI_HEADER_TYPE_BRIDGE)
        return;
    uint32_t numbers = cfg_read(s, bus, dev, fn, PCI_BUS_NUMBERS);
    f->secondary_bus = pci_secondary_bus(numbers);
    f->subordinate_bus = pci_subordinate_bus(numbers);
    uint8_t below = f->secondary_bus;
    if (below > bus && !(s->bus_seen[below / 8] & (1u << below % 8)) && depth < PCI_MAX_BRIDGE_DEPTH)
        scan_bus(s, below, index, depth + 1);
}

static void scan_bus(struct scan *s, uint8_t bus, int parent, unsigned depth)
{
    s->bus_seen[bus / 8] |= (uint8_t)(1u << bus % 8);
    for (uint8_t dev = 0; dev < 32; dev++) {
        for (uint8_t fn = 0; fn < 8; fn++) {
            uint32_t id = cfg_read(s, bus, dev, fn, PCI_ID);
            if (!function_present(id)) {
                if (fn == 0)
                    break;      /* no function 0: no device */
                continue;
            }
            uint8_t header = pci_header_type_raw(cfg_read(s, bus, dev, fn, PCI_HEADER_DWORD));
            scan_function(s, bus, dev, fn, id, header, parent, depth);
            if (fn == 0 && !(header & PCI_HEADER_MULTI_FUNCTION))
                break;
        }
    }
}

void pci_enumerate(const struct pci_config_access *cfg, struct pci_topology *out)
{
    out->count = 0;
    out->truncated = false;
    out->group_count = 0;
    struct scan s = { .cfg = cfg, .out = out };
    scan_bus(&s, 0, -1, 0);
}

int pci_find(const struct pci_topology *t, uint8_t bus, uint8_t dev, uint8_t fn)
{
    for (unsigned i = 0; i < t->count; i++) {
        const struct pci_function *f = &t->functions[i];
        if (f->bus == bus && f->dev == dev && f->fn == fn)
            return (int)i;
    }
    return -1;
}

int pci_resolve_scope_endpoint(const struct pci_topology *t, const struct dmar_scope *s)
{
    if (s->path_length == 0 || s->path_length > DMAR_MAX_PATH)
        return -1;
    uint8_t bus = s->start_bus;
    for (unsigned hop = 0;; hop++) {
        int at = pci_find(t, bus, s->path[hop].device, s->path[hop].function);
        if (at < 0 || hop + 1 == s->path_length)
            return at;
        if (t->functions[at].header_type != PCI_HEADER_TYPE_BRIDGE)
            return -1;
        bus = t->functions[at].secondary_bus;
    }
}

/* True if function i is `ancestor` or below it (parents precede children,
 * so the walk up ends). */
static bool is_within(const struct pci_topology *t, int i, int ancestor)
{
    for (; i >= ancestor; i = t->functions[i].parent) {
        if (i == ancestor)
            return true;
    }
    return false;
}

/* Gives the scope's function (and for a bridge scope everything below it)
 * to `unit` unless claimed already; false if the scope does not resolve. */
static bool claim_scope(struct pci_topology *t, const struct dmar_scope *s, uint32_t unit)
{
    int at = pci_resolve_scope_endpoint(t, s);
    if (at < 0)
        return false;
    for (int i = at; i < (int)t->count; i++) {
        bool covered = i == at || (s->type == DMAR_SCOPE_BRIDGE && is_within(t, i, at));
        if (covered && t->functions[i].unit == PCI_NO_UNIT)
            t->functions[i].unit = unit;
    }
    return true;
}

static unsigned assign_units(struct pci_topology *t, const struct dmar_summary *dmar, uint16_t segment)
{
    for (unsigned i = 0; i < t->count; i++)
        t->functions[i].unit = PCI_NO_UNIT;
    if (!dmar)
        return 0;
    unsigned units = dmar->unit_count < DMAR_MAX_UNITS ? dmar->unit_count : DMAR_MAX_UNITS;
    unsigned skipped = 0;
    for (unsigned u = 0; u < units; u++) {
        const struct dmar_unit *unit = &dmar->units[u];
        unsigned scopes = unit->scope_count < DMAR_MAX_SCOPES ? unit->scope_count : DMAR_MAX_SCOPES;
        for (unsigned k = 0; unit->segment == segment && k < scopes; k++) {
            const struct dmar_scope *s = &unit->scopes[k];
            if ((s->type == DMAR_SCOPE_ENDPOINT || s->type == DMAR_SCOPE_BRIDGE) && !claim_scope(t, s, u))
                skipped++;
        }
    }
    for (unsigned u = 0; u < units; u++) {
        if (dmar->units[u].segment != segment || !dmar->units[u].include_pci_all)
            continue;
        for (unsigned i = 0; i < t->count; i++) {
            if (t->functions[i].unit == PCI_NO_UNIT)
                t->functions[i].unit = u;
        }
    }
    return skipped;
}

/* Linux's pci_for_each_dma_alias: walking up, a PCIe-to-PCI bridge
 * substitutes (its secondary bus, 00.0), a conventional PCI bridge or a
 * PCI-to-PCIe bridge its own BDF; root and switch ports pass the ID on.
 * The top-most substitution is what the IOMMU sees. */
static void assign_requester_id(struct pci_topology *t, struct pci_function *f)
{
    f->requester_id = pci_bdf(f->bus, f->dev, f->fn);
    f->aliased = false;
    for (int up = f->parent; up >= 0; up = t->functions[up].parent) {
        const struct pci_function *b = &t->functions[up];
        if (b->pcie_cap && b->pcie_port_type == PCIE_TYPE_PCIE_TO_PCI)
            f->requester_id = pci_bdf(b->secondary_bus, 0, 0);
        else if (!b->pcie_cap || b->pcie_port_type == PCIE_TYPE_PCI_TO_PCIE)
            f->requester_id = pci_bdf(b->bus, b->dev, b->fn);
        else
            continue;
        f->aliased = true;
    }
}

static void assign_groups(struct pci_topology *t)
{
    t->group_count = 0;
    for (unsigned i = 0; i < t->count; i++) {
        struct pci_function *f = &t->functions[i];
        f->group = t->group_count;
        for (unsigned j = 0; j < i; j++) {
            const struct pci_function *g = &t->functions[j];
            if (g->unit == f->unit && g->requester_id == f->requester_id) {
                f->group = g->group;
                break;
            }
        }
        if (f->group == t->group_count)
            t->group_count++;
    }
}

unsigned pci_assign_iommu(struct pci_topology *t, const struct dmar_summary *dmar, uint16_t segment)
{
    unsigned skipped = assign_units(t, dmar, segment);
    for (unsigned i = 0; i < t->count; i++)
        assign_requester_id(t, &t->functions[i]);
    assign_groups(t);
    return skipped;
}
