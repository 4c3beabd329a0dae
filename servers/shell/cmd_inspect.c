/*
 * cmd_inspect.c - the commands that show what the kernel holds, all
 * through the inspector capability (warden/inspect.h) and the kernel's
 * public counters: ps, caps, devices, iommu, domains, dma, faults, irqs,
 * mem, stats.
 */
#include <stdio.h>
#include <string.h>
#include <warden/supervisor.h>
#include <warden/syscalls.h>

#include "shell.h"

/* Restarts of the supervised service whose current incarnation is pid (-1: not supervised). */
static long restarts_of(uint64_t pid)
{
    char name[WD_NAME_MAX + 1];
    for (long i = 0; (i = wd_supervise_list(shell_registry, (unsigned)i, name)) > 0;) {
        struct wd_service_status st;
        if (wd_supervise_status(shell_registry, name, &st) == 0 && st.pid == pid)
            return (long)(st.generation - 1);
    }
    return -1;
}

static void run_ps(int argc, char **argv)
{
    (void)argc, (void)argv;
    printf("%-5s  %-10s  %-7s  %-10s  %-4s  %-18s  %-5s  %-9s  %s\n", "PID", "NAME", "STATE", "CPU(kTSC)", "THR",
           "POOL USED/BUDGET", "CAPS", "SYSCALLS", "RESTARTS");
    struct wd_inspect_process p;
    for (uint64_t i = 0; inspect_record(WD_INSPECT_PROCESS, 0, i, &p, sizeof p, &i) == 0;) {
        char pool[24], restarts[8];
        snprintf(pool, sizeof pool, "%lluK/%lluK", (unsigned long long)(p.pool_used >> 10),
                 (unsigned long long)(p.pool_budget >> 10));
        long n = p.dead ? -1 : restarts_of(p.pid);
        if (n < 0)
            strcpy(restarts, "-");
        else
            snprintf(restarts, sizeof restarts, "%ld", n);
        printf("%-5llu  %-10.15s  %-7s  %-10llu  %-4llu  %-18s  %-5llu  %-9llu  %s\n", (unsigned long long)p.pid,
               p.name[0] ? p.name : "?", p.dead ? "dead" : "running", (unsigned long long)(p.cpu_tsc / 1000),
               (unsigned long long)p.live_threads, pool, (unsigned long long)p.caps,
               (unsigned long long)p.syscalls, restarts);
    }
}

static const char *type_text(uint32_t type)
{
    static const char *const names[] = { "none", "process", "thread", "endpoint", "pool", "frame", "device",
                                         "dmaspace", "devroot", "irq", "notify", "console", "inspector" };
    return type < sizeof names / sizeof names[0] ? names[type] : "?";
}

static void run_caps(int argc, char **argv)
{
    (void)argc;
    uint64_t pid = resolve_pid(argv[1]);
    struct wd_inspect_cap c;
    long r = pid ? inspect_record(WD_INSPECT_CAP, pid, 0, &c, sizeof c, NULL) : -WD_E_NOT_FOUND;
    if (r < 0) {
        shell_error("no live process '%s'", argv[1]);
        return;
    }
    char name[WD_INSPECT_NAME_MAX];
    process_name(pid, name);
    printf("capabilities of process %llu (%s):\n", (unsigned long long)pid, name);
    printf("%-5s  %-9s  %-10s  %-8s  %-10s  %-8s  %s\n", "SLOT", "HANDLE", "TYPE", "RIGHTS", "BADGE", "OBJECT",
           "FLAGS / FROM");
    for (uint64_t i = 1; inspect_record(WD_INSPECT_CAP, pid, i, &c, sizeof c, &i) == 0;) {
        char rights[12], from[24] = "";
        if (c.parent_pid && c.parent_pid != pid)
            snprintf(from, sizeof from, " from %llu", (unsigned long long)c.parent_pid);
        printf("%-5llu  0x%-7llx  %-10s  %-8s  0x%-8llx  %-8llu  %s%s%s%s%s\n", (unsigned long long)c.slot,
               (unsigned long long)c.handle, type_text(c.type), rights_text(c.rights, rights),
               (unsigned long long)c.badge, (unsigned long long)c.object_id,
               (c.flags & WD_CAP_LEASE) ? "lease " : "", (c.flags & WD_CAP_WATCHED) ? "watched " : "",
               (c.flags & WD_CAP_DEAD) ? "dead " : "", (c.flags & WD_CAP_CLOSED) ? "closed " : "", from);
    }
}

