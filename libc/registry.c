/*
 * registry.c - client side of init's name registry (warden/registry.h).
 */
#include <warden/registry.h>
#include <warden/syscalls.h>

#include <string.h>

int wd_name_pack(struct wd_msg *msg, const char *name)
{
    size_t n = strnlen(name, WD_NAME_MAX + 1);
    if (n == 0 || n > WD_NAME_MAX)
        return -WD_E_INVALID_ARG;
    memset(msg->w, 0, sizeof msg->w);
    msg->w[0] = n;
    memcpy(&msg->w[1], name, n);
    return (int)(1 + (n + 7) / 8);
}

int wd_name_unpack(const struct wd_msg *msg, char out[WD_NAME_MAX + 1])
{
    uint64_t n = msg->w[0];
    if (n == 0 || n > WD_NAME_MAX || wd_msg_nwords(msg->info) < 1 + (n + 7) / 8)
        return -WD_E_INVALID_ARG;
    memcpy(out, &msg->w[1], n);
    out[n] = '\0';
    return 0;
}

long wd_name_register(wd_handle_t registry, const char *name, wd_handle_t endpoint)
{
    struct wd_msg msg;
    int words = wd_name_pack(&msg, name);
    if (words < 0)
        return words;
    msg.caps[0] = endpoint;
    msg.info = wd_msg_info(WD_REGISTRY_REGISTER, (unsigned)words, 1);
    long r = wd_call(registry, &msg, WD_FOREVER);
    return r < 0 ? r : (long)msg.w[0];
}

long wd_name_lookup(wd_handle_t registry, const char *name, wd_handle_t *endpoint)
{
    uint64_t generation;
    return wd_name_lookup_generation(registry, name, endpoint, &generation);
}

long wd_name_lookup_generation(wd_handle_t registry, const char *name, wd_handle_t *endpoint,
                               uint64_t *generation)
{
    struct wd_msg msg;
    int words = wd_name_pack(&msg, name);
    if (words < 0)
        return words;
    msg.info = wd_msg_info(WD_REGISTRY_LOOKUP, (unsigned)words, 0);
    long r = wd_call(registry, &msg, WD_FOREVER);
    if (r < 0)
        return r;
    if ((long)msg.w[0] < 0)
        return (long)msg.w[0];
    if (wd_msg_ncaps(msg.info) != 1)
        return -WD_E_NOT_FOUND;
    *endpoint = msg.caps[0];
    *generation = wd_msg_nwords(msg.info) >= 2 ? msg.w[1] : 0;
    return 0;
}
