/*
 * lineedit.c - the shell's line editor: printable keys are echoed and
 * kept, Backspace (DEL or ^H) erases one, Ctrl-U the whole line, Ctrl-C
 * cancels it, up and down walk the history, Enter ends the line. Other
 * control bytes, escape sequences and bytes above 0x7E are ignored, so
 * binary garbage cannot reach a command. Keys past SHELL_LINE_MAX ring the
 * bell and make Enter refuse the line.
 */
#include <stdio.h>
#include <string.h>

#include "shell.h"

#define KEY_CTRL_C 0x03
#define KEY_BACKSPACE 0x08
#define KEY_CTRL_U 0x15
#define KEY_ESCAPE 0x1B
#define KEY_DELETE 0x7F

void edit_reset(struct line_editor *ed)
{
    ed->len = 0;
    ed->line[0] = '\0';
    ed->too_long = false;
    ed->browsing = 0;
    ed->escape = 0;
}

static void erase_shown(struct line_editor *ed)
{
    for (size_t i = 0; i < ed->len; i++)
        printf("\b \b");
    ed->len = 0;
    ed->line[0] = '\0';
}

static void show_history(struct line_editor *ed)
{
    erase_shown(ed);
    if (ed->browsing == 0)
        return;
    const char *entry = ed->history[ed->history_count - ed->browsing];
    ed->len = strlen(entry);
    memcpy(ed->line, entry, ed->len + 1);
    printf("%s", ed->line);
}

static void remember(struct line_editor *ed)
{
    if (ed->len == 0)
        return;
    if (ed->history_count && strcmp(ed->history[ed->history_count - 1], ed->line) == 0)
        return;                     /* the same line again: kept once */
    if (ed->history_count == SHELL_HISTORY) {
        memmove(ed->history[0], ed->history[1], sizeof ed->history[0] * (SHELL_HISTORY - 1));
        ed->history_count--;
    }
    memcpy(ed->history[ed->history_count++], ed->line, ed->len + 1);
}

/* The last byte of ESC [ X: arrows move in the history; others are dropped. */
static void escape_final(struct line_editor *ed, uint8_t key)
{
    if (key == 'A' && ed->browsing < ed->history_count) {
        ed->browsing++;
        show_history(ed);
    } else if (key == 'B' && ed->browsing > 0) {
        ed->browsing--;
        show_history(ed);
    }
}

enum edit_result edit_key(struct line_editor *ed, uint8_t key)
{
    if (ed->escape == 1) {
        ed->escape = key == '[' || key == 'O' ? 2 : 0;
        return EDIT_MORE;
    }
    if (ed->escape == 2) {
        if (key >= 0x40 && key <= 0x7E) {   /* the final byte of a control sequence */
            ed->escape = 0;
            escape_final(ed, key);
        }
        return EDIT_MORE;
    }
    switch (key) {
    case '\r':
    case '\n':
        printf("\n");
        ed->line[ed->len] = '\0';
        ed->browsing = 0;
        if (!ed->too_long)
            remember(ed);
        return EDIT_LINE;
    case KEY_CTRL_C:
        printf("^C\n");
        edit_reset(ed);
        return EDIT_CANCELLED;
    case KEY_CTRL_U:
        erase_shown(ed);
        ed->too_long = false;
        return EDIT_MORE;
    case KEY_BACKSPACE:
    case KEY_DELETE:
        if (ed->len > 0) {
            ed->line[--ed->len] = '\0';
            printf("\b \b");
        }
        return EDIT_MORE;
    case KEY_ESCAPE:
        ed->escape = 1;
        return EDIT_MORE;
    default:
        break;
    }
    if (key < 0x20 || key > 0x7E)
        return EDIT_MORE;
    if (ed->len >= SHELL_LINE_MAX) {
        if (!ed->too_long)
            printf("\a");
        ed->too_long = true;
        return EDIT_MORE;
    }
    ed->line[ed->len++] = (char)key;
    ed->line[ed->len] = '\0';
    printf("%c", key);
    return EDIT_MORE;
}
