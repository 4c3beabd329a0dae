/*
 * t_fuzz.c - the syscall fuzzer (boot test syscall_fuzzer): several
 * fuzzing processes at once (t_fuzz_child.c), each making seeded random
 * system calls with arguments typed from syscalls.def (t_fuzz_table.c,
 * t_fuzz_args.c), while this process, their parent, kills and re-spawns
 * them at random moments, revokes the capabilities it granted them (shared
 * objects, their pools) and deletes and recreates the shared objects. The
 * kernel must answer every call with a result or an error code, never
 * panic, and give back every frame and every byte of budget: after all of
 * it, the fuzz pool this test made everything from is charged 0, and the
 * runner's leak check passes.
 *
 * Command line: fuzzseed=N replays a run (the children's seeds derive
 * from it by spawn number: fuzz_derive_seed), fuzzcalls=N asks for more
 * than the default 5,000 calls in all (`make fuzz`, tools/fuzz.py),
 * fuzzprocs=N runs N processes at once (default 4), fuzzchaos=0 leaves out
 * the kills and revocations (with fuzzprocs=1, to replay one process's
 * calls on their own). Every call counts, from every process, killed ones
 * included: each child writes its counts to the board after every call.
 */
#include <string.h>
#include <warden/region.h>
#include <warden/spawn.h>

#include "boot_tests.h"
#include "t_fuzz.h"

#define CALLS 5000                  /* per boot-suite run; `fuzzcalls=N` (make fuzz) asks for more */
#define CALLS_MAX 100000000u
#define PROCESSES 4
#define FUZZ_POOL_BYTES (22ull << 20)       /* everything this test makes is paid from here */
#define CHILD_POOL_BYTES (7ull << 19)       /* 3.5 MiB: a child's image, stack and its own fuzz pool */
#define CHILD_PRIORITY (WD_PRIORITY_DEFAULT - 1)   /* below ours: our kills come when we wake */
#define STOP_WAIT_NS (3000 * BT_MS)
#define CHAOS_WAIT_NS (3 * BT_MS)           /* between two of our moves (rounded up to the tick) */
#define MIN_CALLS_PER_SECOND 300            /* below this, something hangs: stop and fail */
#define SHARED_FRAME_BYTES (2 * WD_PAGE_SIZE)
#define MIN_CROSS_CHECKED 200               /* system calls; a child killed early made mostly its set-up */

struct child {
    wd_handle_t process, pool;
    uint64_t pid, seed;
    bool live;
};

static uint64_t rng;
static struct wd_region board_region;
static struct fuzz_board *board;
static wd_handle_t fuzz_pool, events, events_send;
static wd_handle_t shared[FUZZ_SHARED_OBJECTS];     /* our capabilities; children get copies */
static struct child children[FUZZ_MAX_CHILDREN];
static unsigned processes, spawn_number;
static uint64_t main_seed;
static struct fuzz_counts retired;                  /* counts of children no longer running */
static uint64_t retired_calls_ok[2];
static uint64_t kernel_counted;                     /* system calls of our children, by process_info */
static unsigned miscounted;                         /* children whose report the kernel's count belies */
static struct {
    unsigned spawned, killed, spawn_failures, revokes, pool_revokes, recreated, regrants, faults, early_exits;
    uint64_t revoked_caps;
} chaos;

static uint64_t rnd(void)
{
    return bt_random(&rng);
}

static uint64_t counted_calls(void)
{
    uint64_t n = retired.succeeded + retired.failed + retired.skipped;
    for (unsigned i = 0; i < processes; i++) {
        const volatile struct fuzz_counts *c = &board->slots[i].counts;
        n += c->succeeded + c->failed + c->skipped;
    }
    return n;
}

static long create_shared(unsigned which)
{
    switch (which) {
    case 0: return wd_endpoint_create(fuzz_pool);
    case 1: return wd_notify_create(fuzz_pool);
    case 2: return wd_frame_create(fuzz_pool, SHARED_FRAME_BYTES, 0);
    default: return wd_dmaspace_create(fuzz_pool);
    }
}

/* Copies of the shared objects into child i, mostly with every right, now
 * and then fewer, badged, or a frame without RETAIN (a lease). */