static void run_devices(int argc, char **argv)
{
    (void)argc, (void)argv;
    printf("%-8s  %-9s  %-6s  %-5s  %-5s  %-6s  %-16s  %s\n", "ADDRESS", "ID", "CLASS", "GROUP", "RID", "DOMAIN",
           "OWNER", "FAULTS/FLAGS");
    struct wd_device_info d;
    for (uint64_t i = 0; inspect_record(WD_INSPECT_DEVICE, 0, i, &d, sizeof d, &i) == 0;) {
        char address[12], owner[32] = "-", domain[8] = "-";
        if (d.owner_pid)
            owner_text(d.owner_pid, owner, sizeof owner);
        if (d.domain_id)
            snprintf(domain, sizeof domain, "%u", d.domain_id);
        printf("%-8s  %04x:%04x  %06x  %-5u  %04x   %-6s  %-16.16s  %llu%s%s%s\n", pci_text(d.address, address),
               d.vendor_id, d.device_id, d.class_code, d.group, d.requester_id, domain, owner,
               (unsigned long long)d.fault_count, (d.flags & WD_DEVICE_BRIDGE) ? " bridge" : "",
               (d.flags & WD_DEVICE_TRANSLATED) ? "" : " untranslated",
               (d.flags & WD_DEVICE_QUIESCED) ? " quiesced" : "");
    }
}

static void run_iommu(int argc, char **argv)
{
    (void)argc, (void)argv;
    struct wd_iommu_info u;
    for (uint64_t i = 0; wd_iommu_info(i, &u) == 0; i++) {
        printf("unit %llu at 0x%llx, VT-d %u.%u, %u-bit IOVAs (%u levels), %s invalidation%s\n",
               (unsigned long long)i, (unsigned long long)u.register_base, (u.version >> 4) & 0xF, u.version & 0xF,
               u.address_width, u.levels, u.queued_invalidation ? "queued" : "register", u.caching_mode ?
               ", caching mode" : "");
        printf("  status 0x%08x:%s%s%s%s\n", u.status, (u.status & (1u << 31)) ? " translation-on" : " translation-OFF",
               (u.status & (1u << 30)) ? " root-table-set" : "", (u.status & (1u << 26)) ? " queued-inv-on" : "",
               (u.status & (1u << 25)) ? " interrupt-remapping-on" : " interrupt-remapping-off");
        printf("  invalidations %llu, waits %llu, faults %llu, domains %llu\n", (unsigned long long)u.invalidations,
               (unsigned long long)u.waits, (unsigned long long)u.faults, (unsigned long long)u.domains);
    }
}

static void run_domains(int argc, char **argv)
{
    (void)argc, (void)argv;
    printf("%-6s  %-7s  %-4s  %-16s  %-8s  %-8s  %-10s  %-8s\n", "DOMAIN", "OBJECT", "UNIT", "OWNER", "DEVICE", "MAPPINGS",
           "BYTES", "TABLES");
    struct wd_inspect_domain d;
    for (uint64_t i = 0; inspect_record(WD_INSPECT_DOMAIN, 0, i, &d, sizeof d, &i) == 0;) {
        char owner[32] = "-", device[12];
        if (d.owner_pid)
            owner_text(d.owner_pid, owner, sizeof owner);
        printf("%-6u  %-7llu  %-4u  %-16.16s  %-8s  %-8llu  %-10llu  %-8llu\n", d.domain_id, (unsigned long long)d.object_id,
               d.unit, owner, pci_text(d.first_device, device), (unsigned long long)d.mappings,
               (unsigned long long)d.mapped_bytes, (unsigned long long)d.table_bytes);
    }
}

static const char *size_text(uint64_t bytes, char out[16])
{
    if (bytes >= (1ull << 20) && !(bytes & ((1ull << 20) - 1)))
        snprintf(out, 16, "%lluM", (unsigned long long)(bytes >> 20));
    else if (bytes >= 1024 && !(bytes & 1023))
        snprintf(out, 16, "%lluK", (unsigned long long)(bytes >> 10));
    else
        snprintf(out, 16, "%llu", (unsigned long long)bytes);
    return out;
}

