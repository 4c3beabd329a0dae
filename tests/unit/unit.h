/*
 * unit.h - a tiny test framework for host unit tests of pure kernel code.
 *
 * TEST(name) { ... CHECK(cond); CHECK_EQ(a, b); ... }
 * Tests register themselves at startup and run in file/definition order.
 * Output: `ok N name` / `not ok N name` with `# file:line: ...` lines, then
 * `unit: P passed, F failed` (the contract tests/harness.py reads).
 *
 * The kernel's printk is replaced by one that records into a buffer, so a
 * test can check that bad input was reported (unit_log_contains).
 */
#ifndef WARDEN_TESTS_UNIT_H
#define WARDEN_TESTS_UNIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

void unit_register(const char *name, void (*fn)(void));
bool unit_check(bool ok, const char *expr, const char *file, int line);
bool unit_check_eq(unsigned long long a, unsigned long long b, const char *ea, const char *eb,
                   const char *file, int line);

#define TEST(name)                                                             \
    static void name(void);                                                    \
    __attribute__((constructor)) static void register_##name(void)            \
    {                                                                          \
        unit_register(#name, name);                                            \
    }                                                                          \
    static void name(void)

#define CHECK(cond) unit_check((cond), #cond, __FILE__, __LINE__)
#define CHECK_EQ(a, b)                                                         \
    unit_check_eq((unsigned long long)(a), (unsigned long long)(b), #a, #b, __FILE__, __LINE__)

/* What printk printed during the current test. */
const char *unit_log(void);
bool unit_log_contains(const char *needle);
void unit_log_clear(void);

/* Reads a whole file under FIXTURE_DIR; aborts the test run if missing. */
uint8_t *unit_read_fixture(const char *relative_path, size_t *length);

#endif
