/*
 * start.c - __libc_start: from crt0's _start to main and exit.
 *
 * Records the start info in wd_start_info, runs the .init_array
 * constructors, splits info->args on spaces into at most WD_MAX_ARGS
 * arguments (copied into a static buffer, so argv strings are writable),
 * calls main(argc, argv) and exit()s with its result. A missing or
 * malformed start info is reported on the console and ends the process
 * with status 127.
 */
#include <stdlib.h>
#include <string.h>
#include <warden/syscalls.h>

#define WD_MAX_ARGS 16

int main(int argc, char **argv);
_Noreturn void __libc_start(const struct wd_start_info *info);

const struct wd_start_info *wd_start_info;

static char arg_buffer[sizeof(((struct wd_start_info *)0)->args) + 1];
static char *arg_vector[WD_MAX_ARGS + 1];

typedef void (*init_fn)(void);
extern init_fn __init_array_start[], __init_array_end[];   /* from user.ld */

/* Splits the start info's argument string into arg_vector; returns argc. */
static int split_args(const struct wd_start_info *info)
{
    size_t len = strnlen(info->args, sizeof(info->args));
    memcpy(arg_buffer, info->args, len);
    arg_buffer[len] = '\0';

    int argc = 0;
    char *p = arg_buffer;
    while (*p && argc < WD_MAX_ARGS) {
        while (*p == ' ')
            *p++ = '\0';
        if (!*p)
            break;
        arg_vector[argc++] = p;
        while (*p && *p != ' ')
            p++;
    }
    if (*p)
        *p = '\0';  /* too many: end the last kept argument, drop the rest */
    arg_vector[argc] = NULL;
    return argc;
}

_Noreturn void __libc_start(const struct wd_start_info *info)
{
    if (!info || info->magic != WD_START_MAGIC) {
        static const char msg[] = "libc: no valid start info, exiting\n";
        wd_debug_write(msg, sizeof(msg) - 1);
        wd_process_exit(127);
        for (;;)
            wd_thread_exit();
    }
    wd_start_info = info;

    for (init_fn *f = __init_array_start; f < __init_array_end; f++)
        (*f)();

    int argc = split_args(info);
    exit(main(argc, arg_vector));
}
