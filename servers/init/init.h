/*
 * init.h - the parts of init: its service loop (supervision + registry).
 */
#ifndef WARDEN_INIT_H
#define WARDEN_INIT_H

#include <warden/abi.h>

/* Serves endpoint forever; returns the harness child's exit status when it
 * ends (child == WD_NULL: never returns). */
int init_serve(wd_handle_t endpoint, wd_handle_t child, uint64_t child_badge);
/* Has init_serve kill the service process when it faults and log its exit
 * (messages with badge). name must stay valid. */
void init_supervise_service(wd_handle_t process, uint64_t badge, const char *name);

#endif
