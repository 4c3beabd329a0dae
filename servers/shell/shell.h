/*
 * shell.h - the parts of the shell (servers/shell, docs/shell.md): the
 * line editor, the command table, and the commands' shared helpers.
 */
#ifndef WARDEN_SHELL_H
#define WARDEN_SHELL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <warden/abi.h>
#include <warden/registry.h>

#define SHELL_LINE_MAX 200
#define SHELL_HISTORY 16
#define SHELL_ARGS_MAX 8

/* lineedit.c: turns keystrokes into lines, echoing as it goes. */
struct line_editor {
    char line[SHELL_LINE_MAX + 1];
    size_t len;
    bool too_long;                  /* keys were dropped: the line is refused on Enter */
    char history[SHELL_HISTORY][SHELL_LINE_MAX + 1];
    unsigned history_count;         /* entries kept (the newest last) */
    unsigned browsing;              /* 0: editing a new line; n: showing the n'th newest */
    int escape;                     /* 0, 1 after ESC, 2 after ESC [ */
};

enum edit_result { EDIT_MORE, EDIT_LINE, EDIT_CANCELLED };

void edit_reset(struct line_editor *ed);
/* One key: EDIT_LINE when Enter completes a line (in ed->line, kept in the
 * history), EDIT_CANCELLED on Ctrl-C, else EDIT_MORE. */
enum edit_result edit_key(struct line_editor *ed, uint8_t key);

/* commands.c */
struct shell_command {
    const char *name;
    const char *usage;
    const char *help;
    int min_args, max_args;         /* after the name */
    void (*run)(int argc, char **argv);
};
/* Runs one line: the command's output, or a one-line error. */
void shell_run_line(char *line);
/* The table (in cmd_*.c files' order): NULL-terminated. */
extern const struct shell_command *const shell_commands[];

/* What the shell was given (main.c). */
extern wd_handle_t shell_console, shell_inspector, shell_registry;

/* helpers.c */
void shell_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
bool parse_number(const char *s, uint64_t *out);
/* One inspection record: 0 or -WD_E_*, *next the index to ask for next. */
long inspect_record(uint64_t kind, uint64_t id, uint64_t index, void *out, uint64_t size, uint64_t *next);
/* A process's name by pid ("?" when unknown), into out (16 bytes). */
void process_name(uint64_t pid, char out[WD_INSPECT_NAME_MAX]);
/* "PID NAME" into out. */
void owner_text(uint64_t pid, char *out, size_t size);
/* NAME (a supervised service or a process name) or PID -> pid (0: none). */
uint64_t resolve_pid(const char *what);
/* A supervised service by name or by its current pid: its name into service. */
bool resolve_service(const char *what, char service[WD_NAME_MAX + 1]);
const char *rights_text(uint32_t rights, char out[12]);
const char *pci_text(uint64_t address, char out[12]);
const char *service_state_text(uint64_t state);

#endif