static void grant_shared(unsigned i)
{
    volatile struct fuzz_slot *slot = &board->slots[i];
    for (unsigned k = 0; k < FUZZ_SHARED_OBJECTS; k++) {
        struct wd_cap_info info;
        long h = -1;
        if (shared[k] && wd_cap_info(shared[k], &info) == 0) {
            uint64_t rights = info.rights;
            if (rnd() % 4 == 0)
                rights &= rnd() | WD_RIGHT_GRANT;
            if (k == 2 && rnd() % 2)
                rights &= ~(uint64_t)WD_RIGHT_RETAIN;
            h = wd_cap_copy(shared[k], children[i].process, rights, rnd() % 4 == 0 ? 1 + rnd() % 255 : 0);
        }
        slot->grants[k] = h > 0 ? (wd_handle_t)h : WD_NULL;
    }
    __atomic_add_fetch(&slot->grant_generation, 1, __ATOMIC_RELEASE);
}

static void spawn_child(unsigned i)
{
    const struct wd_module *self = wd_find_module("boot-tests");
    long pool = self ? wd_pool_create(fuzz_pool, CHILD_POOL_BYTES) : -WD_E_NOT_FOUND;
    if (pool < 0) {                 /* the budget of dead children is still held: later */
        chaos.spawn_failures++;
        return;
    }
    struct child *c = &children[i];
    c->seed = fuzz_derive_seed(main_seed, spawn_number);
    char args[96];
    snprintf(args, sizeof args, "boot-tests helper fuzz-child %u 0x%llx", i, (unsigned long long)c->seed);
    memset(&board->slots[i], 0, sizeof board->slots[i]);
    struct wd_spawn s = {
        .args = args,
        .image = self->frame,
        .image_size = self->size,
        .pool = (wd_handle_t)pool,
        .fault_endpoint = events,
        .fault_badge = i,
        .cap_count = 2,
        .caps = { board_region.frame, events_send },
        .priority = CHILD_PRIORITY,
    };
    long process = wd_spawn(&s, NULL);
    struct wd_cap_info info;
    if (process < 0 || wd_cap_info((wd_handle_t)process, &info) < 0) {
        printf("# fuzz process %u: cannot start it: %s\n", i, wd_error_name(process));
        wd_cap_delete((wd_handle_t)pool);
        chaos.spawn_failures++;
        return;
    }
    printf("# fuzz process %u (spawn %u): seed 0x%llx\n", i, spawn_number, (unsigned long long)c->seed);
    spawn_number++;
    chaos.spawned++;
    *c = (struct child){ (wd_handle_t)process, (wd_handle_t)pool, info.object_id, c->seed, true };
    grant_shared(i);
}

/* Child i is gone or goes now (killed, exited, faulted): its counts join
 * the retired ones and our capabilities to it and its pool go. */
static void retire_child(unsigned i)
{
    struct child *c = &children[i];
    if (!c->live)
        return;
    wd_process_kill(c->process, 0);            /* a no-op when it is already dead */
    volatile struct fuzz_slot *slot = &board->slots[i];
    /* The kernel's own count of its system calls checks what it reported:
     * every fuzzed call is one, and the fuzzer's bookkeeping adds a few. */
    struct wd_process_info info;
    uint64_t made = slot->counts.succeeded + slot->counts.failed;
    if (BT_OK(wd_process_info(c->process, &info)) == 0) {
        kernel_counted += info.syscalls;
        if (made > info.syscalls || (info.syscalls > MIN_CROSS_CHECKED && made < info.syscalls / 3)) {
            printf("# fuzz process %u (seed 0x%llx) reported %llu calls; the kernel counted %llu system calls\n",
                   i, (unsigned long long)c->seed, (unsigned long long)made, (unsigned long long)info.syscalls);
            miscounted++;
        }
    }
    retired.succeeded += slot->counts.succeeded;
    retired.failed += slot->counts.failed;
    retired.skipped += slot->counts.skipped;
    retired.not_error += slot->counts.not_error;
    if (slot->counts.not_error)
        printf("# fuzz process %u (seed 0x%llx): %llu results not an error code, the first from call %llu: %lld\n",
               i, (unsigned long long)c->seed, (unsigned long long)slot->counts.not_error,
               (unsigned long long)slot->first_not_error_nr, (long long)slot->first_not_error);
    retired_calls_ok[0] |= slot->succeeded_calls[0];
    retired_calls_ok[1] |= slot->succeeded_calls[1];
    memset((void *)slot, 0, sizeof *slot);
    wd_cap_delete(c->process);
    wd_cap_delete(c->pool);
    c->live = false;
}

