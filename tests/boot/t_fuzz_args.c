/*
 * t_fuzz_args.c - the registers of one fuzzing process's calls: a value of
 * each argument's kind (t_fuzz_table.c), mostly a plausible one so the deep
 * paths run, often an edge (unaligned, past the end, the interrupt window,
 * beyond the IOMMU's width, unknown bits, stale handles); one call in
 * WRONG_KIND_ONE_IN has an argument of another kind, so the type checks run
 * too. The IPC calls get the register convention of ipc.h.
 *
 * Invariants (what keeps the fuzzing process alive):
 *   - a handle it passes is one of its objects (created, copied, granted by
 *     the parent, received), WD_NULL, stale, or a number that names none of
 *     the capabilities it was started with (its own process, its pool, the
 *     parent's endpoint): see harmless_handle();
 *   - the few calls that would end or wreck the process itself are steered
 *     or skipped (steer_away): exits, killing itself, threads in itself,
 *     vm_map/vm_unmap of itself outside FUZZ_WINDOW, console bytes;
 *   - a process or thread capability is never copied or moved into another
 *     process: two processes holding each other (a thread holds its
 *     process) are never destroyed, a kernel leak found while building this
 *     fuzzer and not fixed yet (reference counting collects no cycles; see
 *     docs/reliability.md), so the leak check would only ever report it;
 *   - a timeout is always short (at most SHORT_TIMEOUT_NS), whatever call
 *     declares it, and never gets a wrong-kind value;
 *   - what the kernel writes lands in `buffer` (or is refused): never in
 *     our other variables, never in frames we might map into a process we
 *     start threads in.
 */
#include <string.h>
#include <warden/syscalls.h>

#include "boot_tests.h"
#include "t_fuzz.h"

#define MAX_OBJECTS 48
#define MAX_OWN 8
#define GONE_HANDLES 8
#define WRONG_KIND_ONE_IN 4
#define SHORT_TIMEOUT_NS 2000000ull
#define NOT_OURS 0xDEAD0000FFFFull          /* a handle that names nothing */

struct known_cap {
    wd_handle_t handle;
    uint32_t type;
};

static uint64_t rng;
static struct known_cap objects[MAX_OBJECTS];
static unsigned object_count;
static struct known_cap shared[FUZZ_SHARED_OBJECTS];
static wd_handle_t own[MAX_OWN];            /* never named: what the process was started with */
static unsigned own_count;
static wd_handle_t gone[GONE_HANDLES];      /* deleted or evicted: stale handles to try */
static unsigned gone_next;
static uint8_t buffer[2 * WD_PAGE_SIZE] __attribute__((aligned(4096)));

static uint64_t rnd(void)
{
    return bt_random(&rng);
}

#define ONE_OF(array) ((array)[rnd() % (sizeof(array) / sizeof((array)[0]))])

/* Ours (WD_NULL never is: it means "the caller" where a process is asked,
 * and an empty shared place holds it). */
static const struct known_cap *find_known(wd_handle_t h)
{
    if (h == WD_NULL)
        return NULL;
    for (unsigned i = 0; i < object_count; i++)
        if (objects[i].handle == h)
            return &objects[i];
    for (unsigned i = 0; i < FUZZ_SHARED_OBJECTS; i++)
        if (shared[i].handle == h)
            return &shared[i];
    return NULL;
}

static bool is_known(wd_handle_t h)
{
    return find_known(h) != NULL;
}

static bool is_own(wd_handle_t h)
{
    for (unsigned i = 0; i < own_count; i++)
        if (own[i] == h)
            return true;
    return false;
}

/* Could h name a capability at all (slot 1..255, generation not 0)? */
static bool looks_like_handle(uint64_t h)
{
    return h >> 32 == 0 && WD_HANDLE_SLOT(h) != 0 && WD_HANDLE_SLOT(h) < WD_CSPACE_SLOTS &&
           WD_HANDLE_GENERATION(h) != 0;
}

static uint64_t harmless_handle(uint64_t h)
{
    return looks_like_handle(h) && is_own(h) && !is_known(h) ? NOT_OURS : h;
}

void fuzz_objects_reset(uint64_t seed, const wd_handle_t *own_caps, unsigned n)
{
    rng = seed ? seed : 1;
    object_count = 0;
    memset(shared, 0, sizeof shared);
    own_count = 0;
    for (unsigned i = 0; i < n && own_count < MAX_OWN; i++)
        if (own_caps[i])
            own[own_count++] = own_caps[i];
}

