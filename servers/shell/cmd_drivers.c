/*
 * cmd_drivers.c - the supervised drivers (init's supervisor,
 * warden/supervisor.h): drivers, kill, restart, stop, start; and attack,
 * which asks a driver to point its device where it must not and shows
 * the IOMMU's answer from the kernel's fault log.
 */
#include <stdio.h>
#include <string.h>
#include <warden/service.h>
#include <warden/supervisor.h>
#include <warden/syscalls.h>

#include "edu_protocol.h"
#include "shell.h"

#define NS_PER_MS 1000000ull
#define WAIT_POLL_NS (5 * NS_PER_MS)
#define RESTART_PATIENCE_NS (10000 * NS_PER_MS)
#define EDU_DMA_LIMIT 0x0FFFFFFFull     /* the edu device's DMA mask (QEMU's default: 28 bits) */

static const char *death_text(uint64_t reason)
{
    return reason == WD_EXIT_KILLED ? "killed" : reason == WD_EXIT_NORMAL ? "exited" : "faulted";
}

static void run_drivers(int argc, char **argv)
{
    (void)argc, (void)argv;
    printf("%-8s  %-9s  %-4s  %-6s  %-7s  %-7s  %s\n", "NAME", "STATE", "GEN", "PID", "DEATHS", "FAILED", "LAST DEATH");
    char name[WD_NAME_MAX + 1];
    for (long i = 0; (i = wd_supervise_list(shell_registry, (unsigned)i, name)) > 0;) {
        struct wd_service_status st;
        if (wd_supervise_status(shell_registry, name, &st) < 0)
            continue;
        char last[48] = "-";
        uint64_t words[7];
        if (st.deaths && wd_supervise_last_death(shell_registry, name, words) == 0)
            snprintf(last, sizeof last, "process %llu %s, status %lld", (unsigned long long)words[0],
                     death_text(words[2]), (long long)words[1]);
        printf("%-8s  %-9s  %-4llu  %-6llu  %-7llu  %-7llu  %s\n", name, service_state_text(st.state),
               (unsigned long long)st.generation, (unsigned long long)st.pid, (unsigned long long)st.deaths,
               (unsigned long long)st.failed_starts, last);
    }
}

/* Waits until service's status satisfies done (or the patience runs out). */
static bool wait_status(const char *service, bool (*done)(const struct wd_service_status *, uint64_t), uint64_t arg,
                        struct wd_service_status *st)
{
    uint64_t deadline = (uint64_t)wd_time_now() + RESTART_PATIENCE_NS;
    for (;;) {
        if (wd_supervise_status(shell_registry, service, st) == 0 && done(st, arg))
            return true;
        if ((uint64_t)wd_time_now() >= deadline)
            return false;
        wd_thread_sleep(WAIT_POLL_NS);
    }
}

static bool died(const struct wd_service_status *st, uint64_t deaths) { return st->deaths > deaths; }
static bool running_after(const struct wd_service_status *st, uint64_t generation)
{
    return st->generation > generation && st->state == WD_SERVICE_RUNNING;
}

#define OLD_MAPPINGS_KEPT 32

struct old_mapping {
    uint64_t iova, frame;
};

/* The DMA mappings of pid's domains, up to OLD_MAPPINGS_KEPT: how many. */
static unsigned snapshot_mappings(uint64_t pid, struct old_mapping *out)
{
    unsigned n = 0;
    struct wd_inspect_domain d;
    for (uint64_t i = 0; inspect_record(WD_INSPECT_DOMAIN, 0, i, &d, sizeof d, &i) == 0;) {
        struct wd_inspect_mapping m;
        for (uint64_t j = 0; d.owner_pid == pid && n < OLD_MAPPINGS_KEPT &&
                             inspect_record(WD_INSPECT_MAPPING, d.object_id, j, &m, sizeof m, &j) == 0;)
            out[n++] = (struct old_mapping){ m.iova, m.frame_id };
    }
    return n;
}

/* Where frame is mapped for a device now: the owner's pid (0: nowhere); *iova_frame = the frame
 * the new owner's domain maps at iova (0: none). */
static uint64_t frame_owner(uint64_t frame, uint64_t pid, uint64_t iova, uint64_t *iova_frame)
{
    uint64_t owner = 0;
    *iova_frame = 0;
    struct wd_inspect_domain d;
    for (uint64_t i = 0; inspect_record(WD_INSPECT_DOMAIN, 0, i, &d, sizeof d, &i) == 0;) {
        struct wd_inspect_mapping m;
        for (uint64_t j = 0; inspect_record(WD_INSPECT_MAPPING, d.object_id, j, &m, sizeof m, &j) == 0;) {
            if (m.frame_id == frame)
                owner = d.owner_pid ? d.owner_pid : ~0ull;
            if (d.owner_pid == pid && iova >= m.iova && iova - m.iova < m.length)
                *iova_frame = m.frame_id;
        }
    }
    return owner;
}

