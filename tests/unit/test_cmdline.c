/*
 * test_cmdline.c - `key` and `key=value` flags, spacing, repeats, limits.
 */
#include "unit.h"
#include "core/cmdline.h"

#include <string.h>

static struct cmdline cl;

TEST(cmdline_keys_and_values)
{
    cmdline_parse(&cl, "test  crash=pagefault\tmem=128M empty= verbose");
    CHECK_EQ(cl.count, 5);
    CHECK(cmdline_has(&cl, "test"));
    CHECK(cmdline_value(&cl, "test") == NULL);
    CHECK(cmdline_value(&cl, "crash") && strcmp(cmdline_value(&cl, "crash"), "pagefault") == 0);
    CHECK(cmdline_value(&cl, "empty") && strcmp(cmdline_value(&cl, "empty"), "") == 0);
    CHECK(cmdline_has(&cl, "verbose"));
    CHECK(!cmdline_has(&cl, "tes"));
    CHECK(!cmdline_has(&cl, "testx"));
    CHECK(!cmdline_has(&cl, "mem=128M"));
}

TEST(cmdline_last_flag_wins_and_value_may_contain_equals)
{
    cmdline_parse(&cl, "mode=a mode=b opt=x=y");
    CHECK(strcmp(cmdline_value(&cl, "mode"), "b") == 0);
    CHECK(strcmp(cmdline_value(&cl, "opt"), "x=y") == 0);
}

TEST(cmdline_empty_null_and_bad_flags)
{
    cmdline_parse(&cl, NULL);
    CHECK_EQ(cl.count, 0);
    cmdline_parse(&cl, "   ");
    CHECK_EQ(cl.count, 0);
    cmdline_parse(&cl, "=orphan ok");
    CHECK_EQ(cl.count, 1);
    CHECK(unit_log_contains("empty key"));
    CHECK(cmdline_has(&cl, "ok"));
}

TEST(cmdline_limits_are_reported)
{
    static char text[CMDLINE_MAX_BYTES * 2];
    memset(text, 0, sizeof text);
    for (int i = 0; i < CMDLINE_MAX_FLAGS + 10; i++)
        strcat(text, "f ");
    cmdline_parse(&cl, text);
    CHECK_EQ(cl.count, CMDLINE_MAX_FLAGS);
    CHECK(unit_log_contains("flags, the rest ignored"));
    unit_log_clear();
    memset(text, 'a', sizeof text - 1);
    cmdline_parse(&cl, text);
    CHECK(unit_log_contains("truncated"));
    CHECK_EQ(strlen(cl.flags[0].key), CMDLINE_MAX_BYTES - 1);
}
