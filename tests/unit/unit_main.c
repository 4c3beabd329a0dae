/*
 * unit_main.c - runs the registered unit tests (see unit.h). The kernel's
 * own printk.c is linked in; its console, serial_putc, is replaced here by
 * a buffer the tests can inspect. panic() prints and aborts the run.
 */
#include "unit.h"
#include "arch/x86_64/serial.h"
#include "core/panic.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_TESTS 512
#define LOG_BYTES 65536

static struct { const char *name; void (*fn)(void); } tests[MAX_TESTS];
static unsigned test_count;
static bool current_failed;
static char log_buffer[LOG_BYTES];
static size_t log_used;

void unit_register(const char *name, void (*fn)(void))
{
    if (test_count == MAX_TESTS) {
        fprintf(stderr, "unit: more than %d tests\n", MAX_TESTS);
        exit(2);
    }
    tests[test_count].name = name;
    tests[test_count].fn = fn;
    test_count++;
}

bool unit_check(bool ok, const char *expr, const char *file, int line)
{
    if (!ok) {
        current_failed = true;
        printf("# %s:%d: expected %s\n", file, line, expr);
    }
    return ok;
}

bool unit_check_eq(unsigned long long a, unsigned long long b, const char *ea, const char *eb,
                   const char *file, int line)
{
    if (a != b) {
        current_failed = true;
        printf("# %s:%d: expected %s == %s, got 0x%llx and 0x%llx\n", file, line, ea, eb, a, b);
    }
    return a == b;
}

void serial_putc(char c)
{
    if (log_used + 1 < LOG_BYTES)
        log_buffer[log_used++] = c;
    log_buffer[log_used] = '\0';
}

void panic(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    printf("# PANIC: ");
    vprintf(fmt, ap);
    printf("\n");
    va_end(ap);
    abort();
}

const char *unit_log(void) { return log_buffer; }
bool unit_log_contains(const char *needle) { return strstr(log_buffer, needle) != NULL; }

void unit_log_clear(void)
{
    log_used = 0;
    log_buffer[0] = '\0';
}

uint8_t *unit_read_fixture(const char *relative_path, size_t *length)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", FIXTURE_DIR, relative_path);
    FILE *f = fopen(path, "rb");
    if (!f) {
        printf("# missing fixture %s\n", path);
        abort();
    }
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *data = malloc((size_t)n + 1);
    if (!data || fread(data, 1, (size_t)n, f) != (size_t)n)
        abort();
    fclose(f);
    *length = (size_t)n;
    return data;
}

int main(int argc, char **argv)
{
    const char *only = argc > 1 ? argv[1] : NULL;
    unsigned passed = 0, failed = 0, n = 0;
    for (unsigned i = 0; i < test_count; i++) {
        if (only && !strstr(tests[i].name, only))
            continue;
        current_failed = false;
        unit_log_clear();
        tests[i].fn();
        n++;
        if (current_failed) {
            failed++;
            printf("not ok %u %s\n", n, tests[i].name);
            if (log_used)
                printf("# printk output:\n# %s\n", log_buffer);
        } else {
            passed++;
            printf("ok %u %s\n", n, tests[i].name);
        }
    }
    printf("unit: %u passed, %u failed\n", passed, failed);
    return failed ? 1 : 0;
}
