/*
 * t_fuzz.c - the syscall fuzzer: thousands of seeded random system calls
 * (random numbers, handles, pointers to kernel, unmapped, non-canonical
 * and valid memory, lengths, flags, timeouts). The kernel must answer
 * every one with a result and stay up. The seed is printed; boot with
 * `fuzzseed=N` (QEMU_EXTRA="-fw_cfg name=opt/warden/cmdline,string=test fuzzseed=N")
 * to replay a run; `fuzzcalls=N` makes more calls than the default 5,000
 * (`make fuzz`, tools/fuzz.sh).
 *
 * Only calls that would end or wreck the fuzzer itself are steered away:
 * exiting or killing itself, handles to its own process, pool, registry
 * and device root (no random config writes to real hardware), unmapping
 * outside its scratch window, threads in its own address space, console
 * writes of random bytes, and long waits (sleep, notify_wait and the IPC
 * calls get a timeout of at most 2 ms). Signals, binds and watches only
 * ever name the fuzzer's own objects (a random handle never names another
 * capability of ours), so they cannot reach init or the runner.
 */
#include <stdlib.h>
#include <string.h>

#include "boot_tests.h"

#define CALLS 5000                  /* per boot-suite run; `fuzzcalls=N` (make fuzz) asks for more */
#define CALLS_MAX 100000000u
#define FUZZ_WINDOW 0x0000600000000000ull
#define FUZZ_WINDOW_SIZE (1ull << 30)
#define MAX_OBJECTS 48

long raw_syscall(const uint64_t regs[13]);

static uint64_t rng_state;

static uint64_t rnd(void)
{
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 0x2545F4914F6CDD1Dull;
}

static wd_handle_t objects[MAX_OBJECTS];
static unsigned object_count;
static uint8_t buffer[2 * WD_PAGE_SIZE] __attribute__((aligned(4096)));

static bool is_fuzz_object(wd_handle_t h)
{
    for (unsigned i = 0; i < object_count; i++)
        if (objects[i] == h)
            return true;
    return false;
}

static void add_object(long h)
{
    if (h > 0 && object_count < MAX_OBJECTS && !is_fuzz_object((wd_handle_t)h))
        objects[object_count++] = (wd_handle_t)h;
}

/* A handle: one of ours, or garbage that names nothing the fuzzer needs. */
static uint64_t random_handle(void)
{
    uint64_t h;
    switch (rnd() % 6) {
    case 0: case 1: case 2:
        return object_count ? objects[rnd() % object_count] : 0;
    case 3: h = 0; break;
    case 4: h = rnd(); break;
    default: h = (rnd() % 300) | ((rnd() % 4) << 16); break;
    }
    struct wd_cap_info info;
    if (h && wd_cap_info(h, &info) == 0 && !is_fuzz_object(h))
        return 0xDEAD0000FFFFull;   /* would name one of our own capabilities */
    return h;
}

static uint64_t random_pointer(void)
{
    static const uint64_t bad[] = {
        0, 1, 0xFFF, 0x1000, 0xFFFF800000000000ull, 0xFFFFFFFF80000000ull, 0xFFFFFFFFFFFFF000ull,
        0x0000800000000000ull, 0x8000000000000000ull, 0x00007FFFFFFFF000ull, 0x00007FFFFFFFFFF8ull,
        0x0000700000000000ull, 0x0000000000400000ull /* our read-only text */,
    };
    switch (rnd() % 4) {
    case 0: return bad[rnd() % (sizeof bad / sizeof bad[0])];
    case 1: return (uint64_t)buffer + rnd() % (sizeof buffer / 2);    /* outputs stay inside buffer */
    case 2: return rnd();
    default: return (uint64_t)buffer;
    }
}

static uint64_t random_value(void)
{
    switch (rnd() % 8) {
    case 0: return 0;
    case 1: return rnd() % 16;
    case 2: return WD_PAGE_SIZE * (rnd() % 64);
    case 3: return ~0ull;
    case 4: return 1ull << (rnd() % 64);
    case 5: return random_pointer();
    case 6: return random_handle();
    default: return rnd();
    }
}

static uint64_t seed_from_cmdline(void)
{
    const char *p = strstr(wd_start_info->cmdline, "fuzzseed=");
    return p ? strtoull(p + 9, NULL, 0) : 0;
}

static unsigned calls_from_cmdline(void)
{
    const char *p = strstr(wd_start_info->cmdline, "fuzzcalls=");
    unsigned long long n = p ? strtoull(p + 10, NULL, 0) : 0;
    return n == 0 ? CALLS : n > CALLS_MAX ? CALLS_MAX : (unsigned)n;
}

/* Half the time, the handle arguments of the notification calls are our
 * own objects (random ones, so often of the wrong type), so their deeper
 * paths run too (signal, wait, bind and deliver, signal-then-receive,
 * watch), not only the handle checks. */
static void aim(uint64_t r[13])
{
    uint64_t nr = r[0];
    if (nr < WD_SYS_notify_create || nr > WD_SYS_cap_watch || rnd() % 2 || !object_count)
        return;
    r[1] = objects[rnd() % object_count];
    if (nr == WD_SYS_notify_bind || nr == WD_SYS_ipc_signal_recv || nr == WD_SYS_cap_watch)
        r[2] = objects[rnd() % object_count];
}

/* One past the highest system call number in syscalls.def, so that every
 * call added later is fuzzed too. */
