/*
 * stdlib.c - exit, abort and number parsing (strto*, atoi, abs).
 *
 * strto*: leading white space, an optional sign, base 0 (0x.. hex, 0..
 * octal, else decimal), 2..36, or 16 with an optional 0x. Out-of-range
 * values clamp to the type's limit (there is no errno). *end gets the first
 * unparsed character, or s itself when no digits were found.
 */
#include <ctype.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <warden/syscalls.h>

#define ABORT_STATUS 134    /* 128 + SIGABRT, as a shell would report it */

_Noreturn void exit(int status)
{
    wd_flush_stdout();
    wd_process_exit(status);
    for (;;)
        wd_thread_exit();
}

_Noreturn void abort(void)
{
    static const char msg[] = "abort\n";
    wd_flush_stdout();
    wd_debug_write(msg, sizeof(msg) - 1);
    wd_process_exit(ABORT_STATUS);
    for (;;)
        wd_thread_exit();
}

static int digit_value(char c)
{
    if (isdigit(c))
        return c - '0';
    if (isalpha(c))
        return tolower(c) - 'a' + 10;
    return 99;
}

/* Parses the magnitude; sets *negative and whether it overflowed. */
static unsigned long long parse(const char *s, char **end, int base, bool *negative,
                                bool *overflow)
{
    const char *p = s;
    *negative = false;
    *overflow = false;
    while (isspace(*p))
        p++;
    if (*p == '+' || *p == '-')
        *negative = *p++ == '-';
    if ((base == 0 || base == 16) && p[0] == '0' && (p[1] | 32) == 'x' &&
        digit_value(p[2]) < 16) {
        p += 2;
        base = 16;
    } else if (base == 0) {
        base = p[0] == '0' ? 8 : 10;
    }

    unsigned long long value = 0;
    const char *digits = p;
    if (base >= 2 && base <= 36) {
        for (int d; (d = digit_value(*p)) < base; p++) {
            if (value > (ULLONG_MAX - (unsigned)d) / (unsigned)base)
                *overflow = true;
            value = value * (unsigned)base + (unsigned)d;
        }
    }
    if (end)
        *end = (char *)(p == digits ? s : p);
    return *overflow ? ULLONG_MAX : value;
}

unsigned long long strtoull(const char *restrict s, char **restrict end, int base)
{
    bool negative, overflow;
    unsigned long long v = parse(s, end, base, &negative, &overflow);
    if (overflow)
        return ULLONG_MAX;
    return negative ? 0ull - v : v;
}

unsigned long strtoul(const char *restrict s, char **restrict end, int base)
{
    return strtoull(s, end, base);  /* long is 64 bits */
}

long long strtoll(const char *restrict s, char **restrict end, int base)
{
    bool negative, overflow;
    unsigned long long v = parse(s, end, base, &negative, &overflow);
    if (negative)
        return overflow || v > (unsigned long long)LLONG_MAX + 1 ? LLONG_MIN
                                                                  : (long long)(0ull - v);
    return overflow || v > LLONG_MAX ? LLONG_MAX : (long long)v;
}

long strtol(const char *restrict s, char **restrict end, int base)
{
    return strtoll(s, end, base);   /* long is 64 bits */
}

int atoi(const char *s)
{
    return (int)strtol(s, NULL, 10);
}

int abs(int x)
{
    return x < 0 ? -x : x;
}

long labs(long x)
{
    return x < 0 ? -x : x;
}
