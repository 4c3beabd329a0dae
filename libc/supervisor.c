/*
 * supervisor.c - client side of init's driver supervisor (warden/supervisor.h).
 */
#include <warden/registry.h>
#include <warden/supervisor.h>
#include <warden/syscalls.h>

#include <stdio.h>
#include <string.h>

/* One request naming `text` with up to two capabilities; the reply stays in *msg. */
static long request(wd_handle_t registry, uint32_t label, const char *text, wd_handle_t cap0, wd_handle_t cap1,
                    struct wd_msg *msg)
{
    int words = wd_name_pack(msg, text);
    if (words < 0)
        return words;
    unsigned ncaps = cap1 ? 2 : cap0 ? 1 : 0;
    msg->caps[0] = cap0;
    msg->caps[1] = cap1;
    msg->info = wd_msg_info(label, (unsigned)words, ncaps);
    long r = wd_call(registry, msg, WD_FOREVER);
    return r < 0 ? r : (long)msg->w[0];
}

long wd_supervise_start(wd_handle_t registry, const char *spec, wd_handle_t device, wd_handle_t pool)
{
    struct wd_msg msg;
    if (!device)                    /* a service without a device: the pool alone (init tells by its type) */
        return request(registry, WD_SUPERVISOR_START, spec, pool, WD_NULL, &msg);
    return request(registry, WD_SUPERVISOR_START, spec, device, pool, &msg);
}

long wd_supervise_status(wd_handle_t registry, const char *service, struct wd_service_status *out)
{
    struct wd_msg msg;
    long r = request(registry, WD_SUPERVISOR_STATUS, service, WD_NULL, WD_NULL, &msg);
    if (r == 0)
        memcpy(out, &msg.w[1], sizeof *out);
    return r;
}

long wd_supervise_last_death(wd_handle_t registry, const char *service, uint64_t words[7])
{
    struct wd_msg msg;
    long r = request(registry, WD_SUPERVISOR_LAST_DEATH, service, WD_NULL, WD_NULL, &msg);
    if (r == 0)
        memcpy(words, &msg.w[1], 7 * sizeof(uint64_t));
    return r;
}

long wd_supervise_kill(wd_handle_t registry, const char *service)
{
    struct wd_msg msg;
    return request(registry, WD_SUPERVISOR_KILL, service, WD_NULL, WD_NULL, &msg);
}

long wd_supervise_stop(wd_handle_t registry, const char *service)
{
    struct wd_msg msg;
    return request(registry, WD_SUPERVISOR_STOP, service, WD_NULL, WD_NULL, &msg);
}

long wd_supervise_pause(wd_handle_t registry, const char *service)
{
    struct wd_msg msg;
    return request(registry, WD_SUPERVISOR_PAUSE, service, WD_NULL, WD_NULL, &msg);
}

long wd_supervise_resume(wd_handle_t registry, const char *service)
{
    struct wd_msg msg;
    return request(registry, WD_SUPERVISOR_RESUME, service, WD_NULL, WD_NULL, &msg);
}

long wd_supervise_list(wd_handle_t registry, unsigned index, char *name)
{
    char text[12];
    snprintf(text, sizeof text, "%u", index);
    struct wd_msg msg;
    long r = request(registry, WD_SUPERVISOR_LIST, text, WD_NULL, WD_NULL, &msg);
    if (r < 0)
        return r;
    struct wd_msg packed = { .info = wd_msg_info(0, 7, 0) };
    memcpy(packed.w, &msg.w[1], 7 * sizeof(uint64_t));
    r = wd_name_unpack(&packed, name);
    return r < 0 ? r : (long)index + 1;
}
