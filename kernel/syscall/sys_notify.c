/*
 * sys_notify.c - the notification calls: create, signal, wait, poll, bind
 * (see obj/notification.h). ipc_signal_recv is in ipc/ipc.c, cap_watch in
 * sys_cap.c.
 */
#include "syscall/syscall.h"

#include "obj/endpoint.h"
#include "obj/notification.h"

#define NOTIFICATION_RIGHTS (WD_RIGHT_SEND | WD_RIGHT_RECV | WD_RIGHT_CONTROL | WD_RIGHT_GRANT)

int64_t sys_notify_create(wd_handle_t pool_handle)
{
    struct pool *pool;
    int r = lookup_creation_pool(pool_handle, &pool);
    if (r)
        return r;
    int error;
    struct notification *n = notification_create(pool, &error);
    if (!n)
        return -error;
    return install_new_object(&n->obj, NOTIFICATION_RIGHTS);
}

int64_t sys_notify_signal(wd_handle_t notification, uint64_t bits)
{
    struct cap_slot *slot;
    int r = lookup_cap(notification, WD_TYPE_NOTIFICATION, WD_RIGHT_SEND, &slot);
    if (r)
        return r;
    int64_t effective = notification_signal_bits(slot->badge, bits);
    if (effective < 0)
        return effective;
    notification_signal((struct notification *)slot->object, (uint64_t)effective);
    return 0;
}

int64_t sys_notify_wait(wd_handle_t notification, uint64_t timeout)
{
    struct kobject *o;
    int r = lookup_object(notification, WD_TYPE_NOTIFICATION, WD_RIGHT_RECV, &o);
    if (r)
        return r;
    struct notification *n = (struct notification *)o;
    uint64_t word = notification_take(n);
    if (word)
        return (int64_t)word;
    if (timeout == WD_NO_WAIT)
        return -WD_E_WOULD_BLOCK;
    return notification_wait(n, timeout);
}

int64_t sys_notify_poll(wd_handle_t notification)
{
    struct kobject *o;
    int r = lookup_object(notification, WD_TYPE_NOTIFICATION, WD_RIGHT_RECV, &o);
    if (r)
        return r;
    return (int64_t)notification_take((struct notification *)o);
}

int64_t sys_notify_bind(wd_handle_t notification, wd_handle_t endpoint, uint64_t badge)
{
    struct kobject *n, *ep = NULL;
    int r = lookup_object(notification, WD_TYPE_NOTIFICATION, WD_RIGHT_CONTROL, &n);
    if (r == 0 && endpoint != WD_NULL)
        r = lookup_object(endpoint, WD_TYPE_ENDPOINT, WD_RIGHT_SEND, &ep);
    if (r)
        return r;
    notification_bind((struct notification *)n, (struct endpoint *)ep, badge);
    return 0;
}