static void forget(wd_handle_t h)
{
    gone[gone_next++ % GONE_HANDLES] = h;
    for (unsigned i = 0; i < object_count; i++) {
        if (objects[i].handle == h) {
            objects[i] = objects[--object_count];
            return;
        }
    }
}

void fuzz_object_add(wd_handle_t h)
{
    struct wd_cap_info info;
    if (!looks_like_handle(h) || is_known(h) || is_own(h) || wd_cap_info(h, &info) < 0)
        return;
    if (object_count == MAX_OBJECTS) {      /* full: let one go, so the cspace does not fill up */
        unsigned victim = rnd() % MAX_OBJECTS;
        wd_cap_delete(objects[victim].handle);
        forget(objects[victim].handle);
    }
    objects[object_count++] = (struct known_cap){ h, info.type };
}

void fuzz_object_set_shared(unsigned which, wd_handle_t h)
{
    struct wd_cap_info info;
    if (which < FUZZ_SHARED_OBJECTS)
        shared[which] = (struct known_cap){ h, wd_cap_info(h, &info) == 0 ? info.type : WD_TYPE_NONE };
}

/* One of our objects, of type `type` when we have one (WD_TYPE_NONE: any). */
static wd_handle_t pick_object(uint32_t type)
{
    wd_handle_t typed[MAX_OBJECTS + FUZZ_SHARED_OBJECTS], any[MAX_OBJECTS + FUZZ_SHARED_OBJECTS];
    unsigned n_typed = 0, n_any = 0;
    for (unsigned i = 0; i < object_count + FUZZ_SHARED_OBJECTS; i++) {
        const struct known_cap *k = i < object_count ? &objects[i] : &shared[i - object_count];
        if (!k->handle)
            continue;
        any[n_any++] = k->handle;
        if (type == WD_TYPE_NONE || k->type == type)
            typed[n_typed++] = k->handle;
    }
    return n_typed ? typed[rnd() % n_typed] : n_any ? any[rnd() % n_any] : WD_NULL;
}

static uint64_t handle_value(uint32_t type)
{
    wd_handle_t h;
    if (type == WD_TYPE_PROCESS && rnd() % 4 == 0)
        return WD_NULL;                                    /* the caller (syscalls.def) */
    switch (rnd() % 50) {
    case 0 ... 34: return pick_object(type);
    case 35 ... 41: return pick_object(WD_TYPE_NONE);      /* often the wrong type */
    case 42: return WD_NULL;
    case 43 ... 44: return gone[rnd() % GONE_HANDLES];     /* deleted: stale */
    case 45: return pick_object(WD_TYPE_NONE) + (1ull << 16);   /* a newer generation: stale */
    case 46 ... 47: h = (rnd() % 300) | ((rnd() % 4) << 16); break;
    default: h = rnd() % 2 ? rnd() : pick_object(type) | (1ull << (32 + rnd() % 32)); break;
    }
    return harmless_handle(h);
}

/* Outputs land strictly inside buffer or are refused: the pointers near an
 * edge for outputs are below or across pages we cannot write. */
static uint64_t pointer_value(bool output)
{
    static const uint64_t bad[] = {
        0, 1, 0xFFF, 0x1000, 0xFFFF800000000000ull, 0xFFFFFFFF80000000ull, 0xFFFFFFFFFFFFF000ull,
        0x0000800000000000ull, 0x8000000000000000ull, 0x00007FFFFFFFF000ull, 0x00007FFFFFFFFFF8ull,
        0x0000700000000000ull, 0x0000000000400000ull /* our read-only text */,
        WD_START_INFO_ADDR + WD_START_INFO_SIZE - 8 /* read-only, then nothing */,
        WD_STACK_TOP - WD_STACK_SIZE - 8 /* across the bottom of our stack */,
    };
    uint64_t base = (uint64_t)buffer;
    switch (rnd() % 10) {
    case 0 ... 3: return base;
    case 4 ... 6: return base + rnd() % WD_PAGE_SIZE;        /* outputs (at most a page) stay inside buffer */
    case 7: return output ? base + 8 * (rnd() % 512) : base + sizeof buffer - 1 - rnd() % 64;
    case 8: return output ? ONE_OF(bad) : rnd() % 2 ? (uint64_t)"fuzzed-name-0123" : FUZZ_WINDOW + rnd() % 65536;
    default: return ONE_OF(bad);
    }
}