static void run_dma(int argc, char **argv)
{
    (void)argc;
    uint64_t pid = resolve_pid(argv[1]);
    if (!pid) {
        shell_error("no process or driver '%s'", argv[1]);
        return;
    }
    char name[WD_INSPECT_NAME_MAX];
    process_name(pid, name);
    unsigned domains = 0;
    struct wd_inspect_domain d;
    for (uint64_t i = 0; inspect_record(WD_INSPECT_DOMAIN, 0, i, &d, sizeof d, &i) == 0;) {
        if (d.owner_pid != pid)
            continue;
        char device[12];
        domains++;
        printf("process %llu (%s), domain %u (device %s): %llu mapping(s)\n", (unsigned long long)pid, name,
               d.domain_id, pci_text(d.first_device, device), (unsigned long long)d.mappings);
        printf("  %-12s  %-6s  %-5s  %-6s  %-7s  %s\n", "IOVA", "SIZE", "PAGE", "DEVICE", "FRAME", "FROM");
        struct wd_inspect_mapping m;
        for (uint64_t j = 0; inspect_record(WD_INSPECT_MAPPING, d.object_id, j, &m, sizeof m, &j) == 0;) {
            char size[16], page[16], from[40] = "its own memory";
            if (m.flags & WD_MAPPING_LEASE) {
                char grantor[WD_INSPECT_NAME_MAX];
                process_name(m.grantor_pid, grantor);
                snprintf(from, sizeof from, "lease granted by %llu %s%s", (unsigned long long)m.grantor_pid,
                         grantor, (m.flags & WD_MAPPING_CLEARED) ? " (ended)" : "");
            }
            printf("  0x%-10llx %6s %5s %-6s %-7llu %s\n", (unsigned long long)m.iova, size_text(m.length, size),
                   m.page_size ? size_text(m.page_size, page) : "none",
                   (m.rights & WD_RIGHT_WRITE) ? ((m.rights & WD_RIGHT_READ) ? "rw" : "w") : "r",
                   (unsigned long long)m.frame_id, from);
        }
    }
    if (!domains)
        printf("process %llu (%s) owns no IOMMU domain\n", (unsigned long long)pid, name);
}

static void run_faults(int argc, char **argv)
{
    (void)argc, (void)argv;
    printf("%-4s  %-9s  %-8s  %-12s  %-5s  %-6s  %-14s  %s\n", "SEQ", "TIME(ms)", "SOURCE", "IOVA", "DIR", "REASON",
           "OWNER", "ACTION");
    struct wd_inspect_fault f;
    unsigned shown = 0;
    for (uint64_t i = 0; inspect_record(WD_INSPECT_FAULT, 0, i, &f, sizeof f, &i) == 0; shown++) {
        char source[12], owner[24] = "none";
        if (f.owner_pid)
            owner_text(f.owner_pid, owner, sizeof owner);
        printf("%-4llu  %-9llu  %-8s  0x%-10llx  %-5s  0x%-4x  %-14.14s  %s%s%s%s%s\n", (unsigned long long)f.sequence,
               (unsigned long long)(f.time_ns / 1000000), pci_text(f.source_id, source), (unsigned long long)f.iova,
               f.write ? "write" : "read", f.reason, owner, "blocked",
               (f.action & WD_FAULT_ACTION_REPORTED) ? ", told supervisor" : "",
               (f.action & WD_FAULT_ACTION_DRIVER) ? ", told driver" : "",
               (f.action & WD_FAULT_ACTION_QUIESCED) ? ", quiesced" : "",
               (f.action & WD_FAULT_ACTION_REVOKED) ? ", revoked lease (expected)" : "");
    }
    if (!shown)
        printf("(no DMA faults since boot)\n");
}

static void irq_source_text(const struct wd_inspect_irq *q, char out[24])
{
    char address[12];
    unsigned n = (unsigned)WD_IRQ_NUMBER(q->index);
    switch (WD_IRQ_KIND(q->index)) {
    case WD_IRQ_KIND_MSI: snprintf(out, 24, "%s MSI %u", pci_text(q->device, address), n); break;
    case WD_IRQ_KIND_MSIX: snprintf(out, 24, "%s MSI-X %u", pci_text(q->device, address), n); break;
    case WD_IRQ_KIND_INTX: snprintf(out, 24, "%s INTx", pci_text(q->device, address)); break;
    default: snprintf(out, 24, "ISA %u", n); break;
    }
}

static void run_irqs(int argc, char **argv)
{
    (void)argc, (void)argv;
    printf("%-18s  %-6s  %-4s  %-4s  %-16s  %-9s  %-9s  %s\n", "SOURCE", "VECTOR", "GSI", "IRTE", "OWNER", "ENDPOINT",
           "COUNT", "PENDING");
    struct wd_inspect_irq q;
    for (uint64_t i = 0; inspect_record(WD_INSPECT_IRQ, 0, i, &q, sizeof q, &i) == 0;) {
        char source[24], gsi[8] = "-", irte[8] = "-", owner[24] = "kernel", endpoint[12] = "-";
        irq_source_text(&q, source);
        if (q.gsi != ~0u)
            snprintf(gsi, sizeof gsi, "%u", q.gsi);
        if (q.irte_index != ~0u)
            snprintf(irte, sizeof irte, "%u", q.irte_index);
        if (q.owner_pid)
            owner_text(q.owner_pid, owner, sizeof owner);
        else if (!q.kernel)
            strcpy(owner, "-");
        if (q.endpoint_id)
            snprintf(endpoint, sizeof endpoint, "%llu", (unsigned long long)q.endpoint_id);
        printf("%-18s  0x%-4x  %-4s  %-4s  %-16.16s  %-9s  %-9llu  %llu\n", source, q.vector, gsi, irte, owner, endpoint,
               (unsigned long long)q.interrupts, (unsigned long long)q.pending);
    }
}

