/*
 * qemu.c - isa-debug-exit and the fw_cfg I/O-port interface
 * (QEMU docs/specs/fw_cfg.rst: selector 0x510, data 0x511, directory at
 * key 0x19 with big-endian fields).
 */
#include "arch/x86_64/qemu.h"
#include "arch/x86_64/cpu.h"

#include <stdint.h>
#include <string.h>

enum {
    DEBUG_EXIT_PORT = 0xF4,
    FW_CFG_PORT_SELECTOR = 0x510,
    FW_CFG_PORT_DATA = 0x511,
    FW_CFG_KEY_SIGNATURE = 0x0000,
    FW_CFG_KEY_FILE_DIR = 0x0019,
    FW_CFG_FILE_NAME_BYTES = 56,
};

void qemu_exit(enum qemu_exit_code code)
{
    outl(DEBUG_EXIT_PORT, code);
}

static void fwcfg_read(void *buf, size_t n)
{
    uint8_t *p = buf;
    while (n--)
        *p++ = inb(FW_CFG_PORT_DATA);
}

static uint32_t be32(const uint8_t *b) { return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3]; }
static uint16_t be16(const uint8_t *b) { return (uint16_t)(b[0] << 8 | b[1]); }

int qemu_fwcfg_read_string(const char *name, char *buf, size_t size)
{
    if (size == 0)
        return -1;
    char signature[4];
    outw(FW_CFG_PORT_SELECTOR, FW_CFG_KEY_SIGNATURE);
    fwcfg_read(signature, sizeof signature);
    if (memcmp(signature, "QEMU", 4) != 0)
        return -1;

    uint8_t count_be[4];
    outw(FW_CFG_PORT_SELECTOR, FW_CFG_KEY_FILE_DIR);
    fwcfg_read(count_be, sizeof count_be);
    uint32_t count = be32(count_be);
    for (uint32_t i = 0; i < count; i++) {
        uint8_t entry[4 + 2 + 2 + FW_CFG_FILE_NAME_BYTES];
        fwcfg_read(entry, sizeof entry);
        const char *entry_name = (const char *)entry + 8;
        if (strncmp(entry_name, name, FW_CFG_FILE_NAME_BYTES) != 0)
            continue;
        uint32_t length = be32(entry);
        size_t n = length < size - 1 ? length : size - 1;
        outw(FW_CFG_PORT_SELECTOR, be16(entry + 4));
        fwcfg_read(buf, n);
        buf[n] = '\0';
        return (int)strnlen(buf, n);
    }
    return -1;
}
