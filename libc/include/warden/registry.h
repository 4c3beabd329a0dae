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
#define WD_REGISTRY_LOOKUP 2        /* w0 = length, w1.. = name; reply caps[0] = endpoint */

/* 0 or -WD_E_* (EXISTS: name taken; NOT_FOUND). */
long wd_name_register(wd_handle_t registry, const char *name, wd_handle_t endpoint);
long wd_name_lookup(wd_handle_t registry, const char *name, wd_handle_t *endpoint);

/* Packs name into msg words 0..6 (for servers decoding requests: the inverse). */
int wd_name_pack(struct wd_msg *msg, const char *name);
int wd_name_unpack(const struct wd_msg *msg, char out[WD_NAME_MAX + 1]);

#endif