static void run_mem(int argc, char **argv)
{
    (void)argc, (void)argv;
    struct wd_system_info s;
    if (wd_system_info(&s) < 0)
        return;
    printf("memory: %llu KiB free of %llu KiB; kernel objects use %llu KiB\n",
           (unsigned long long)(s.free_frames * 4), (unsigned long long)(s.total_frames * 4),
           (unsigned long long)(s.kernel_object_pages * 4));
    printf("objects: %llu live (%llu processes, %llu threads)\n", (unsigned long long)s.live_objects,
           (unsigned long long)s.live_processes, (unsigned long long)s.live_threads);
    printf("%-5s  %-10s  %-12s  %-12s\n", "PID", "NAME", "POOL USED", "POOL BUDGET");
    struct wd_inspect_process p;
    for (uint64_t i = 0; inspect_record(WD_INSPECT_PROCESS, 0, i, &p, sizeof p, &i) == 0;)
        if (!p.dead) {
            char used[24], budget[24];
            snprintf(used, sizeof used, "%lluK", (unsigned long long)(p.pool_used >> 10));
            snprintf(budget, sizeof budget, "%lluK", (unsigned long long)(p.pool_budget >> 10));
            printf("%-5llu  %-10.15s  %-12s  %-12s\n", (unsigned long long)p.pid, p.name, used, budget);
        }
}

static void run_stats(int argc, char **argv)
{
    (void)argc, (void)argv;
    struct wd_system_info s;
    struct wd_irq_stats q;
    struct wd_iommu_info u;
    if (wd_system_info(&s) < 0 || wd_irq_stats(&q) < 0)
        return;
    printf("system calls      %llu\n", (unsigned long long)s.syscalls);
    printf("context switches  %llu\n", (unsigned long long)s.context_switches);
    printf("notifications     %llu signals, %llu wake-ups\n", (unsigned long long)s.notify_signals,
           (unsigned long long)s.notify_wakeups);
    printf("revocations       %llu device groups, %llu DMA frame references dropped\n",
           (unsigned long long)s.revocations, (unsigned long long)s.dma_frames_released);
    printf("leases ended      %llu (%llu mappings removed)\n", (unsigned long long)s.lease_ends,
           (unsigned long long)s.lease_mappings_removed);
    for (uint64_t i = 0; wd_iommu_info(i, &u) == 0; i++)
        printf("IOMMU unit %llu     %llu invalidations, %llu waits, %llu faults, %llu domains\n",
               (unsigned long long)i, (unsigned long long)u.invalidations, (unsigned long long)u.waits,
               (unsigned long long)u.faults, (unsigned long long)u.domains);
    printf("interrupts        %llu sources live, %llu spurious, %llu unowned, %llu IEC invalidations\n",
           (unsigned long long)q.live_irqs, (unsigned long long)q.spurious, (unsigned long long)q.unowned,
           (unsigned long long)q.iec_invalidations);
}

const struct shell_command ps_command = { "ps", "ps", "processes: state, CPU, threads, pool, restarts", 0, 0, run_ps };
const struct shell_command caps_command = { "caps", "caps PID|NAME", "a process's capabilities", 1, 1, run_caps };
const struct shell_command devices_command = { "devices", "devices", "PCI functions: IDs, IOMMU group, owner", 0, 0,
                                               run_devices };
const struct shell_command iommu_command = { "iommu", "iommu", "IOMMU units: status, invalidations, faults", 0, 0,
                                             run_iommu };
const struct shell_command domains_command = { "domains", "domains", "IOMMU domains and their owners", 0, 0,
                                               run_domains };
const struct shell_command dma_command = { "dma", "dma NAME|PID", "what a driver's device may reach (IOVA map)", 1, 1,
                                           run_dma };
const struct shell_command faults_command = { "faults", "faults", "the last DMA faults and what was done", 0, 0,
                                              run_faults };
const struct shell_command irqs_command = { "irqs", "irqs", "interrupt sources: vector, owner, counts", 0, 0, run_irqs };
const struct shell_command mem_command = { "mem", "mem", "free memory and every process's pool", 0, 0, run_mem };
const struct shell_command stats_command = { "stats", "stats", "kernel counters: IPC, notifications, IOMMU", 0, 0,
                                             run_stats };
