/*
 * boot_tests.h - the user-space boot suite: one program, "boot-tests",
 * started by init as the runner ("boot-tests runner"), by the runner once
 * per test ("boot-tests <test>"), and by tests as helper processes
 * ("boot-tests helper <role> ..."). A test passes when its process exits
 * with status 0 and leaves no memory behind.
 */
#ifndef WARDEN_BOOT_TESTS_H
#define WARDEN_BOOT_TESTS_H

#include <stdbool.h>
#include <stdio.h>
#include <warden/abi.h>
#include <warden/syscalls.h>

#define BT_EXIT_PASS 0
#define BT_EXIT_FAIL 1
#define BT_EXIT_SKIP 77

struct boot_test {
    const char *name;
    void (*run)(void);
};

extern const struct boot_test boot_tests[];
extern const unsigned boot_test_count;

extern int bt_failures;
extern bool bt_skipped;

/* Marks the test skipped (the machine lacks what it needs); checks made so
 * far still count: a failure wins over a skip. */
#define BT_SKIP(why) (bt_skipped = true, printf("# skipped: %s\n", (why)))

#define BT_CHECK(cond)                                                                 \
    do {                                                                               \
        if (!(cond)) {                                                                 \
            bt_failures++;                                                             \
            printf("# %s:%d: expected %s\n", __FILE__, __LINE__, #cond);               \
        }                                                                              \
    } while (0)

#define BT_CHECK_EQ(actual, expected)                                                  \
    do {                                                                               \
        long long bt_a_ = (long long)(actual), bt_e_ = (long long)(expected);          \
        if (bt_a_ != bt_e_) {                                                          \
            bt_failures++;                                                             \
            printf("# %s:%d: %s is %lld (0x%llx), expected %s = %lld\n", __FILE__,     \
                   __LINE__, #actual, bt_a_, (unsigned long long)bt_a_, #expected, bt_e_); \
        }                                                                              \
    } while (0)

/* Result of a call that must succeed (>= 0); a failure is reported with its name. */
#define BT_OK(expr)                                                                    \
    ({                                                                                 \
        long bt_r_ = (long)(expr);                                                     \
        if (bt_r_ < 0) {                                                               \
            bt_failures++;                                                             \
            printf("# %s:%d: %s failed: %s\n", __FILE__, __LINE__, #expr,              \
                   wd_error_name(bt_r_));                                              \
        }                                                                              \
        bt_r_;                                                                         \
    })

/* The pool this test process may spend. */
wd_handle_t bt_pool(void);

/* The number after key (say "soakcycles=") on the kernel command line
 * (decimal, or 0x hex), or fallback when key is not there. */
uint64_t bt_cmdline_number(const char *key, uint64_t fallback);
/* The next number of a seeded xorshift64* stream (*state 0 counts as 1). */
uint64_t bt_random(uint64_t *state);
/* raw_syscall.asm: a system call with regs[0..12] = rax, rdi, rsi, rdx,
 * r10, r8, r9, rbx, rbp, r12, r13, r14, r15; back[] gets them as the kernel
 * returned them. The result (rax). */
long raw_syscall_both(const uint64_t regs[13], uint64_t back[13]);

/* Starts "boot-tests helper <role_args>" as a new process with caps in its
 * start info. Faults and exit are reported to fault_ep with badge. The
 * helper is killed by bt_cleanup() if still alive. Returns its process. */
wd_handle_t bt_spawn_helper(const char *role_args, const wd_handle_t *caps, unsigned ncaps,
                            wd_handle_t fault_ep, uint64_t badge);
/* The same, paid for by pool instead of this test's pool. */
wd_handle_t bt_spawn_helper_in(wd_handle_t pool, const char *role_args, const wd_handle_t *caps, unsigned ncaps,
                               wd_handle_t fault_ep, uint64_t badge);
/* Kills one helper (if still alive), deletes its process capability and forgets it. */
void bt_release_helper(wd_handle_t helper);
/* Kills and forgets every helper this process started. */
void bt_cleanup(void);

/* Waits on ep (at most timeout ns) for a kernel message with label and
 * badge; other messages are skipped. Returns 0 with msg filled, or -error. */
long bt_wait_kernel_message(wd_handle_t ep, uint32_t label, uint64_t badge, struct wd_msg *msg,
                            uint64_t timeout);

/* The device-user helper role (t_dma.c): tries every device call on caps[0]
 * and reports the results to caps[1]. */
int bt_device_user_main(const wd_handle_t *caps);
/* The DMA-owner helper role (t_dma.c): attaches caps[0] and faults a DMA. */
int bt_dma_owner_main(const wd_handle_t *caps);
/* The irq-owner helper role (t_irq.c): binds edu's MSI to caps[1], raises once. */
int bt_irq_owner_main(const wd_handle_t *caps);

/* The revoke-owner helper role (t_revoke.c): owns edu with DMA mappings and
 * an irq, reports to caps[1], then dies the way `death` says. */
int bt_revoke_owner_main(const wd_handle_t *caps, const char *death, const char *option);
/* Faults the calling thread: pagefault | nullwrite | ud | gp | divide; returns only for an unknown kind. */
int bt_fault_on_purpose(const char *kind);

/* Runs a helper role (argv[2..]). */
int bt_helper_main(int argc, char **argv);
/* The runner. */
int bt_runner_main(void);

#define BT_MS 1000000ull

#endif