static int child_by_pid(uint64_t pid)
{
    for (unsigned i = 0; i < processes; i++)
        if (children[i].live && children[i].pid == pid)
            return (int)i;
    return -1;
}

/* Waits up to timeout for our children's faults and exits, then takes the rest without waiting. */
static void take_events(uint64_t timeout)
{
    struct wd_msg m;
    for (long r = wd_recv(events, &m, timeout); r == 0; r = wd_recv(events, &m, WD_NO_WAIT)) {
        uint32_t label = wd_msg_label(m.info);
        int i = child_by_pid(label == WD_LABEL_FAULT ? m.w[6] : m.w[1]);
        if (i < 0)
            continue;               /* one we killed */
        if (label == WD_LABEL_FAULT) {
            printf("# fuzz process %u (seed 0x%llx) faulted: vector %llu, address 0x%llx, RIP 0x%llx\n", i,
                   (unsigned long long)children[i].seed, (unsigned long long)m.w[2], (unsigned long long)m.w[4],
                   (unsigned long long)m.w[5]);
            chaos.faults++;
        } else if (label == WD_LABEL_EXIT && !__atomic_load_n(&board->stop, __ATOMIC_ACQUIRE)) {
            printf("# fuzz process %u (seed 0x%llx) exited on its own: status %lld\n", i,
                   (unsigned long long)children[i].seed, (long long)m.w[2]);
            chaos.early_exits++;
        }
        if (label == WD_LABEL_FAULT || label == WD_LABEL_EXIT)
            retire_child((unsigned)i);
    }
}

/* Kills child i mid-call (it is re-spawned). */
static void chaos_kill(unsigned i)
{
    if (children[i].live) {
        retire_child(i);
        chaos.killed++;
    }
}

/* Revokes every copy of shared object k, in every child. */
static void chaos_revoke(unsigned k)
{
    long n = wd_cap_revoke(shared[k]);
    if (n >= 0) {
        chaos.revokes++;
        chaos.revoked_caps += (uint64_t)n;
    }
}

/* One move of ours while the children fuzz. */
static void chaos_move(void)
{
    unsigned i = rnd() % processes, k = rnd() % FUZZ_SHARED_OBJECTS;
    switch (rnd() % 16) {
    case 0: case 1: case 2:
        chaos_kill(i);
        break;
    case 3: case 4:
        chaos_revoke(k);
        break;
    case 5: {                                   /* a new shared object; the old lives on in children */
        wd_cap_delete(shared[k]);
        long h = create_shared(k);
        shared[k] = h > 0 ? (wd_handle_t)h : WD_NULL;
        chaos.recreated++;
        for (unsigned j = 0; j < processes; j++)
            if (children[j].live)
                grant_shared(j);
        break;
    }
    case 6: case 7:
        if (children[i].live) {
            grant_shared(i);
            chaos.regrants++;
        }
        break;
    case 8:                                     /* the child's own pool capability */
        if (children[i].live && wd_cap_revoke(children[i].pool) >= 0)
            chaos.pool_revokes++;
        break;
    default:
        break;
    }
}

/* What a child that would not stop was doing: its last call, with its registers. */
static void report_stuck(unsigned i)
{
    struct wd_process_info info = { 0 };
    wd_process_info(children[i].process, &info);
    volatile struct fuzz_slot *slot = &board->slots[i];
    printf("# fuzz process %u (seed 0x%llx) did not stop within %llu ms: %llu calls counted, %llu system "
           "calls, %llu threads\n", i, (unsigned long long)children[i].seed,
           (unsigned long long)(STOP_WAIT_NS / BT_MS),
           (unsigned long long)(slot->counts.succeeded + slot->counts.failed),
           (unsigned long long)info.syscalls, (unsigned long long)info.live_threads);
    volatile uint64_t *r = slot->last_call;
    printf("#   its last call: nr %llu (%llx %llx %llx %llx %llx %llx; rbx %llx rbp %llx)\n",
           (unsigned long long)r[0], (unsigned long long)r[1], (unsigned long long)r[2],
           (unsigned long long)r[3], (unsigned long long)r[4], (unsigned long long)r[5],
           (unsigned long long)r[6], (unsigned long long)r[7], (unsigned long long)r[8]);
}

