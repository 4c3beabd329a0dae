/*
 * warden/spawn.h - starting a program from an ELF image in a frame (a boot
 * module) as a new process: the one loader user space uses (init, the test
 * runner, later devmgr).
 */
#ifndef WARDEN_LIBC_SPAWN_H
#define WARDEN_LIBC_SPAWN_H

#include <warden/abi.h>

struct wd_spawn {
    const char *args;               /* "name arg1 arg2": becomes argv */
    wd_handle_t image;              /* frame holding the ELF (READ|MAP) */
    uint64_t image_size;
    wd_handle_t pool;               /* pays for everything; copied to the child as its pool */
    wd_handle_t fault_endpoint;     /* faults and exit are reported here (may be WD_NULL) */
    uint64_t fault_badge;
    wd_handle_t registry;           /* copied to the child (may be WD_NULL) */
    unsigned cap_count;             /* caps copied into the child's start info caps[] */
    wd_handle_t caps[WD_START_MAX_CAPS];
    uint32_t cap_rights[WD_START_MAX_CAPS]; /* rights of each copy (0: the caller's); fewer than the caller
                                               holds hands a child least privilege (say, a device without GRANT) */
    bool pass_modules;              /* copy the caller's module list to the child */
    uint32_t priority;              /* 0: WD_PRIORITY_DEFAULT */
};

#define WD_PRIORITY_DEFAULT 16

/* Loads and starts the program. Returns the child's process handle (in the
 * caller's cspace, all rights) or -WD_E_*; *thread_out (may be NULL) gets
 * its first thread. On failure nothing of the child is left. */
long wd_spawn(const struct wd_spawn *s, wd_handle_t *thread_out);

/* The start-info module named name, or NULL. */
const struct wd_module *wd_find_module(const char *name);

#endif
