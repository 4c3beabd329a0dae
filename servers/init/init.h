/*
 * init.h - the parts of init: its service loop (supervision + registry).
 */
#ifndef WARDEN_INIT_H
#define WARDEN_INIT_H

#include <warden/abi.h>

/* Serves endpoint forever; returns the harness child's exit status when it
 * ends (child == WD_NULL: never returns). */
int init_serve(wd_handle_t endpoint, wd_handle_t child, uint64_t child_badge);

#endif
