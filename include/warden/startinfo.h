/*
 * warden/startinfo.h - the page every process finds at WD_START_INFO_ADDR
 * (read-only) when its first thread starts with rdi pointing to it. The
 * kernel builds it for init (boot modules, root pool, command line, the
 * kernel's own test results); a parent builds it for its children.
 */
#ifndef WARDEN_ABI_STARTINFO_H
#define WARDEN_ABI_STARTINFO_H

#include <warden/types.h>

#define WD_START_MAGIC 0x5241545344524157ull   /* "WARDSTAR" */
#define WD_START_INFO_ADDR 0x00007FFFFFF00000ull
#define WD_START_INFO_SIZE 0x2000ull
#define WD_STACK_TOP 0x00007FFFFFE00000ull     /* initial thread's stack grows down from here */
#define WD_STACK_SIZE 0x10000ull

#define WD_START_MAX_MODULES 32
#define WD_START_MAX_KTESTS 32
#define WD_START_MAX_CAPS 8

struct wd_module {
    wd_handle_t frame;              /* READ|MAP|GRANT frame holding the module */
    uint64_t size;                  /* bytes of the module (the frame is page-rounded) */
    char name[48];
};

struct wd_ktest_result {
    char name[40];
    int32_t status;                 /* 0 ok, 1 failed, 2 skipped */
    char note[20];
};

struct wd_start_info {
    uint64_t magic;
    wd_handle_t self_process;       /* CONTROL on itself */
    wd_handle_t self_thread;        /* init only (WD_NULL in spawned programs) */
    wd_handle_t pool;               /* ALLOC: what this process may spend */
    wd_handle_t registry;           /* SEND to init's name registry endpoint (WD_NULL in init) */
    wd_handle_t device_root;        /* init only: READ|CONTROL|GRANT on the device root */
    wd_handle_t console;            /* init only: READ|GRANT on the console's input (init gives it to the shell) */
    wd_handle_t inspector;          /* init only: READ|GRANT on the inspector (init gives it to the shell) */
    uint64_t process_id;
    char args[256];                 /* argv, space separated; args[0] is the program name */
    char cmdline[512];              /* the kernel command line (init; copied to children) */
    uint32_t cap_count;
    wd_handle_t caps[WD_START_MAX_CAPS]; /* passed by the parent; their meaning is per program */
    uint32_t module_count;
    uint32_t kernel_test_count;
    struct wd_module modules[WD_START_MAX_MODULES];
    struct wd_ktest_result kernel_tests[WD_START_MAX_KTESTS];
};

_Static_assert(sizeof(struct wd_start_info) <= WD_START_INFO_SIZE, "start info fits its pages");

#endif