static unsigned stop_children(void)
{
    __atomic_store_n(&board->stop, 1, __ATOMIC_RELEASE);
    uint64_t until = (uint64_t)wd_time_now() + STOP_WAIT_NS;
    for (;;) {
        bool any = false;
        for (unsigned i = 0; i < processes; i++)
            any |= children[i].live;
        if (!any || (uint64_t)wd_time_now() >= until)
            break;
        take_events(10 * BT_MS);
    }
    unsigned stuck = 0;
    for (unsigned i = 0; i < processes; i++) {
        if (children[i].live) {
            report_stuck(i);
            stuck++;
            retire_child(i);
        }
    }
    return stuck;
}

static void report(uint64_t calls)
{
    printf("# %llu calls: %llu succeeded, %llu failed cleanly, %llu skipped\n", (unsigned long long)calls,
           (unsigned long long)retired.succeeded, (unsigned long long)retired.failed,
           (unsigned long long)retired.skipped);
    printf("# fuzz chaos: %u processes started (%u at once), %u killed mid-run, %u revocations of shared "
           "objects (%llu capabilities deleted), %u of a child's pool, %u shared objects recreated, %u re-grants, "
           "%u spawns put off\n", chaos.spawned, processes, chaos.killed, chaos.revokes,
           (unsigned long long)chaos.revoked_caps, chaos.pool_revokes, chaos.recreated, chaos.regrants,
           chaos.spawn_failures);
    char never[600];
    int n = 0;
    unsigned ok = 0;
    for (uint64_t nr = 0; nr < fuzz_syscall_limit() && nr < 128; nr++) {
        const struct fuzz_call *call = fuzz_call_by_nr(nr);
        if (retired_calls_ok[nr / 64] & (1ull << (nr % 64)))
            ok++;
        else if (call && n < (int)sizeof never)
            n += snprintf(never + n, sizeof never - n, " %s", call->name);
    }
    printf("# %u different calls succeeded at least once; never:%s\n", ok, n ? never : " none");
    uint64_t made = retired.succeeded + retired.failed;
    printf("# the kernel counted %llu system calls of the fuzzing processes; they reported %llu made (%llu%%)\n",
           (unsigned long long)kernel_counted, (unsigned long long)made,
           (unsigned long long)(kernel_counted ? 100 * made / kernel_counted : 0));
}

/* Everything this test made was paid from fuzz_pool: with all of it deleted, it is charged 0. */
static void delete_everything(void)
{
    for (unsigned k = 0; k < FUZZ_SHARED_OBJECTS; k++)
        wd_cap_delete(shared[k]);
    wd_cap_delete(events_send);
    wd_cap_delete(events);
    wd_region_destroy(&board_region);
    struct wd_pool_info info;
    if (BT_OK(wd_pool_info(fuzz_pool, &info)) == 0 && info.used != 0)
        printf("# the fuzz pool is still charged %llu bytes with everything deleted\n",
               (unsigned long long)info.used);
    BT_CHECK_EQ(info.used, 0);
    wd_cap_delete(fuzz_pool);
}

/* The kernel is up and still does its job. */
static void check_kernel_serves(void)
{
    long ep = BT_OK(wd_endpoint_create(bt_pool()));
    struct wd_msg msg = { .info = wd_msg_info(1, 0, 0) };
    BT_CHECK_EQ(wd_call((wd_handle_t)ep, &msg, WD_NO_WAIT), -WD_E_WOULD_BLOCK);
    long n = BT_OK(wd_notify_create(bt_pool()));
    BT_CHECK_EQ(wd_notify_signal((wd_handle_t)n, 0x5), 0);
    BT_CHECK_EQ(wd_notify_signal((wd_handle_t)n, 0x30), 0);
    BT_CHECK_EQ(wd_notify_poll((wd_handle_t)n), 0x35);
    BT_CHECK_EQ(wd_notify_wait((wd_handle_t)n, WD_NO_WAIT), -WD_E_WOULD_BLOCK);
    wd_cap_delete((wd_handle_t)n);
    wd_cap_delete((wd_handle_t)ep);
}

