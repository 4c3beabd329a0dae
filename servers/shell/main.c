/*
 * shell - Warden's front door on the serial console (docs/shell.md).
 * init starts it once devmgr has handed out every driver, as a supervised
 * service with caps[0] = the console's input and caps[1] = the inspector,
 * which no other process gets. It waits for the supervised drivers to be
 * up, prints the prompt, and runs one command per line.
 */
#include <stdio.h>
#include <string.h>
#include <warden/registry.h>
#include <warden/supervisor.h>
#include <warden/syscalls.h>

#include "shell.h"

#define CONSOLE_BIT 1
#define STARTUP_PATIENCE_NS (20ull * 1000 * 1000 * 1000)
#define STARTUP_POLL_NS (20ull * 1000 * 1000)

wd_handle_t shell_console, shell_inspector, shell_registry;

/* True once every supervised service but the shell is RUNNING (or given up on). */
static bool drivers_settled(unsigned *running)
{
    char name[WD_NAME_MAX + 1];
    bool settled = true;
    *running = 0;
    for (long i = 0; (i = wd_supervise_list(shell_registry, (unsigned)i, name)) > 0;) {
        struct wd_service_status st;
        if (strcmp(name, "shell") == 0 || wd_supervise_status(shell_registry, name, &st) < 0)
            continue;
        if (st.state == WD_SERVICE_RUNNING)
            (*running)++;
        else if (st.state != WD_SERVICE_FAILED && st.state != WD_SERVICE_STOPPED)
            settled = false;
    }
    return settled;
}

static void prompt(void)
{
    printf("warden> ");
    wd_flush_stdout();
}

int main(void)
{
    const struct wd_start_info *info = wd_start_info;
    shell_registry = info->registry;
    shell_console = info->cap_count >= 1 ? info->caps[0] : WD_NULL;
    shell_inspector = info->cap_count >= 2 ? info->caps[1] : WD_NULL;
    long n = wd_notify_create(info->pool);
    long r = n < 0 ? n : wd_console_notify(shell_console, (wd_handle_t)n, CONSOLE_BIT);
    if (r < 0) {
        printf("shell: no console input (%s): stopping\n", wd_error_name(r));
        return 1;
    }
    /* A name to register makes the supervisor count the shell as up (nothing calls it). */
    long ep = wd_endpoint_create(info->pool);
    if (ep >= 0 && wd_name_register(shell_registry, "shell", (wd_handle_t)ep) < 0)
        printf("shell: cannot register its name\n");
    unsigned running = 0;
    uint64_t deadline = (uint64_t)wd_time_now() + STARTUP_PATIENCE_NS;
    while (!drivers_settled(&running) && (uint64_t)wd_time_now() < deadline)
        wd_thread_sleep(STARTUP_POLL_NS);
    printf("\nshell: %u driver(s) and service(s) up. Type help for the commands.\n", running);
    static struct line_editor editor;
    edit_reset(&editor);
    prompt();
    for (;;) {
        r = wd_notify_wait((wd_handle_t)n, WD_FOREVER);
        if (r < 0) {
            printf("shell: waiting for input failed: %s\n", wd_error_name(r));
            return 1;
        }
        char keys[256];
        long got;
        while ((got = wd_console_read(shell_console, keys, sizeof keys)) > 0) {
            for (long i = 0; i < got; i++) {
                enum edit_result e = edit_key(&editor, (uint8_t)keys[i]);
                if (e == EDIT_LINE) {
                    if (editor.too_long)
                        shell_error("line longer than %d characters: not run", SHELL_LINE_MAX);
                    else
                        shell_run_line(editor.line);
                    edit_reset(&editor);
                }
                if (e != EDIT_MORE)
                    prompt();
            }
            wd_flush_stdout();
        }
    }
}
