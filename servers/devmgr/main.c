/*
 * devmgr - the device manager. init starts it in normal mode with
 *   start info caps[0]  the device root (READ|CONTROL|GRANT): lists PCI
 *                       functions and opens device capabilities
 *   start info pool     its sub-pool; each driver gets a sub-pool of it
 *   the boot modules    the drivers it may start
 * It reports the IOMMU units, prints every PCI function and the IOMMU
 * groups, and has init's driver supervisor start a driver for each
 * function it knows (drivers.c), then the services on top of them
 * (services.c); init restarts them when they die. DMA
 * drivers are started only when an IOMMU exists. devmgr then stays,
 * holding the device capabilities the drivers' derive from.
 */
#include <stdio.h>
#include <warden/registry.h>
#include <warden/syscalls.h>

#include "devmgr.h"

static struct inventory inventory;  /* ~25 KiB: not on the stack */

/* devmgr serves no request yet: it waits, keeping its own capabilities.
 * Whatever comes is answered NOT_SUPPORTED, and the capabilities that came
 * with it are deleted (keeping them would keep the sender's objects, and
 * its pool, alive; not answering would leave a caller waiting). */
static int idle(wd_handle_t endpoint)
{
    struct wd_msg msg;
    long r = wd_recv(endpoint, &msg, WD_FOREVER);
    for (;;) {
        if (r < 0) {
            printf("devmgr: receiving on its endpoint failed: %s (%s); stopping\n", wd_error_name(r),
                   wd_error_text(r));
            return 1;
        }
        uint32_t label = wd_msg_label(msg.info);
        for (unsigned i = 0; i < wd_msg_ncaps(msg.info); i++)
            wd_cap_delete(msg.caps[i]);
        if (label >= WD_LABEL_KERNEL) {
            r = wd_recv(endpoint, &msg, WD_FOREVER);
            continue;
        }
        msg = (struct wd_msg){ .info = wd_msg_info(label, 1, 0), .w = { (uint64_t)-WD_E_NOT_SUPPORTED } };
        r = wd_reply_recv(endpoint, &msg, WD_FOREVER);
    }
}

int main(void)
{
    const struct wd_start_info *info = wd_start_info;
    wd_handle_t root = info->cap_count >= 1 ? info->caps[0] : WD_NULL;
    struct wd_cap_info cap;
    long r = root ? wd_cap_info(root, &cap) : -WD_E_BAD_HANDLE;
    if (r < 0 || cap.type != WD_TYPE_DEVICE_ROOT) {
        printf("devmgr: caps[0] is not the device root (%s); no devices to manage\n",
               r < 0 ? wd_error_name(r) : "wrong type");
        return 1;
    }
    long endpoint = wd_endpoint_create(info->pool);
    if (endpoint < 0) {
        printf("devmgr: cannot create its endpoint: %s (%s)\n", wd_error_name(endpoint), wd_error_text(endpoint));
        return 1;
    }
    inventory.iommu_count = inventory_report_iommus();
    r = inventory_scan(root, &inventory);
    if (r < 0) {
        printf("devmgr: cannot list the PCI functions: %s (%s)\n", wd_error_name(r), wd_error_text(r));
        return 1;
    }
    inventory_print(&inventory);
    unsigned started = drivers_start(root, &inventory);
    printf("devmgr: %u driver(s) handed to init's supervisor\n", started);
    services_start();
    /* Registering says "every driver and service is handed over": init starts the shell then. */
    long announce = wd_cap_copy((wd_handle_t)endpoint, WD_NULL, WD_RIGHT_SEND | WD_RIGHT_GRANT, 0);
    r = announce < 0 ? announce : wd_name_register(info->registry, "devmgr", (wd_handle_t)announce);
    if (r < 0)
        printf("devmgr: cannot register its name: %s\n", wd_error_name(r));
    return idle((wd_handle_t)endpoint);
}