static uint64_t syscall_limit(void)
{
    static const uint64_t numbers[] = {
#define WD_SYSCALL(nr, name, args) (nr),
#define WD_SYSCALL_IPC(nr, name) (nr),
#include <warden/syscalls.def>
#undef WD_SYSCALL
#undef WD_SYSCALL_IPC
    };
    uint64_t limit = 0;
    for (size_t i = 0; i < sizeof numbers / sizeof numbers[0]; i++)
        if (numbers[i] + 1 > limit)
            limit = numbers[i] + 1;
    return limit;
}

/* Steers one call away from what would end the fuzzer; false to skip it. */
static bool make_safe(uint64_t r[13])
{
    uint64_t nr = r[0];
    if (nr == WD_SYS_process_exit || nr == WD_SYS_thread_exit)
        return false;
    if (nr == WD_SYS_debug_write)
        r[2] = 0;                               /* errors only: no random bytes on the console */
    if (nr == WD_SYS_process_kill && r[1] == WD_NULL)
        r[1] = 0xBAD;                           /* WD_NULL is the caller: never kill ourselves */
    if (nr == WD_SYS_thread_sleep)
        r[1] %= 2 * BT_MS;
    if (nr == WD_SYS_notify_wait && r[2] != WD_NO_WAIT)
        r[2] %= 2 * BT_MS;                      /* a short wait (0 stays a poll) */
    if (nr == WD_SYS_thread_create && !is_fuzz_object(r[2]))
        r[2] = 0xBAD;                           /* never a thread in our own process */
    if (nr == WD_SYS_vm_unmap && r[1] == WD_NULL)
        r[2] = FUZZ_WINDOW + (r[2] % FUZZ_WINDOW_SIZE);
    if (nr == WD_SYS_vm_map && r[1] == WD_NULL)
        r[4] = FUZZ_WINDOW + (r[4] % FUZZ_WINDOW_SIZE);
    if ((nr >= WD_SYS_ipc_call && nr <= WD_SYS_ipc_reply_recv) || nr == WD_SYS_ipc_signal_recv)
        r[8] = rnd() % 2 ? 0 : rnd() % (2 * BT_MS);   /* rbp: timeout, never long */
    return true;
}

void test_syscall_fuzzer(void)
{
    uint64_t seed = seed_from_cmdline();
    if (!seed)
        seed = (uint64_t)wd_time_now() ^ 0x9E3779B97F4A7C15ull;
    rng_state = seed ? seed : 1;
    printf("# fuzz seed 0x%llx (replay: boot with fuzzseed=0x%llx)\n", (unsigned long long)seed,
           (unsigned long long)seed);

    long pool = BT_OK(wd_pool_create(bt_pool(), 4ull << 20));
    add_object(pool);
    add_object(wd_endpoint_create((wd_handle_t)pool));
    add_object(wd_frame_create((wd_handle_t)pool, WD_PAGE_SIZE, 0));
    add_object(wd_process_create((wd_handle_t)pool, WD_NULL, 0, 0));
    add_object(wd_dmaspace_create((wd_handle_t)pool));     /* DMA calls (no device attached) */
    long notification = wd_notify_create((wd_handle_t)pool);
    BT_CHECK(notification > 0);
    add_object(notification);

    unsigned calls = calls_from_cmdline();
    unsigned counts[4] = { 0 };             /* ok, error, skipped, out of range */
    for (unsigned i = 0; i < calls; i++) {
        uint64_t r[13];
        r[0] = rnd() % 8 == 0 ? rnd() : rnd() % (syscall_limit() + 5);   /* every call, and a few past the last */
        for (int k = 1; k < 13; k++)
            r[k] = random_value();
        aim(r);
        if (!make_safe(r)) {
            counts[2]++;
            continue;
        }
        long result = raw_syscall(r);
        /* New handles in our own cspace (a copy or move into another process
         * returns a handle valid there, which may name one of our own slots). */
        bool copied_here = (r[0] == WD_SYS_cap_copy || r[0] == WD_SYS_cap_move) && r[2] == WD_NULL;
        if (result >= 0 && (r[0] == WD_SYS_endpoint_create || r[0] == WD_SYS_frame_create ||
                            r[0] == WD_SYS_pool_create || r[0] == WD_SYS_process_create ||
                            r[0] == WD_SYS_dmaspace_create || r[0] == WD_SYS_irq_create ||
                            r[0] == WD_SYS_notify_create || copied_here))
            add_object(result);
        if (result < -(long)WD_E_COUNT) {
            counts[3]++;
            printf("# call %u (nr %llu) returned %ld, not an error code\n", i, (unsigned long long)r[0], result);
        }
        counts[result >= 0 ? 0 : 1]++;
    }
    printf("# %u calls: %u succeeded, %u failed cleanly, %u skipped\n", calls, counts[0], counts[1], counts[2]);
    BT_CHECK_EQ(counts[3], 0);
    BT_CHECK(counts[1] > calls / 2);
    /* The kernel is up and still does its job. */
    long ep = BT_OK(wd_endpoint_create(bt_pool()));
    struct wd_msg msg = { .info = wd_msg_info(1, 0, 0) };
    BT_CHECK_EQ(wd_call((wd_handle_t)ep, &msg, WD_NO_WAIT), -WD_E_WOULD_BLOCK);
    long n = BT_OK(wd_notify_create(bt_pool()));
    BT_CHECK_EQ(wd_notify_signal((wd_handle_t)n, 0x5), 0);
    BT_CHECK_EQ(wd_notify_signal((wd_handle_t)n, 0x30), 0);
    BT_CHECK_EQ(wd_notify_poll((wd_handle_t)n), 0x35);
    BT_CHECK_EQ(wd_notify_wait((wd_handle_t)n, WD_NO_WAIT), -WD_E_WOULD_BLOCK);
    for (unsigned i = 0; i < object_count; i++)
        wd_cap_delete(objects[i]);
}
