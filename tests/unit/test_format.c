/*
 * test_format.c - the printf engine behind printk, checked against the
 * host C library's snprintf for the conversions the kernel supports.
 */
#include "unit.h"
#include "core/format.h"

#include <stdio.h>
#include <string.h>

#define SAME_AS_LIBC(...)                                                      \
    do {                                                                       \
        char ours[256], theirs[256];                                           \
        int n1 = ksnprintf(ours, sizeof ours, __VA_ARGS__);                    \
        int n2 = snprintf(theirs, sizeof theirs, __VA_ARGS__);                 \
        if (!CHECK(strcmp(ours, theirs) == 0 && n1 == n2))                      \
            printf("#   format %s: ours \"%s\" (%d), libc \"%s\" (%d)\n", #__VA_ARGS__, ours, n1, theirs, n2); \
    } while (0)

TEST(format_integers_match_libc)
{
    SAME_AS_LIBC("%d %i %u", 0, -1, 42u);
    SAME_AS_LIBC("%d", -2147483647 - 1);
    SAME_AS_LIBC("%lld %llu", -9223372036854775807ll - 1, 18446744073709551615ull);
    SAME_AS_LIBC("%x %X %o", 0xdeadbeefu, 0xdeadbeefu, 0755u);
    SAME_AS_LIBC("%#x %#X %#o %#x", 0x1fu, 0x1fu, 8u, 0u);
    SAME_AS_LIBC("%08x|%-8x|%8x", 0xabcu, 0xabcu, 0xabcu);
    SAME_AS_LIBC("%+d % d %+d", 5, 5, -5);
    SAME_AS_LIBC("%.5d|%8.3d|%-8.3d|%.0d", 42, 7, 7, 0);
    SAME_AS_LIBC("%016llx", 0xffffffff80000000ull);
    SAME_AS_LIBC("%zu %zx", (size_t)123456789, (size_t)0xfff);
    SAME_AS_LIBC("%hhu %hd %hhx", 300, 70000, 0x1ff);
    SAME_AS_LIBC("%ld %lx", -123456789012l, 0x7fffffffffffl);
    SAME_AS_LIBC("%*d|%-*d|%.*d", 6, 1, 6, 2, 4, 3);
    SAME_AS_LIBC("%05d|%-5d|", -42, -42);
}

TEST(format_strings_and_chars_match_libc)
{
    SAME_AS_LIBC("%s|%10s|%-10s|%.3s", "abc", "right", "left", "truncate");
    SAME_AS_LIBC("%c%c%3c%-3c|", 'a', 'b', 'c', 'd');
    SAME_AS_LIBC("100%% sure");
    SAME_AS_LIBC("%s", "");
}

TEST(format_pointer_null_and_unknown)
{
    char buf[64];
    ksnprintf(buf, sizeof buf, "%p", (void *)0xffffffff80201234ull);
    CHECK(strcmp(buf, "0xffffffff80201234") == 0);
    ksnprintf(buf, sizeof buf, "%p", (void *)0x10);
    CHECK(strcmp(buf, "0x0000000000000010") == 0);
    const char *volatile nothing = NULL;        /* hidden from -Wformat */
    ksnprintf(buf, sizeof buf, "[%s]", nothing);
    CHECK(strcmp(buf, "[(null)]") == 0);
    const char *unknown = "%q %d", *trailing = "trailing %";  /* not literals: no -Wformat */
    ksnprintf(buf, sizeof buf, unknown, 5);     /* unknown conversion shown as written */
    CHECK(strncmp(buf, "%q ", 3) == 0);
    ksnprintf(buf, sizeof buf, trailing);
    CHECK(strcmp(buf, "trailing %") == 0);
}

TEST(format_truncates_and_counts)
{
    char buf[8];
    memset(buf, 'X', sizeof buf);
    int n = ksnprintf(buf, sizeof buf, "%s", "0123456789");
    CHECK_EQ(n, 10);
    CHECK(strcmp(buf, "0123456") == 0);
    CHECK_EQ(ksnprintf(buf, 1, "abc"), 3);
    CHECK_EQ(buf[0], '\0');
    CHECK_EQ(ksnprintf(NULL, 0, "%d", 12345), 5);
}
