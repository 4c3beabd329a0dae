/*
 * init.h - the parts of init: its service loop (supervision + registry).
 */
#ifndef WARDEN_INIT_H
#define WARDEN_INIT_H

#include <stdbool.h>
#include <warden/abi.h>

#define SUPERVISOR_TIMER_BADGE 0x5300   /* the endpoint timer: restarts are due */

/* Serves endpoint forever; returns the harness child's exit status when it
 * ends (child == WD_NULL: never returns). */
int init_serve(wd_handle_t endpoint, wd_handle_t child, uint64_t child_badge);
/* Has init_serve kill the service process when it faults and log its exit
 * (messages with badge). name must stay valid. */
void init_supervise_service(wd_handle_t process, uint64_t badge, const char *name);

/* main.c: devmgr registered its name, so it has handed every driver and
 * service to the supervisor: init starts the shell (normal boot). */
void init_devmgr_ready(void);

#define REGISTRY_WATCH_BADGE 0x5200    /* the registry's watch notification */

/* registry.c: the name registry. */
void registry_init(wd_handle_t endpoint);
/* A registry request (or a supervisor request) in msg; the reply is filled in. */
void registry_request(struct wd_msg *msg);
/* Forgets the names registered through the registry capability with badge. */
void registry_drop_owner(uint64_t badge);
/* The watch notification came with bits: drop the entries whose endpoint ended. */
void registry_watch_fired(uint64_t bits);

/* supervisor.c: the driver supervisor (<warden/supervisor.h>). */
void supervisor_init(wd_handle_t endpoint);
/* A WD_SUPERVISOR_* request in msg: the result; reply words from w1 are filled. */
long supervisor_request(struct wd_msg *msg);
unsigned supervisor_reply_words(uint32_t label);
/* init's own start of a supervised service: spec as WD_SUPERVISOR_START, pool
 * (moved to the record), up to two more caps for its start info after the
 * device slot (moved too; deleted if it is refused); may_control lets it use
 * the control requests. */
long supervisor_start_local(const char *spec, wd_handle_t pool, const wd_handle_t *caps, unsigned cap_count,
                            bool may_control);
/* FAULT, EXIT or DMA_FAULT about a supervised driver (else false). */
bool supervisor_kernel_message(const struct wd_msg *msg);
/* The restart timer fired. */
void supervisor_timer(void);
/* A name was registered through the registry capability with badge. */
void supervisor_registered(uint64_t badge);

#endif
