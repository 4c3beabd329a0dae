/*
 * cmdline.h - the kernel command line: space-separated flags, each either
 * `key` or `key=value`. No quoting. Later flags with the same key win.
 */
#ifndef WARDEN_CORE_CMDLINE_H
#define WARDEN_CORE_CMDLINE_H

#include <stdbool.h>

#define CMDLINE_MAX_BYTES 1024
#define CMDLINE_MAX_FLAGS 64

struct cmdline_flag {
    const char *key;
    const char *value;      /* NULL for a bare `key` */
};

struct cmdline {
    char text[CMDLINE_MAX_BYTES];   /* private copy, split in place */
    unsigned count;
    struct cmdline_flag flags[CMDLINE_MAX_FLAGS];
};

/* Parses text (copied; may be NULL). Reports and drops what does not fit. */
void cmdline_parse(struct cmdline *cl, const char *text);

bool cmdline_has(const struct cmdline *cl, const char *key);
/* The value of key=value, or NULL when absent or given without a value. */
const char *cmdline_value(const struct cmdline *cl, const char *key);

#endif