static uint64_t length_value(void)
{
    static const uint64_t odd[] = {
        0, 1, 2, 4, 8, 15, 16, 255, 4095, 4097, 0x10000, 0x1FF000, 0x200000, 0x201000,
        WD_FRAME_MAX_BYTES, WD_FRAME_MAX_BYTES + WD_PAGE_SIZE, 1ull << 32, 1ull << 63, ~0ull, ~0ull - 4095,
    };
    switch (rnd() % 8) {
    case 0 ... 3: return WD_PAGE_SIZE * (1 + rnd() % 4);
    case 4: case 5: return WD_PAGE_SIZE * (1 + rnd() % 64);
    case 6: return ONE_OF(odd);
    default: return rnd() % 64;
    }
}

static uint64_t rights_value(void)
{
    switch (rnd() % 20) {
    case 0 ... 5: return WD_RIGHT_READ | WD_RIGHT_WRITE;   /* what vm_map, dma_map and copies take */
    case 6 ... 8: return WD_RIGHT_READ;
    case 9: return WD_RIGHT_WRITE;
    case 10: return WD_RIGHT_READ | (rnd() & (WD_RIGHT_WRITE | WD_RIGHT_EXEC));
    case 11 ... 12: return rnd() & WD_RIGHTS_ALL;
    case 13 ... 14: return WD_RIGHTS_ALL;
    case 15 ... 16: return WD_RIGHTS_ALL & ~(1ull << (rnd() % 10));
    case 17: return 1ull << (rnd() % 10);
    default: return (rnd() & WD_RIGHTS_ALL) | (1ull << (10 + rnd() % 54));          /* unknown bits */
    }
}

static uint64_t flags_value(void)
{
    switch (rnd() % 8) {
    case 0 ... 5: return 0;
    case 6: return rnd() & (WD_FRAME_KNOWN_FLAGS | WD_FRAME_MMIO);
    default: return 1ull << (rnd() % 64);
    }
}

static uint64_t bits_value(void)
{
    switch (rnd() % 6) {
    case 0: return 1ull << (rnd() % 63);
    case 1: return rnd() & WD_NOTIFY_BITS;
    case 2: return rnd() % 16;
    case 3: return WD_NOTIFY_BITS;
    case 4: return 0;
    default: return 1ull << 63 | rnd() % 4;                 /* bit 63: not a notification bit */
    }
}

/* Within a frame of a few pages mostly; past its end, unaligned, wrapping. */
static uint64_t offset_value(void)
{
    static const uint64_t odd[] = { 1, 8, 4095, 4097, 0x200000, WD_FRAME_MAX_BYTES, 1ull << 63, ~0ull - 4095 };
    switch (rnd() % 8) {
    case 0 ... 3: return 0;
    case 4 ... 5: return WD_PAGE_SIZE * (1 + rnd() % 4);
    case 6: return WD_PAGE_SIZE * (rnd() % 1024);
    default: return ONE_OF(odd);
    }
}

static uint64_t address_value(void)
{
    static const uint64_t edges[] = {
        0, WD_PAGE_SIZE, 0xFEE00000ull, 0xFEE00000ull - WD_PAGE_SIZE, 0xFEEFF000ull, 0xFEF00000ull,
        (1ull << 39) - WD_PAGE_SIZE, 1ull << 39, (1ull << 48) - WD_PAGE_SIZE, 1ull << 48, 1ull << 57,
        WD_USER_MAX, WD_USER_MAX + WD_PAGE_SIZE, 0x0000800000000000ull, 0xFFFF800000000000ull, ~0ull - 4095,
    };
    switch (rnd() % 20) {
    case 0 ... 5: return WD_PAGE_SIZE * (rnd() % 4);      /* low IOVAs and config offsets */
    case 6 ... 8: return FUZZ_WINDOW + WD_PAGE_SIZE * (rnd() % 16);
    case 9 ... 10: return WD_PAGE_SIZE * (rnd() % 64);
    case 11 ... 12: return 0x200000ull * (rnd() % 8);      /* 2 MiB aligned */
    case 13 ... 15: return ONE_OF(edges);                  /* the interrupt window, the width, user space's end */
    case 16 ... 17: return ONE_OF(edges) + 1 + rnd() % 4095;   /* unaligned */
    case 18: return rnd() % 0x10000;                       /* small: PCI addresses, config offsets */
    default: return rnd() & ~(WD_PAGE_SIZE - 1);
    }
}

static uint64_t timeout_value(void)
{
    return rnd() % 3 == 0 ? WD_NO_WAIT : 1 + rnd() % SHORT_TIMEOUT_NS;
}

static uint64_t index_value(void)
{
    static const uint64_t odd[] = {
        WD_PRIORITY_MAX, WD_PRIORITY_MAX + 1, WD_IRQ_MSI(0), WD_IRQ_MSIX(1), WD_IRQ_INTX, WD_IRQ_ISA(4),
        0xFFFF, ~0ull,
    };
    switch (rnd() % 4) {
    case 0: case 1: return rnd() % 8;
    case 2: return rnd() % 64;
    default: return ONE_OF(odd);
    }
}

