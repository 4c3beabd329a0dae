/*
 * commands.c - splitting a line into words, finding the command, checking
 * its argument count, and help.
 */
#include <stdio.h>
#include <string.h>

#include "shell.h"

static const struct shell_command *find(const char *name)
{
    for (const struct shell_command *const *c = shell_commands; *c; c++)
        if (strcmp((*c)->name, name) == 0)
            return *c;
    return NULL;
}

static void run_help(int argc, char **argv)
{
    if (argc == 2) {
        const struct shell_command *c = find(argv[1]);
        if (!c) {
            shell_error("no command '%s' (help lists them)", argv[1]);
            return;
        }
        printf("usage: %s\n  %s\n", c->usage, c->help);
        return;
    }
    printf("Commands (help CMD for one):\n");
    for (const struct shell_command *const *c = shell_commands; *c; c++)
        printf("  %-30s %s\n", (*c)->usage, (*c)->help);
}

const struct shell_command help_command = {
    "help", "help [CMD]", "list the commands, or explain one", 0, 1, run_help,
};

void shell_run_line(char *line)
{
    char *argv[SHELL_ARGS_MAX + 1];
    int argc = 0;
    for (char *p = line; *p;) {
        while (*p == ' ')
            *p++ = '\0';
        if (!*p)
            break;
        if (argc == SHELL_ARGS_MAX + 1) {
            shell_error("too many words (at most %d arguments)", SHELL_ARGS_MAX);
            return;
        }
        argv[argc++] = p;
        while (*p && *p != ' ')
            p++;
    }
    if (argc == 0)
        return;
    const struct shell_command *c = find(argv[0]);
    if (!c) {
        shell_error("unknown command '%s' (try help)", argv[0]);
        return;
    }
    if (argc - 1 < c->min_args || argc - 1 > c->max_args) {
        shell_error("usage: %s", c->usage);
        return;
    }
    c->run(argc, argv);
}

extern const struct shell_command ps_command, caps_command, devices_command, iommu_command, domains_command,
    dma_command, faults_command, irqs_command, mem_command, stats_command, drivers_command, kill_command,
    restart_command, stop_command, start_command, attack_command, blk_command, net_command;

const struct shell_command *const shell_commands[] = {
    &help_command, &ps_command, &caps_command, &devices_command, &iommu_command, &domains_command, &dma_command,
    &faults_command, &irqs_command, &drivers_command, &kill_command, &restart_command, &stop_command,
    &start_command, &attack_command, &mem_command, &stats_command, &blk_command, &net_command, NULL,
};