/* After a restart: each old mapping's frame is out of every domain (or says where it is). */
static void report_old_mappings(const struct old_mapping *old, unsigned n, uint64_t new_pid)
{
    if (!n)
        return;
    printf("the old incarnation's %u DMA mapping(s) now:\n", n);
    for (unsigned i = 0; i < n; i++) {
        uint64_t now_at, owner = frame_owner(old[i].frame, new_pid, old[i].iova, &now_at);
        printf("  IOVA 0x%llx (frame %llu): frame %s", (unsigned long long)old[i].iova,
               (unsigned long long)old[i].frame, owner ? "STILL MAPPED" : "mapped in no domain");
        if (now_at)
            printf("; the new domain maps frame %llu there (the new driver's own)\n", (unsigned long long)now_at);
        else
            printf("; nothing at that IOVA in the new domain\n");
    }
}

/* Kills service's incarnation; with report, prints what the kernel revoked, in order. Then
 * waits for the supervisor's restart. */
static void kill_and_follow(const char *service, bool report)
{
    struct wd_service_status before, st;
    if (wd_supervise_status(shell_registry, service, &before) < 0 || !before.pid) {
        shell_error("%s is not running", service);
        return;
    }
    struct old_mapping old[OLD_MAPPINGS_KEPT];
    unsigned old_count = report ? snapshot_mappings(before.pid, old) : 0;
    long r = wd_supervise_kill(shell_registry, service);
    if (r < 0) {
        shell_error("cannot kill %s: %s", service, wd_error_name(r));
        return;
    }
    if (!wait_status(service, died, before.deaths, &st)) {
        shell_error("%s did not die", service);
        return;
    }
    uint64_t w[7];
    if (report && wd_supervise_last_death(shell_registry, service, w) == 0) {
        char address[12];
        printf("killed %s (process %llu). The kernel revoked, in this order:\n", service, (unsigned long long)w[0]);
        if (w[3]) {
            printf("  1. bus mastering off on %llu device group(s) (first %s)\n", (unsigned long long)w[3],
                   pci_text(w[6], address));
            printf("  2. %llu interrupt source(s) unhooked, remapping entries cleared\n", (unsigned long long)w[5]);
            printf("  3. context entries cleared, context cache and IOTLB invalidated, waited for\n");
            printf("  4. %llu DMA mapping(s) dropped; only then did their frames go back to pools\n",
                   (unsigned long long)w[4]);
        } else {
            printf("  no device (a service without one): its capabilities and memory only\n");
        }
    }
    if (!wait_status(service, running_after, before.generation, &st)) {
        printf("%s is %s (generation %llu); the supervisor did not bring it back yet\n", service,
               service_state_text(st.state), (unsigned long long)st.generation);
        return;
    }
    printf("%s restarted by the supervisor: generation %llu, process %llu\n", service,
           (unsigned long long)st.generation, (unsigned long long)st.pid);
    report_old_mappings(old, old_count, st.pid);
}

static bool find_service(const char *what, char service[WD_NAME_MAX + 1])
{
    if (resolve_service(what, service))
        return true;
    shell_error("'%s' is not a supervised driver (see drivers)", what);
    return false;
}

static void run_kill(int argc, char **argv)
{
    (void)argc;
    char service[WD_NAME_MAX + 1];
    if (find_service(argv[1], service))
        kill_and_follow(service, true);
}

static void run_restart(int argc, char **argv)
{
    (void)argc;
    char service[WD_NAME_MAX + 1];
    if (find_service(argv[1], service))
        kill_and_follow(service, false);
}

static void run_stop(int argc, char **argv)
{
    (void)argc;
    char service[WD_NAME_MAX + 1];
    if (!find_service(argv[1], service))
        return;
    long r = wd_supervise_pause(shell_registry, service);
    if (r < 0)
        shell_error("cannot stop %s: %s", service, wd_error_name(r));
    else
        printf("%s stopped; start %s brings it back\n", service, service);
}

