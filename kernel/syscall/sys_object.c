/*
 * sys_object.c - creating and describing pools, endpoints and frames.
 */
#include "syscall/syscall.h"

#include "mm/usercopy.h"
#include "obj/endpoint.h"
#include "obj/frame_object.h"
#include "obj/pool.h"

int64_t sys_pool_create(wd_handle_t parent, uint64_t budget)
{
    struct pool *pool;
    int r = lookup_creation_pool(parent, &pool);
    if (r)
        return r;
    int error;
    struct pool *child = pool_create_child(pool, budget, &error);
    if (!child)
        return -error;
    return install_new_object(&child->obj, WD_RIGHTS_ALL);
}

int64_t sys_pool_info(wd_handle_t h, struct wd_pool_info *out)
{
    struct pool *pool;
    int r = lookup_object(h, WD_TYPE_POOL, WD_RIGHT_READ, (struct kobject **)&pool);
    if (r)
        return r;
    struct wd_pool_info info = { .budget = pool->budget, .used = pool->used };
    return copy_to_user((uint64_t)out, &info, sizeof info);
}

int64_t sys_endpoint_create(wd_handle_t pool_handle)
{
    struct pool *pool;
    int r = lookup_creation_pool(pool_handle, &pool);
    if (r)
        return r;
    int error;
    struct endpoint *ep = endpoint_create(pool, &error);
    if (!ep)
        return -error;
    return install_new_object(&ep->obj, WD_RIGHTS_ALL);
}

int64_t sys_endpoint_timer(wd_handle_t endpoint, uint64_t badge, uint64_t ns)
{
    struct cap_slot *slot;
    int r = lookup_cap(endpoint, WD_TYPE_ENDPOINT, WD_RIGHT_RECV, &slot);
    if (r)
        return r;
    endpoint_set_timer((struct endpoint *)slot->object, badge, ns);
    return 0;
}

int64_t sys_frame_create(wd_handle_t pool_handle, uint64_t size, uint64_t flags)
{
    struct pool *pool;
    int r = lookup_creation_pool(pool_handle, &pool);
    if (r)
        return r;
    int error;
    struct frame_object *f = frame_object_create(pool, size, flags, &error);
    if (!f)
        return -error;
    return install_new_object(&f->obj, WD_RIGHT_READ | WD_RIGHT_WRITE | WD_RIGHT_EXEC | WD_RIGHT_MAP |
                                           WD_RIGHT_GRANT | WD_RIGHT_RETAIN);
}

int64_t sys_frame_info(wd_handle_t frame, struct wd_frame_info *out)
{
    struct cap_slot *slot;
    int r = lookup_cap(frame, WD_TYPE_FRAME, 0, &slot);
    if (r)
        return r;
    struct frame_object *f = (struct frame_object *)slot->object;
    struct wd_frame_info info = { .size = f->size, .flags = f->flags };
    return copy_to_user((uint64_t)out, &info, sizeof info);
}
