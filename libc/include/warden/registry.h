/*
 * warden/registry.h - init's name registry: servers register an endpoint
 * under a name, clients look it up. The protocol (labels and message
 * layout) and the client calls. A name is at most WD_NAME_MAX bytes.
 */
#ifndef WARDEN_LIBC_REGISTRY_H
#define WARDEN_LIBC_REGISTRY_H

#include <warden/abi.h>

#define WD_NAME_MAX 48
#define WD_REGISTRY_REGISTER 1      /* w0 = length, w1.. = name; caps[0] = endpoint (GRANT) */
#define WD_REGISTRY_LOOKUP 2        /* w0 = length, w1.. = name; reply caps[0] = endpoint,
                                       w1 = the name's generation (registrations of it so far) */

/* 0 or -WD_E_* (EXISTS: name taken; NOT_FOUND). */
long wd_name_register(wd_handle_t registry, const char *name, wd_handle_t endpoint);
long wd_name_lookup(wd_handle_t registry, const char *name, wd_handle_t *endpoint);
/* The same, also giving the generation: it grows each time the name is
 * registered again (a restarted server), so a client can tell incarnations apart. */
long wd_name_lookup_generation(wd_handle_t registry, const char *name, wd_handle_t *endpoint,
                               uint64_t *generation);

/* Packs name into msg words 0..6 (for servers decoding requests: the inverse). */
int wd_name_pack(struct wd_msg *msg, const char *name);
int wd_name_unpack(const struct wd_msg *msg, char out[WD_NAME_MAX + 1]);

#endif
