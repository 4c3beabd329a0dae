/*
 * t_fuzz_table.c - the fuzzer's call table, expanded from
 * <warden/syscalls.def> like libc/syscalls.c and kernel/syscall/dispatch.c
 * expand it: each call's number, name and arguments (declared type and
 * name as strings). fuzz_table_build() classifies every argument once into
 * a kind, from its type (wd_handle_t, pointers, const pointers) and, for
 * numbers, from its name (len, rights, offset, iova, timeout, badge ...), so a
 * call added to syscalls.def is fuzzed with typed arguments without any
 * edit here. Handles also get the object type their name asks for
 * (process, pool, frame ...), so most of them name an object of that type.
 */
#include <stdio.h>
#include <string.h>

#include "t_fuzz.h"

#define FUZZ_ARG(t, a) { #t, #a, FUZZ_NUMBER, WD_TYPE_NONE }
#define WD_ARGS0() 0, { FUZZ_ARG(void, none) }
#define WD_ARGS1(t1, a1) 1, { FUZZ_ARG(t1, a1) }
#define WD_ARGS2(t1, a1, t2, a2) 2, { FUZZ_ARG(t1, a1), FUZZ_ARG(t2, a2) }
#define WD_ARGS3(t1, a1, t2, a2, t3, a3) 3, { FUZZ_ARG(t1, a1), FUZZ_ARG(t2, a2), FUZZ_ARG(t3, a3) }
#define WD_ARGS4(t1, a1, t2, a2, t3, a3, t4, a4) \
    4, { FUZZ_ARG(t1, a1), FUZZ_ARG(t2, a2), FUZZ_ARG(t3, a3), FUZZ_ARG(t4, a4) }
#define WD_ARGS5(t1, a1, t2, a2, t3, a3, t4, a4, t5, a5) \
    5, { FUZZ_ARG(t1, a1), FUZZ_ARG(t2, a2), FUZZ_ARG(t3, a3), FUZZ_ARG(t4, a4), FUZZ_ARG(t5, a5) }
#define WD_ARGS6(t1, a1, t2, a2, t3, a3, t4, a4, t5, a5, t6, a6)                                   \
    6, { FUZZ_ARG(t1, a1), FUZZ_ARG(t2, a2), FUZZ_ARG(t3, a3), FUZZ_ARG(t4, a4), FUZZ_ARG(t5, a5), \
         FUZZ_ARG(t6, a6) }

static struct fuzz_call calls[] = {
#define WD_SYSCALL(nr, name, args) { (nr), #name, false, args },
#define WD_SYSCALL_IPC(nr, name) { (nr), #name, true, 0, { FUZZ_ARG(void, none) } },
#include <warden/syscalls.def>
#undef WD_SYSCALL
#undef WD_SYSCALL_IPC
};
#define CALL_COUNT (sizeof calls / sizeof calls[0])

static const char *const kind_names[FUZZ_KIND_COUNT] = {
    [FUZZ_HANDLE] = "handle", [FUZZ_POINTER_OUT] = "pointer-out", [FUZZ_POINTER_IN] = "pointer-in",
    [FUZZ_LENGTH] = "length", [FUZZ_RIGHTS] = "rights", [FUZZ_FLAGS] = "flags", [FUZZ_BITS] = "bits",
    [FUZZ_OFFSET] = "offset", [FUZZ_ADDRESS] = "address", [FUZZ_TIMEOUT] = "timeout", [FUZZ_INDEX] = "index",
    [FUZZ_BADGE] = "badge", [FUZZ_NUMBER] = "number",
};

const char *fuzz_kind_name(enum fuzz_kind kind)
{
    return kind < FUZZ_KIND_COUNT ? kind_names[kind] : "?";
}

/* name is word, or ends in _word, or starts with word_ (fault_badge is a badge). */
static bool name_is(const char *name, const char *word)
{
    size_t n = strlen(name), w = strlen(word);
    if (n == w)
        return strcmp(name, word) == 0;
    if (n > w && name[n - w - 1] == '_' && strcmp(name + n - w, word) == 0)
        return true;
    return n > w && name[w] == '_' && strncmp(name, word, w) == 0;
}

static bool name_in(const char *name, const char *const *words)
{
    for (; *words; words++)
        if (name_is(name, *words))
            return true;
    return false;
}

static const char *const length_words[] = { "len", "length", "size", "budget", "count", "width", NULL };
static const char *const address_words[] = { "iova", "vaddr", "address", "addr", "entry", "stack", "start",
                                             "end", "fixup", NULL };