static uint64_t badge_value(void)
{
    static const uint64_t odd[] = { 0, 1, 0xB0, ~0ull, 1ull << 63 };
    return rnd() % 2 ? ONE_OF(odd) : rnd() % 4 ? rnd() % 256 : rnd();
}

/* A value of any kind: a wrong-kind argument, or an argument of no known kind. */
static uint64_t any_value(void)
{
    switch (rnd() % 10) {
    case 0: return 0;
    case 1: return rnd() % 16;
    case 2: return WD_PAGE_SIZE * (rnd() % 64);
    case 3: return ~0ull;
    case 4: return 1ull << (rnd() % 64);
    case 5: return pointer_value(true);
    case 6: return handle_value(WD_TYPE_NONE);
    case 7: return address_value();
    case 8: return length_value();
    default: return rnd();
    }
}

static uint64_t value_of_kind(const struct fuzz_arg *a, bool wrong_kind)
{
    if (wrong_kind && a->kind != FUZZ_TIMEOUT)
        return any_value();
    switch (a->kind) {
    case FUZZ_HANDLE: return handle_value(a->object_type);
    case FUZZ_POINTER_OUT: return pointer_value(true);
    case FUZZ_POINTER_IN: return pointer_value(false);
    case FUZZ_LENGTH: return length_value();
    case FUZZ_RIGHTS: return rights_value();
    case FUZZ_FLAGS: return flags_value();
    case FUZZ_BITS: return bits_value();
    case FUZZ_OFFSET: return offset_value();
    case FUZZ_ADDRESS: return address_value();
    case FUZZ_TIMEOUT: return timeout_value();
    case FUZZ_INDEX: return index_value();
    case FUZZ_BADGE: return badge_value();
    default: return any_value();
    }
}

/* The IPC info word: label, word and cap counts, MOVE_CAPS, now and then unknown bits. */
static uint64_t ipc_info_value(void)
{
    uint64_t label = rnd() % 4 ? rnd() % 16 : rnd() % 4 ? (uint32_t)rnd() : WD_LABEL_KERNEL + rnd() % 8;
    uint64_t nwords = rnd() % 8 ? rnd() % (WD_MSG_WORDS + 1) : rnd() % 16;
    uint64_t ncaps = rnd() % 2 ? 0 : rnd() % 4 ? 1 + rnd() % WD_MSG_CAPS : rnd() % 8;
    uint64_t info = label | nwords << WD_MSG_NWORDS_SHIFT | ncaps << WD_MSG_NCAPS_SHIFT;
    if (rnd() % 8 == 0)
        info |= WD_MSG_MOVE_CAPS;
    if (rnd() % 16 == 0)
        info |= 1ull << (41 + rnd() % 23);
    return info;
}

/* The caps the kernel reads at rbx: our objects (or harmless numbers), never memory we do not control. */
static uint64_t ipc_caps_pointer(void)
{
    if (rnd() % 5 == 0)
        return rnd() % 2 ? 0 : 0xFFFF800000000000ull;
    uint64_t *caps = (uint64_t *)(buffer + 8 * (rnd() % 16));
    for (unsigned i = 0; i < WD_MSG_CAPS; i++)
        caps[i] = handle_value(WD_TYPE_NONE);
    return (uint64_t)caps;
}

static void ipc_registers(uint64_t r[13])
{
    static const int data[] = { 3, 4, 5, 6, 9, 10, 11, 12 };     /* rdx r10 r8 r9 r12 r13 r14 r15 */
    bool wrong = rnd() % WRONG_KIND_ONE_IN == 0, wrong_endpoint = wrong && rnd() % 2;
    r[1] = harmless_handle(wrong_endpoint ? any_value() : handle_value(WD_TYPE_ENDPOINT));
    for (unsigned i = 0; i < sizeof data / sizeof data[0]; i++)
        r[data[i]] = rnd() % 4 ? rnd() % 256 : any_value();
    if (r[0] == WD_SYS_ipc_signal_recv) {
        r[2] = harmless_handle(handle_value(WD_TYPE_NOTIFICATION));
        r[3] = bits_value();
    } else {
        r[2] = wrong && !wrong_endpoint ? any_value() : ipc_info_value();
    }
    r[7] = ipc_caps_pointer();
    r[8] = timeout_value();
}