static void run_start(int argc, char **argv)
{
    (void)argc;
    char service[WD_NAME_MAX + 1];
    if (!find_service(argv[1], service))
        return;
    struct wd_service_status before, st;
    wd_supervise_status(shell_registry, service, &before);
    long r = wd_supervise_resume(shell_registry, service);
    if (r == -WD_E_EXISTS) {
        shell_error("%s is not stopped (it is %s)", service, service_state_text(before.state));
        return;
    }
    if (r < 0) {
        shell_error("cannot start %s: %s", service, wd_error_name(r));
        return;
    }
    if (wait_status(service, running_after, before.generation, &st))
        printf("%s started: generation %llu, process %llu\n", service, (unsigned long long)st.generation,
               (unsigned long long)st.pid);
    else
        printf("%s is %s\n", service, service_state_text(st.state));
}

/* ---- attack ---- */

static uint64_t last_fault_sequence(void)
{
    struct wd_inspect_fault f;
    uint64_t sequence = 0;
    for (uint64_t i = 0; inspect_record(WD_INSPECT_FAULT, 0, i, &f, sizeof f, &i) == 0;)
        sequence = f.sequence;
    return sequence;
}

/* Prints the faults logged after sequence `after`: how many. */
static unsigned show_faults_since(uint64_t after)
{
    struct wd_inspect_fault f;
    unsigned n = 0;
    for (uint64_t i = 0; inspect_record(WD_INSPECT_FAULT, 0, i, &f, sizeof f, &i) == 0;) {
        if (f.sequence <= after)
            continue;
        char source[12];
        printf("     DMA fault #%llu: %s %s IOVA 0x%llx, reason 0x%x: blocked by the IOMMU\n",
               (unsigned long long)f.sequence, pci_text(f.source_id, source), f.write ? "write to" : "read from",
               (unsigned long long)f.iova, f.reason);
        n++;
    }
    return n;
}

/* Whether pid's domains map iova. */
static bool mapped_by(uint64_t pid, uint64_t iova)
{
    struct wd_inspect_domain d;
    for (uint64_t i = 0; inspect_record(WD_INSPECT_DOMAIN, 0, i, &d, sizeof d, &i) == 0;) {
        struct wd_inspect_mapping m;
        for (uint64_t j = 0; d.owner_pid == pid && inspect_record(WD_INSPECT_MAPPING, d.object_id, j, &m, sizeof m,
                                                                  &j) == 0;)
            if (iova >= m.iova && iova - m.iova < m.length)
                return true;
    }
    return false;
}

/* An IOVA another process's domain maps and the attacker's does not (the edu device reaches
 * 28 bits): 0 if none. */
static uint64_t foreign_iova(uint64_t attacker, uint64_t *victim)
{
    struct wd_inspect_domain d;
    for (uint64_t i = 0; inspect_record(WD_INSPECT_DOMAIN, 0, i, &d, sizeof d, &i) == 0;) {
        struct wd_inspect_mapping m;
        for (uint64_t j = 0; d.owner_pid && d.owner_pid != attacker &&
                             inspect_record(WD_INSPECT_MAPPING, d.object_id, j, &m, sizeof m, &j) == 0;)
            if (m.iova <= EDU_DMA_LIMIT && !mapped_by(attacker, m.iova)) {
                *victim = d.owner_pid;
                return m.iova;
            }
    }
    return 0;
}

/* The IRTE index of another device's live interrupt that has fired least (for the forged MSI:
 * a quiet one, so a real interrupt is unlikely to land meanwhile): ~0u if none. */
static uint32_t foreign_irte(uint64_t attacker, struct wd_inspect_irq *out)
{
    struct wd_inspect_irq q;
    uint32_t best = ~0u;
    for (uint64_t i = 0; inspect_record(WD_INSPECT_IRQ, 0, i, &q, sizeof q, &i) == 0;)
        if (q.owner_pid && q.owner_pid != attacker && q.irte_index != ~0u &&
            (best == ~0u || q.interrupts < out->interrupts)) {
            *out = q;
            best = q.irte_index;
        }
    return best;
}

static uint64_t irq_count(uint64_t vector)
{
    struct wd_inspect_irq q;
    for (uint64_t i = 0; inspect_record(WD_INSPECT_IRQ, 0, i, &q, sizeof q, &i) == 0;)
        if (q.vector == vector)
            return q.interrupts;
    return 0;
}

static long attack_step(struct wd_service *edu, uint64_t kind, uint64_t iova, struct wd_msg *reply)
{
    *reply = (struct wd_msg){ .info = wd_msg_info(EDU_OP_ATTACK, 2, 0), .w = { kind, iova } };
    long r = wd_service_call(edu, reply, EDU_CALL_TIMEOUT_NS);
    return r < 0 ? r : (long)reply->w[0];
}

