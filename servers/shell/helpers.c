/*
 * helpers.c - what the commands share: errors, numbers, inspection
 * records, names for pids and services, and short texts for rights, PCI
 * addresses and service states.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <warden/supervisor.h>
#include <warden/syscalls.h>

#include "shell.h"

void shell_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    printf("error: ");
    vprintf(fmt, ap);
    printf("\n");
    va_end(ap);
}

bool parse_number(const char *s, uint64_t *out)
{
    if (!s || !*s)
        return false;
    char *end;
    unsigned long long v = strtoull(s, &end, 0);
    if (*end)
        return false;
    *out = v;
    return true;
}

long inspect_record(uint64_t kind, uint64_t id, uint64_t index, void *out, uint64_t size, uint64_t *next)
{
    long r = wd_inspect(shell_inspector, kind, id, index, out, size);
    if (r >= 0 && next)
        *next = (uint64_t)r;
    return r < 0 ? r : 0;
}

void process_name(uint64_t pid, char out[WD_INSPECT_NAME_MAX])
{
    struct wd_inspect_process p;
    strcpy(out, "?");
    for (uint64_t i = 0; inspect_record(WD_INSPECT_PROCESS, 0, i, &p, sizeof p, &i) == 0;)
        if (p.pid == pid) {
            memcpy(out, p.name, WD_INSPECT_NAME_MAX);
            out[WD_INSPECT_NAME_MAX - 1] = '\0';
            return;
        }
}

void owner_text(uint64_t pid, char *out, size_t size)
{
    char name[WD_INSPECT_NAME_MAX];
    process_name(pid, name);
    snprintf(out, size, "%llu %s", (unsigned long long)pid, name);
}

bool resolve_service(const char *what, char service[WD_NAME_MAX + 1])
{
    uint64_t pid = 0;
    bool numeric = parse_number(what, &pid);
    char name[WD_NAME_MAX + 1];
    for (long i = 0; (i = wd_supervise_list(shell_registry, (unsigned)i, name)) > 0;) {
        struct wd_service_status st;
        if (wd_supervise_status(shell_registry, name, &st) < 0)
            continue;
        if ((!numeric && strcmp(name, what) == 0) || (numeric && st.pid == pid)) {
            strcpy(service, name);
            return true;
        }
    }
    return false;
}

uint64_t resolve_pid(const char *what)
{
    uint64_t pid;
    if (parse_number(what, &pid))
        return pid;
    char service[WD_NAME_MAX + 1];
    struct wd_service_status st;
    if (resolve_service(what, service) && wd_supervise_status(shell_registry, service, &st) == 0 && st.pid)
        return st.pid;
    struct wd_inspect_process p;
    for (uint64_t i = 0; inspect_record(WD_INSPECT_PROCESS, 0, i, &p, sizeof p, &i) == 0;)
        if (!p.dead && strncmp(p.name, what, WD_INSPECT_NAME_MAX) == 0)
            return p.pid;
    return 0;
}

const char *rights_text(uint32_t rights, char out[12])
{
    static const char letters[] = "RWXMGSVACT";     /* READ WRITE EXEC MAP GRANT SEND RECV ALLOC CONTROL RETAIN */
    int n = 0;
    for (int i = 0; letters[i]; i++)
        if (rights & (1u << i))
            out[n++] = letters[i];
    if (n == 0)
        out[n++] = '-';
    out[n] = '\0';
    return out;
}

const char *pci_text(uint64_t address, char out[12])
{
    if (address == ~0ull)
        strcpy(out, "-");
    else
        snprintf(out, 12, "%02x:%02x.%x", WD_PCI_BUS(address), WD_PCI_DEV(address), WD_PCI_FN(address));
    return out;
}

const char *service_state_text(uint64_t state)
{
    switch (state) {
    case WD_SERVICE_STARTING: return "starting";
    case WD_SERVICE_RUNNING: return "running";
    case WD_SERVICE_BACKOFF: return "backoff";
    case WD_SERVICE_FAILED: return "failed";
    case WD_SERVICE_STOPPED: return "stopped";
    default: return "?";
    }
}