static const char *const timeout_words[] = { "timeout", "ns", NULL };
static const char *const index_words[] = { "index", "bar", "kind", "id", "priority", NULL };

static enum fuzz_kind number_kind(const char *name)
{
    if (name_in(name, length_words))
        return FUZZ_LENGTH;
    if (name_is(name, "rights"))
        return FUZZ_RIGHTS;
    if (name_is(name, "flags"))
        return FUZZ_FLAGS;
    if (name_is(name, "bits"))
        return FUZZ_BITS;
    if (name_is(name, "offset"))
        return FUZZ_OFFSET;
    if (name_in(name, address_words))
        return FUZZ_ADDRESS;
    if (name_in(name, timeout_words))
        return FUZZ_TIMEOUT;
    if (name_in(name, index_words))
        return FUZZ_INDEX;
    if (name_is(name, "badge"))
        return FUZZ_BADGE;
    return FUZZ_NUMBER;
}

static const struct {
    const char *word;
    uint32_t type;
} handle_words[] = {
    { "process", WD_TYPE_PROCESS }, { "pool", WD_TYPE_POOL }, { "parent", WD_TYPE_POOL },
    { "endpoint", WD_TYPE_ENDPOINT }, { "frame", WD_TYPE_FRAME }, { "notification", WD_TYPE_NOTIFICATION },
    { "dmaspace", WD_TYPE_DMASPACE }, { "device", WD_TYPE_DEVICE }, { "source", WD_TYPE_DEVICE },
    { "root", WD_TYPE_DEVICE_ROOT }, { "irq", WD_TYPE_IRQ }, { "thread", WD_TYPE_THREAD },
    { "console", WD_TYPE_CONSOLE }, { "inspector", WD_TYPE_INSPECTOR },
};

static uint32_t handle_type(const char *name)
{
    for (size_t i = 0; i < sizeof handle_words / sizeof handle_words[0]; i++)
        if (name_is(name, handle_words[i].word))
            return handle_words[i].type;
    return WD_TYPE_NONE;            /* "cap": any capability */
}

static void classify(struct fuzz_arg *a)
{
    if (strchr(a->type, '*'))
        a->kind = strncmp(a->type, "const ", 6) == 0 ? FUZZ_POINTER_IN : FUZZ_POINTER_OUT;
    else if (strcmp(a->type, "wd_handle_t") == 0)
        a->kind = FUZZ_HANDLE, a->object_type = handle_type(a->name);
    else
        a->kind = number_kind(a->name);
}

void fuzz_table_build(bool print)
{
    unsigned per_kind[FUZZ_KIND_COUNT] = { 0 }, args = 0, ipc = 0, typed_handles = 0;
    for (size_t i = 0; i < CALL_COUNT; i++) {
        ipc += calls[i].ipc;
        for (unsigned k = 0; k < calls[i].argc; k++, args++) {
            classify(&calls[i].args[k]);
            per_kind[calls[i].args[k].kind]++;
            typed_handles += calls[i].args[k].kind == FUZZ_HANDLE && calls[i].args[k].object_type != WD_TYPE_NONE;
        }
    }
    if (!print)
        return;
    char line[400];
    int n = snprintf(line, sizeof line, "# fuzz table from syscalls.def: %u calls (%u IPC), %u arguments:",
                     (unsigned)CALL_COUNT, ipc, args);
    for (unsigned k = 0; k < FUZZ_KIND_COUNT && n < (int)sizeof line; k++)
        n += snprintf(line + n, sizeof line - n, "%s %u %s", k ? "," : "", per_kind[k], kind_names[k]);
    if (n < (int)sizeof line)
        snprintf(line + n, sizeof line - n, " (%u of the handles typed by their name)", typed_handles);
    printf("%s\n", line);
}

const struct fuzz_call *fuzz_call_by_nr(uint64_t nr)
{
    for (size_t i = 0; i < CALL_COUNT; i++)
        if (calls[i].nr == nr)
            return &calls[i];
    return NULL;
}

uint64_t fuzz_syscall_limit(void)
{
    uint64_t limit = 0;
    for (size_t i = 0; i < CALL_COUNT; i++)
        if (calls[i].nr + 1 > limit)
            limit = calls[i].nr + 1;
    return limit;
}

uint64_t fuzz_derive_seed(uint64_t seed, uint64_t index)
{
    uint64_t z = seed + 0x9E3779B97F4A7C15ull * (index + 1);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    z ^= z >> 31;
    return z ? z : 1;
}
