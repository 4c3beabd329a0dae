/*
 * cmdline.c - splits the command line into flags. See cmdline.h.
 */
#include "core/cmdline.h"
#include "core/printk.h"

#include <stddef.h>
#include <string.h>

void cmdline_parse(struct cmdline *cl, const char *text)
{
    memset(cl, 0, sizeof *cl);
    if (!text)
        return;
    size_t len = strnlen(text, sizeof cl->text);
    if (len == sizeof cl->text) {
        printk("cmdline: longer than %zu bytes, truncated\n", sizeof cl->text - 1);
        len = sizeof cl->text - 1;
    }
    memcpy(cl->text, text, len);
    cl->text[len] = '\0';

    char *p = cl->text;
    for (;;) {
        while (*p == ' ' || *p == '\t')
            *p++ = '\0';
        if (!*p)
            break;
        char *token = p;
        while (*p && *p != ' ' && *p != '\t')
            p++;
        if (cl->count == CMDLINE_MAX_FLAGS) {
            printk("cmdline: more than %d flags, the rest ignored\n", CMDLINE_MAX_FLAGS);
            break;
        }
        struct cmdline_flag *f = &cl->flags[cl->count];
        f->key = token;
        f->value = NULL;
        for (char *q = token; q < p; q++) {
            if (*q == '=') {
                *q = '\0';
                f->value = q + 1;
                break;
            }
        }
        if (*f->key == '\0') {
            printk("cmdline: flag with an empty key ignored\n");
            continue;
        }
        cl->count++;
    }
}

static const struct cmdline_flag *find_last(const struct cmdline *cl, const char *key)
{
    for (unsigned i = cl->count; i-- > 0;)
        if (strcmp(cl->flags[i].key, key) == 0)
            return &cl->flags[i];
    return NULL;
}

bool cmdline_has(const struct cmdline *cl, const char *key)
{
    return find_last(cl, key) != NULL;
}

const char *cmdline_value(const struct cmdline *cl, const char *key)
{
    const struct cmdline_flag *f = find_last(cl, key);
    return f ? f->value : NULL;
}
