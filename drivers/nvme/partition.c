/*
 * partition.c - least privilege for the block service: a capability to
 * the service grants a range of blocks (its badge names a partition; the
 * registry's grants the whole namespace), and sessions opened through it
 * see only that range. A holder can derive a narrower partition, never a
 * wider one.
 */
#include <warden/syscalls.h>

#include "nvme.h"

const struct nvme_partition *nvme_partition_of(struct nvme *n, uint64_t badge)
{
    if (badge == NVME_CLIENT_BADGE)
        return &n->partitions[0];
    if (badge > NVME_PARTITION_BADGE && badge < NVME_PARTITION_BADGE + NVME_PARTITIONS) {
        const struct nvme_partition *p = &n->partitions[badge - NVME_PARTITION_BADGE];
        return p->used ? p : NULL;
    }
    return NULL;
}

void nvme_partition_request(struct nvme *n, uint64_t badge, struct wd_msg *msg)
{
    const struct nvme_partition *parent = nvme_partition_of(n, badge);
    uint64_t first = msg->w[0], count = msg->w[1];
    long r = 0;
    if (!parent)
        r = -WD_E_NO_RIGHTS;
    else if (count == 0)
        r = -WD_E_INVALID_ARG;
    else if (first >= parent->count || count > parent->count - first)
        r = -WD_E_RANGE;
    unsigned slot = 1;
    while (r == 0 && slot < NVME_PARTITIONS && n->partitions[slot].used)
        slot++;
    if (r == 0 && slot == NVME_PARTITIONS)
        r = -WD_E_BUSY;
    long cap = r;
    if (r == 0)
        cap = wd_cap_copy(n->endpoint, WD_NULL, WD_RIGHT_SEND | WD_RIGHT_GRANT, NVME_PARTITION_BADGE + slot);
    if (cap < 0) {
        msg->w[0] = (uint64_t)cap;
        msg->info = wd_msg_info(NVME_OP_PARTITION, 1, 0);
        return;
    }
    n->partitions[slot] = (struct nvme_partition){ .used = true, .first = parent->first + first, .count = count };
    msg->w[0] = 0;
    msg->caps[0] = (wd_handle_t)cap;
    msg->info = wd_msg_info(NVME_OP_PARTITION, 1, 1) | WD_MSG_MOVE_CAPS;
}
