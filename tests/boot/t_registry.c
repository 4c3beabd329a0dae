/*
 * t_registry.c - init's name registry: register, look up, use, and
 * revoke (which makes the name disappear).
 */
#include <warden/registry.h>

#include "boot_tests.h"

void test_name_registry(void)
{
    wd_handle_t registry = wd_start_info->registry;
    BT_CHECK(registry != WD_NULL);
    long ep = BT_OK(wd_endpoint_create(bt_pool()));
    wd_handle_t caps[1] = { (wd_handle_t)ep };
    BT_CHECK(bt_spawn_helper("echo", caps, 1, WD_NULL, 0) != WD_NULL);
    BT_CHECK_EQ(wd_name_register(registry, "test.echo", (wd_handle_t)ep), 0);
    BT_CHECK_EQ(wd_name_register(registry, "test.echo", (wd_handle_t)ep), -WD_E_EXISTS);
    wd_handle_t found = WD_NULL;
    BT_CHECK_EQ(wd_name_lookup(registry, "test.echo", &found), 0);
    struct wd_msg msg = { .info = wd_msg_info(1, 1, 0), .w = { 99 } };
    BT_CHECK_EQ(wd_call(found, &msg, 5000 * BT_MS), 0);
    BT_CHECK_EQ(msg.w[0], 100);
    BT_CHECK_EQ(wd_name_lookup(registry, "test.nothing", &found), -WD_E_NOT_FOUND);
    BT_CHECK_EQ(wd_name_lookup(registry, "", &found), -WD_E_INVALID_ARG);
    /* Revoking our endpoint removes init's copy: the name is gone. */
    BT_CHECK(wd_cap_revoke((wd_handle_t)ep) >= 1);
    BT_CHECK_EQ(wd_name_lookup(registry, "test.echo", &found), -WD_E_NOT_FOUND);
}