void test_syscall_fuzzer(void)
{
    main_seed = bt_cmdline_number("fuzzseed=", 0);
    if (!main_seed)
        main_seed = (uint64_t)wd_time_now() ^ 0x9E3779B97F4A7C15ull;
    rng = main_seed;
    uint64_t target = bt_cmdline_number("fuzzcalls=", CALLS);
    target = target == 0 ? CALLS : target > CALLS_MAX ? CALLS_MAX : target;
    processes = (unsigned)bt_cmdline_number("fuzzprocs=", PROCESSES);
    processes = processes == 0 ? 1 : processes > FUZZ_MAX_CHILDREN ? FUZZ_MAX_CHILDREN : processes;
    bool with_chaos = bt_cmdline_number("fuzzchaos=", 1) != 0;
    printf("# fuzz seed 0x%llx (replay: boot with fuzzseed=0x%llx): %llu calls, %u processes at once, %s\n",
           (unsigned long long)main_seed, (unsigned long long)main_seed, (unsigned long long)target, processes,
           with_chaos ? "killed, re-spawned and revoked at random" : "no kills or revocations (fuzzchaos=0)");
    fuzz_table_build(true);

    fuzz_pool = (wd_handle_t)BT_OK(wd_pool_create(bt_pool(), FUZZ_POOL_BYTES));
    if (BT_OK(wd_region_create(&board_region, fuzz_pool, sizeof *board)) < 0)
        return;
    board = board_region.cpu;
    events = (wd_handle_t)BT_OK(wd_endpoint_create(fuzz_pool));
    events_send = (wd_handle_t)BT_OK(wd_cap_copy(events, WD_NULL, WD_RIGHT_SEND | WD_RIGHT_GRANT, 0));
    for (unsigned k = 0; k < FUZZ_SHARED_OBJECTS; k++) {
        long h = create_shared(k);
        BT_CHECK(h > 0 || h == -WD_E_NO_IOMMU);     /* no dmaspace on a machine without an IOMMU */
        shared[k] = h > 0 ? (wd_handle_t)h : WD_NULL;
    }
    for (unsigned i = 0; i < processes; i++)
        spawn_child(i);

    uint64_t start = (uint64_t)wd_time_now();
    uint64_t deadline = start + (target / MIN_CALLS_PER_SECOND + 10) * 1000 * BT_MS;
    while (counted_calls() < target && (uint64_t)wd_time_now() < deadline) {
        take_events(CHAOS_WAIT_NS);
        if (with_chaos)
            chaos_move();
        if (with_chaos && counted_calls() >= target / 2 && !chaos.killed)
            chaos_kill(rnd() % processes);          /* a short run still races a kill and a revocation */
        if (with_chaos && counted_calls() >= target / 2 && !chaos.revokes)
            chaos_revoke(rnd() % FUZZ_SHARED_OBJECTS);
        for (unsigned i = 0; i < processes; i++)
            if (!children[i].live)
                spawn_child(i);
    }
    unsigned stuck = stop_children();
    uint64_t calls = retired.succeeded + retired.failed + retired.skipped;
    report(calls);
    printf("# fuzzing took %llu ms\n", (unsigned long long)(((uint64_t)wd_time_now() - start) / BT_MS));
    if (calls < target)
        printf("# only %llu of %llu calls were counted in time\n", (unsigned long long)calls,
               (unsigned long long)target);
    BT_CHECK(calls >= target);
    BT_CHECK_EQ(retired.not_error, 0);
    BT_CHECK_EQ(chaos.faults, 0);
    BT_CHECK_EQ(chaos.early_exits, 0);
    BT_CHECK_EQ(stuck, 0);
    BT_CHECK_EQ(miscounted, 0);
    BT_CHECK(retired.failed > calls / 4);           /* the checks ran ... */
    BT_CHECK(retired.succeeded > calls / 50);       /* ... and so did the deep paths */
    if (with_chaos)
        BT_CHECK(chaos.killed > 0 && chaos.revokes > 0);
    delete_everything();
    check_kernel_serves();
}
