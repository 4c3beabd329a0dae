/*
 * t_nvme_helpers.c - the NVMe tests' shared pieces (see t_nvme.h).
 */
#include <string.h>

#include "boot_tests.h"
#include "t_nvme.h"

bool nvme_present(struct wd_device_info *info)
{
    return dma_test_device(NVME_VENDOR, NVME_DEVICE, "NVMe controller", info);
}

bool nvme_up_with(struct edu_driver *drv, wd_handle_t *device, const char *args)
{
    struct wd_device_info info;
    if (!nvme_present(&info))
        return false;
    long d = BT_OK(wd_device_open(dma_device_root(), info.address));
    if (d < 0)
        return false;
    *device = (wd_handle_t)d;
    return driver_start(drv, "nvme", *device, args);
}

void nvme_down(struct edu_driver *drv, wd_handle_t device)
{
    wd_process_kill(drv->process, 0);
    wd_cap_delete(device);
}

uint64_t nvme_info(wd_handle_t service, uint64_t *blocks)
{
    struct wd_msg m = { .info = wd_msg_info(NVME_OP_INFO, 0, 0) };
    if (BT_OK(wd_call(service, &m, TIMEOUT)) < 0 || BT_OK((long)m.w[0]) < 0)
        return 0;
    BT_CHECK(m.w[1] == 512 || m.w[1] == 4096);
    BT_CHECK(m.w[3] >= 4096);
    if (blocks)
        *blocks = m.w[2];
    return m.w[1];
}

bool nvme_open(wd_handle_t service, struct wd_client_session *s, uint64_t rights, uint32_t capacity,
               uint64_t *block_size, uint64_t *blocks)
{
    *block_size = nvme_info(service, blocks);
    return *block_size &&
           BT_OK(wd_client_open(s, service, bt_pool(), REGION_BYTES, rights, capacity, NULL, 0, TIMEOUT)) == 0;
}

/* One request, waited for: its status as -WD_E_* (0 = success). */
bool nvme_up_open(struct edu_driver *drv, wd_handle_t *device, const char *args, struct wd_client_session *s,
                  uint32_t capacity, uint64_t *block_size, uint64_t *blocks)
{
    if (!nvme_up_with(drv, device, args))
        return false;
    if (nvme_open(drv->client, s, WD_RIGHT_READ | WD_RIGHT_WRITE, capacity, block_size, blocks))
        return true;
    nvme_down(drv, *device);            /* the failure is counted; no driver is left behind */
    return false;
}

long block_request(struct wd_client_session *s, uint16_t op, uint64_t offset, uint64_t length, uint64_t lba)
{
    static uint64_t next_id = 1;
    struct wd_ring_desc d = { .offset = offset, .length = length, .op = op, .id = next_id++, .arg = lba };
    long r = wd_client_submit(s, &d);
    if (r == 0)
        r = wd_client_kick(s);
    struct wd_ring_desc c = { .status = 0xFFFF };
    if (r == 0)
        r = wd_client_wait(s, &c, TIMEOUT);
    if (r < 0)
        return r;
    BT_CHECK_EQ(c.id, d.id);
    if (c.status == 0)
        BT_CHECK_EQ(c.arg, length);
    return -(long)c.status;
}

void run_deep(struct wd_client_session *s, uint16_t op, uint64_t lba, uint64_t block_size)
{
    static bool seen[DEEP + 1];
    memset(seen, 0, sizeof seen);
    for (unsigned k = 0; k < DEEP; k++) {
        struct wd_ring_desc d = { .offset = k * 4096ull, .length = 4096, .op = op, .id = 1000 + k,
                                  .arg = lba + k * 4096ull / block_size };
        BT_CHECK_EQ(wd_client_submit(s, &d), 0);
        if (k == DEEP / 2) {
            struct wd_ring_desc big = { .offset = DEEP * 4096ull, .length = 256 << 10, .op = op, .id = 1000 + DEEP,
                                        .arg = lba + DEEP * 4096ull / block_size };
            BT_CHECK_EQ(wd_client_submit(s, &big), 0);
        }
    }
    BT_CHECK_EQ(wd_client_kick(s), 0);
    unsigned done = 0, out_of_order = 0;
    uint64_t last = 0;
    for (; done < DEEP + 1; done++) {
        struct wd_ring_desc c = { .status = 0xFFFF };
        long r = wd_client_wait(s, &c, TIMEOUT);
        if (r < 0) {
            printf("# after %u completions: %s\n", done, wd_error_name(r));
            BT_CHECK_EQ(r, 0);
            break;
        }
        bool known = c.id >= 1000 && c.id <= 1000 + DEEP;
        BT_CHECK(known);
        if (!known)
            continue;
        BT_CHECK(!seen[c.id - 1000]);           /* exactly once */
        seen[c.id - 1000] = true;
        BT_CHECK_EQ(c.status, 0);
        out_of_order += c.id < last;
        last = c.id;
    }
    printf("# %u requests completed, %u of them after a request submitted later\n", done, out_of_order);
}