/* Steers a call away from what would end or wreck the fuzzing process; false to skip it. */
static bool steer_away(uint64_t r[13])
{
    uint64_t nr = r[0];
    if (nr == WD_SYS_process_exit || nr == WD_SYS_thread_exit)
        return false;
    if (nr == WD_SYS_debug_write)
        r[2] = 0;                               /* errors only: no random bytes on the console */
    if (nr == WD_SYS_process_kill && r[1] == WD_NULL)
        r[1] = NOT_OURS;                        /* WD_NULL is the caller: never kill ourselves */
    if (nr == WD_SYS_thread_create && !is_known(r[2]))
        r[2] = NOT_OURS;                        /* never a thread in our own process */
    const struct known_cap *cap = find_known(r[1]);
    if ((nr == WD_SYS_cap_copy || nr == WD_SYS_cap_move) && r[2] != WD_NULL && cap &&
        (cap->type == WD_TYPE_PROCESS || cap->type == WD_TYPE_THREAD))
        r[2] = WD_NULL;                         /* no process holds another: a cycle is never freed */
    if (nr == WD_SYS_vm_unmap && r[1] == WD_NULL)
        r[2] = FUZZ_WINDOW + (r[2] % FUZZ_WINDOW_SIZE);
    if (nr == WD_SYS_vm_map && r[1] == WD_NULL)
        r[4] = FUZZ_WINDOW + (r[4] % FUZZ_WINDOW_SIZE);
    return true;
}

const struct fuzz_call *fuzz_make_call(uint64_t r[13], bool *skip)
{
    r[0] = rnd() % 16 == 0 ? rnd() : rnd() % (fuzz_syscall_limit() + 3);  /* every call, a few past the last */
    const struct fuzz_call *call = fuzz_call_by_nr(r[0]);
    for (int k = 1; k < 13; k++)
        r[k] = any_value();                     /* registers the call does not read */
    if (call && call->ipc) {
        ipc_registers(r);
    } else if (call) {
        /* One call in WRONG_KIND_ONE_IN has an argument of another kind (one in 8 of those, all of them). */
        bool wrong = call->argc && rnd() % WRONG_KIND_ONE_IN == 0, all_wrong = wrong && rnd() % 8 == 0;
        unsigned wrong_at = wrong ? (unsigned)(rnd() % call->argc) : FUZZ_MAX_ARGS;
        for (unsigned k = 0; k < call->argc; k++) {
            uint64_t v = value_of_kind(&call->args[k], all_wrong || k == wrong_at);
            r[1 + k] = call->args[k].kind == FUZZ_HANDLE ? harmless_handle(v) : v;
        }
    }
    *skip = !steer_away(r);
    return call;
}

static bool receives_caps(uint64_t nr)
{
    return nr == WD_SYS_ipc_call || nr == WD_SYS_ipc_recv || nr == WD_SYS_ipc_reply_recv ||
           nr == WD_SYS_ipc_signal_recv;
}

/* After a handle error: our handles that name nothing any more (revoked,
 * moved or deleted under us) are forgotten. After DEAD: our capabilities
 * to dead processes go, so most calls name live ones. */
static void forget_dead_handles(const struct fuzz_call *call, const uint64_t sent[13], long result)
{
    struct wd_cap_info info;
    for (unsigned k = 0; call && !call->ipc && k < call->argc; k++) {
        wd_handle_t h = sent[1 + k];
        if (call->args[k].kind != FUZZ_HANDLE || !h || !is_known(h))
            continue;
        long r = wd_cap_info(h, &info);
        if (r < 0 || (result == -WD_E_DEAD && (info.flags & WD_CAP_DEAD) && wd_cap_delete(h) == 0))
            forget(h);
    }
}

void fuzz_learn_result(const struct fuzz_call *call, const uint64_t sent[13], const uint64_t back[13],
                       long result)
{
    if (result == -WD_E_STALE_HANDLE || result == -WD_E_BAD_HANDLE || result == -WD_E_DEAD)
        forget_dead_handles(call, sent, result);
    if (!call || result < 0)
        return;
    if (call->ipc) {
        uint64_t at = sent[7], end = (uint64_t)buffer + sizeof buffer;
        if (receives_caps(call->nr) && at >= (uint64_t)buffer && at + 8 * WD_MSG_CAPS <= end) {
            unsigned n = wd_msg_ncaps(back[2]);
            for (unsigned i = 0; i < n && i < WD_MSG_CAPS; i++)
                fuzz_object_add(((const wd_handle_t *)at)[i]);
        }
        return;
    }
    if ((call->nr == WD_SYS_cap_delete || call->nr == WD_SYS_cap_move) && is_known(sent[1]))
        forget(sent[1]);
    fuzz_object_add((wd_handle_t)result);       /* a new handle here, whatever call made it */
}
