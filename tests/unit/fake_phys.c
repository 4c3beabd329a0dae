/*
 * fake_phys.c - see fake_phys.h.
 */
#include "fake_phys.h"
#include "unit.h"
#include "acpi/acpi.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void fake_phys_load(struct fake_phys *fp, const char *machine)
{
    memset(fp, 0, sizeof *fp);
    char path[256];
    size_t length;
    snprintf(path, sizeof path, "%s/layout.txt", machine);
    char *layout = (char *)unit_read_fixture(path, &length);
    layout[length] = '\0';
    for (char *line = strtok(layout, "\n"); line; line = strtok(NULL, "\n")) {
        char sig[8], file[64];
        unsigned long long phys;
        if (line[0] == '#' || sscanf(line, "%7s %llx %63s", sig, &phys, file) != 3)
            continue;
        snprintf(path, sizeof path, "%s/%s", machine, file);
        uint8_t *data = unit_read_fixture(path, &length);
        if (strcmp(sig, "RSDP") == 0) {
            fp->rsdp_length = length < sizeof fp->rsdp ? length : sizeof fp->rsdp;
            memcpy(fp->rsdp, data, fp->rsdp_length);
            free(data);
            continue;
        }
        if (fp->count == FAKE_PHYS_MAX_REGIONS)
            abort();
        memcpy(fp->regions[fp->count].signature, sig, 4);
        fp->regions[fp->count].signature[4] = '\0';
        fp->regions[fp->count].phys = phys;
        fp->regions[fp->count].length = length;
        fp->regions[fp->count].data = data;
        fp->count++;
    }
    free(layout);
}

void fake_phys_free(struct fake_phys *fp)
{
    for (unsigned i = 0; i < fp->count; i++)
        free(fp->regions[i].data);
    fp->count = 0;
}

uint8_t *fake_phys_table(struct fake_phys *fp, const char *signature, size_t *length)
{
    for (unsigned i = 0; i < fp->count; i++) {
        if (strcmp(fp->regions[i].signature, signature) == 0) {
            *length = fp->regions[i].length;
            return fp->regions[i].data;
        }
    }
    return NULL;
}

const void *fake_phys_map(void *ctx, uint64_t phys, size_t length)
{
    struct fake_phys *fp = ctx;
    for (unsigned i = 0; i < fp->count; i++) {
        uint64_t start = fp->regions[i].phys;
        if (phys >= start && phys + length <= start + fp->regions[i].length && phys + length >= phys)
            return fp->regions[i].data + (phys - start);
    }
    return NULL;
}

void fake_phys_fix_checksum(uint8_t *table, size_t length)
{
    table[9] = 0;
    table[9] = (uint8_t)(0x100 - acpi_checksum(table, length));
}
