/*
 * t_inspect.c - the inspection and console calls without their
 * capabilities: the boot-test runner holds neither (init gives them to the
 * shell alone, and the test boot has no shell), so every capability it
 * has, and handles that name nothing, are refused for every kind; and
 * process_set_name's checks. What inspection returns is checked through
 * the shell (harness config shell, tests/shell_scenarios.py).
 */
#include <string.h>
#include <warden/syscalls.h>

#include "boot_tests.h"

void test_inspect_refused_without_capability(void)
{
    union {
        struct wd_inspect_process p;
        struct wd_inspect_cap c;
        struct wd_device_info d;
        struct wd_inspect_domain dom;
        struct wd_inspect_mapping m;
        struct wd_inspect_fault f;
        struct wd_inspect_irq q;
    } out;
    static const uint64_t sizes[WD_INSPECT_KIND_COUNT] = {
        0, sizeof out.p, sizeof out.c, sizeof out.d, sizeof out.dom, sizeof out.m, sizeof out.f, sizeof out.q,
    };
    unsigned held = 0;
    for (uint32_t slot = 1; slot < WD_CSPACE_SLOTS; slot++) {
        for (uint32_t generation = 0; generation < 4; generation++) {
            wd_handle_t h = ((wd_handle_t)generation << 16) | slot;
            struct wd_cap_info info;
            if (wd_cap_info(h, &info) < 0)
                continue;
            held++;
            BT_CHECK(info.type != WD_TYPE_INSPECTOR && info.type != WD_TYPE_CONSOLE);
            for (uint64_t kind = 1; kind < WD_INSPECT_KIND_COUNT; kind++)
                BT_CHECK_EQ(wd_inspect(h, kind, 0, 0, &out, sizes[kind]), -WD_E_WRONG_TYPE);
            char byte;
            BT_CHECK_EQ(wd_console_read(h, &byte, 1), -WD_E_WRONG_TYPE);
            BT_CHECK_EQ(wd_console_notify(h, WD_NULL, 1), -WD_E_WRONG_TYPE);
        }
    }
    BT_CHECK(held >= 3);
    BT_CHECK_EQ(wd_inspect(WD_NULL, WD_INSPECT_PROCESS, 0, 0, &out, sizeof out.p), -WD_E_BAD_HANDLE);
    BT_CHECK(wd_inspect(0xFFFF00FF, WD_INSPECT_PROCESS, 0, 0, &out, sizeof out.p) < 0);
    char buf[4];
    BT_CHECK_EQ(wd_console_read(WD_NULL, buf, sizeof buf), -WD_E_BAD_HANDLE);
}

void test_process_set_name(void)
{
    BT_CHECK_EQ(wd_process_set_name(WD_NULL, "runner", 6), 0);
    BT_CHECK_EQ(wd_process_set_name(WD_NULL, "", 0), -WD_E_INVALID_ARG);
    BT_CHECK_EQ(wd_process_set_name(WD_NULL, "sixteen-letters!", 16), -WD_E_INVALID_ARG);
    BT_CHECK_EQ(wd_process_set_name(WD_NULL, "a b", 3), -WD_E_INVALID_ARG);     /* printable, no spaces */
    BT_CHECK_EQ(wd_process_set_name(WD_NULL, "\x01x", 2), -WD_E_INVALID_ARG);
    BT_CHECK_EQ(wd_process_set_name(WD_NULL, (const char *)8, 4), -WD_E_BAD_ADDRESS);
    BT_CHECK_EQ(wd_process_set_name(bt_pool(), "x", 1), -WD_E_WRONG_TYPE);
    wd_handle_t spin = bt_spawn_helper("spin", NULL, 0, WD_NULL, 0);
    long weak = BT_OK(wd_cap_copy(spin, WD_NULL, WD_RIGHT_READ, 0));
    BT_CHECK_EQ(wd_process_set_name((wd_handle_t)weak, "x", 1), -WD_E_NO_RIGHTS);   /* CONTROL needed */
    BT_CHECK_EQ(wd_process_set_name(spin, "renamed", 7), 0);
    wd_cap_delete((wd_handle_t)weak);
    bt_release_helper(spin);
}
