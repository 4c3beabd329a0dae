/*
 * t_fuzz.h - what the syscall fuzzer's files share (t_fuzz.c the parent,
 * t_fuzz_child.c a fuzzing process, t_fuzz_table.c the call table from
 * syscalls.def, t_fuzz_args.c the argument values):
 *
 *   - the table: every call of <warden/syscalls.def> with its arguments'
 *     declared types and names, each argument classified once into a kind;
 *   - the board: one frame the parent shares with every fuzzing child, where
 *     each child keeps its counts (so a killed child's calls still count)
 *     and the parent leaves the handles of the objects it granted it.
 */
#ifndef WARDEN_T_FUZZ_H
#define WARDEN_T_FUZZ_H

#include <stdbool.h>
#include <stdint.h>
#include <warden/abi.h>

/* ---- the call table (t_fuzz_table.c) ---- */

enum fuzz_kind {
    FUZZ_HANDLE,            /* wd_handle_t */
    FUZZ_POINTER_OUT,       /* a pointer the kernel writes */
    FUZZ_POINTER_IN,        /* a const pointer the kernel reads */
    FUZZ_LENGTH,            /* len, size, budget, width ... */
    FUZZ_RIGHTS,            /* rights: WD_RIGHT_* */
    FUZZ_FLAGS,             /* flags */
    FUZZ_BITS,              /* notification bits */
    FUZZ_OFFSET,            /* offset: within an object */
    FUZZ_ADDRESS,           /* iova, vaddr, address, entry, stack ... */
    FUZZ_TIMEOUT,           /* timeout, ns: always short (never a wrong-kind value) */
    FUZZ_INDEX,             /* index, bar, kind, id, priority */
    FUZZ_BADGE,             /* badge */
    FUZZ_NUMBER,            /* anything else (status, value, arg) */
    FUZZ_KIND_COUNT
};

struct fuzz_arg {
    const char *type, *name;        /* as declared in syscalls.def */
    enum fuzz_kind kind;
    uint32_t object_type;           /* handles: the WD_TYPE_* the name asks for (NONE: any) */
};

#define FUZZ_MAX_ARGS 6

struct fuzz_call {
    uint64_t nr;
    const char *name;
    bool ipc;                       /* WD_SYSCALL_IPC: the register convention of ipc.h */
    unsigned argc;
    struct fuzz_arg args[FUZZ_MAX_ARGS];
};

/* Classifies every argument (once per process); print: one line of counts. */
void fuzz_table_build(bool print);
/* The call numbered nr, or NULL (a number past the table). */
const struct fuzz_call *fuzz_call_by_nr(uint64_t nr);
/* One past the highest number in syscalls.def. */
uint64_t fuzz_syscall_limit(void);
const char *fuzz_kind_name(enum fuzz_kind kind);

/* ---- random numbers ---- */

/* A seed for the index'th stream derived from seed (splitmix64). */
uint64_t fuzz_derive_seed(uint64_t seed, uint64_t index);

/* ---- the board shared by the parent and its children ---- */

#define FUZZ_MAX_CHILDREN 8
#define FUZZ_SHARED_OBJECTS 4       /* an endpoint, a notification, a frame, a dmaspace */

struct fuzz_counts {
    uint64_t succeeded, failed, skipped;
    uint64_t not_error;             /* results below -WD_E_COUNT: neither success nor an error */
};

struct fuzz_slot {
    struct fuzz_counts counts;      /* written by the child after every call */
    uint64_t succeeded_calls[2];    /* bit nr: that call succeeded at least once */
    uint64_t first_not_error_nr;
    int64_t first_not_error;
    uint64_t last_call[13];         /* the registers of the call made last (a hang names it) */
    uint64_t grant_generation;      /* bumped by the parent after it wrote grants[] */
    wd_handle_t grants[FUZZ_SHARED_OBJECTS];    /* handles valid in the child (0: none) */
};

struct fuzz_board {
    uint64_t stop;                  /* set by the parent: children exit */
    struct fuzz_slot slots[FUZZ_MAX_CHILDREN];
};

/* The fuzzing child (t_fuzz_child.c): argv = helper fuzz-child <slot> <seed>,
 * caps[0] the board frame, caps[1] a SEND copy of the parent's endpoint
 * (when it closes, the parent is gone and the child stops). */
int bt_fuzz_child_main(int argc, char **argv);

/* ---- arguments (t_fuzz_args.c), for one fuzzing process ---- */

#define FUZZ_WINDOW 0x0000600000000000ull     /* where vm_map/vm_unmap of ourselves may act */
#define FUZZ_WINDOW_SIZE (1ull << 20)    /* small: maps and unmaps meet */

/* The capabilities a fuzzing process may name: its own objects and those
 * it was granted or received, never own_caps (what it was started with). */
void fuzz_objects_reset(uint64_t seed, const wd_handle_t *own_caps, unsigned n);
void fuzz_object_add(wd_handle_t h);
/* A new grant from the parent in one of the FUZZ_SHARED_OBJECTS places. */
void fuzz_object_set_shared(unsigned which, wd_handle_t h);

/* Fills r[0..12] (rax, rdi, rsi, rdx, r10, r8, r9, rbx, rbp, r12..r15)
 * for a random call with typed arguments; returns the call (NULL for a
 * number past the table), or sets *skip when the call would end or wreck
 * the fuzzing process itself. */
const struct fuzz_call *fuzz_make_call(uint64_t r[13], bool *skip);
/* Learns the handles a call gave us (created objects, copies, received caps). */
void fuzz_learn_result(const struct fuzz_call *call, const uint64_t sent[13], const uint64_t back[13],
                       long result);

#endif