static void run_attack(int argc, char **argv)
{
    (void)argc;
    if (strcmp(argv[1], "edu") != 0) {
        shell_error("attack knows the edu driver only (its device DMAs where it is told)");
        return;
    }
    uint64_t attacker = resolve_pid("edu");
    struct wd_service edu;
    long r = attacker ? wd_service_connect(&edu, shell_registry, "edu", 0) : -WD_E_NOT_FOUND;
    if (r < 0) {
        shell_error("edu is not running (%s)", wd_error_name(r));
        return;
    }
    printf("attack: the edu driver (process %llu) points its device at memory it was not given\n",
           (unsigned long long)attacker);
    struct wd_msg reply;
    unsigned blocked = 0, steps = 0;

    uint64_t mark = last_fault_sequence();
    printf("  1. write to IOVA 0x%llx, which nothing is mapped at\n", EDU_ATTACK_UNMAPPED_IOVA);
    r = attack_step(&edu, EDU_ATTACK_UNMAPPED, 0, &reply);
    steps++, blocked += r == 0 && show_faults_since(mark) > 0;

    mark = last_fault_sequence();
    printf("  2. write to a page the driver mapped read-only for the device\n");
    r = attack_step(&edu, EDU_ATTACK_READ_ONLY, 0, &reply);
    unsigned faults = r == 0 ? show_faults_since(mark) : 0;
    if (r == 0)
        printf("     the page at IOVA 0x%llx %s its pattern\n", (unsigned long long)reply.w[1],
               reply.w[3] ? "still holds" : "LOST");
    steps++, blocked += faults > 0 && reply.w[3];

    uint64_t victim = 0, iova = foreign_iova(attacker, &victim);
    if (iova) {
        char name[WD_INSPECT_NAME_MAX];
        process_name(victim, name);
        mark = last_fault_sequence();
        printf("  3. write to IOVA 0x%llx, which %s (process %llu) has mapped in its own domain\n",
               (unsigned long long)iova, name, (unsigned long long)victim);
        r = attack_step(&edu, EDU_ATTACK_IOVA, iova, &reply);
        steps++, blocked += r == 0 && show_faults_since(mark) > 0;
    }

    struct wd_inspect_irq target;
    uint32_t irte = foreign_irte(attacker, &target);
    if (irte != ~0u) {
        char name[WD_INSPECT_NAME_MAX];
        process_name(target.owner_pid, name);
        uint64_t address = 0xFEE00000ull | ((uint64_t)(irte & 0x7FFF) << 5) | 0x10 | ((irte >> 15) & 1) << 2;
        uint64_t before = irq_count(target.vector);
        mark = last_fault_sequence();
        printf("  4. forge an MSI: write to 0x%llx, interrupt remapping entry %u of %s's vector 0x%x\n",
               (unsigned long long)address, irte, name, target.vector);
        r = attack_step(&edu, EDU_ATTACK_IRQ_WINDOW, address, &reply);
        uint64_t after = irq_count(target.vector);
        show_faults_since(mark);
        if (after == before)
            printf("     %s's interrupts: %llu before, %llu after: none forged\n", name, (unsigned long long)before,
                   (unsigned long long)after);
        else
            printf("     %s's interrupts: %llu before, %llu after: the forged MSI was DELIVERED. QEMU 7.2's\n"
                   "     emulated DMA carries no requester ID, so the remapping entry's source check cannot\n"
                   "     apply; hardware tags every write with its requester ID (docs/shell.md)\n",
                   name, (unsigned long long)before, (unsigned long long)after);
        steps++, blocked += r == 0 && after == before;
    }
    wd_service_close(&edu);
    printf("attack: %u of %u attempts blocked\n", blocked, steps);
}

const struct shell_command drivers_command = { "drivers", "drivers",
                                               "supervised drivers: state, generation, restarts, last death", 0, 0,
                                               run_drivers };
const struct shell_command kill_command = { "kill", "kill NAME|PID",
                                            "kill a driver; shows what was revoked, then its restart", 1, 1, run_kill };
const struct shell_command restart_command = { "restart", "restart NAME", "kill a driver and wait for its restart", 1,
                                               1, run_restart };
const struct shell_command stop_command = { "stop", "stop NAME", "stop a driver and keep it down", 1, 1, run_stop };
const struct shell_command start_command = { "start", "start NAME", "start a stopped driver again", 1, 1, run_start };
const struct shell_command attack_command = { "attack", "attack edu",
                                              "make edu's device DMA where it must not; watch the IOMMU stop it", 1, 1,
                                              run_attack };
