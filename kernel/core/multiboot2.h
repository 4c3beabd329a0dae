/*
 * multiboot2.h - the boot information GRUB hands over (multiboot2 spec
 * section 3.6), its wire layout, and the validated summary the kernel keeps.
 *
 * mb2_parse() never trusts the input: every tag's size is checked against
 * the total, every string must be NUL-terminated inside its tag, every
 * entry array must fit. Bad tags are reported and skipped. The summary is
 * a copy, so nothing later depends on the boot information's memory.
 */
#ifndef WARDEN_CORE_MULTIBOOT2_H
#define WARDEN_CORE_MULTIBOOT2_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MB2_BOOT_MAGIC 0x36D76289u

/* Wire layout. */
enum mb2_tag_type {
    MB2_TAG_END = 0,
    MB2_TAG_CMDLINE = 1,
    MB2_TAG_BOOTLOADER = 2,
    MB2_TAG_MODULE = 3,
    MB2_TAG_MMAP = 6,
    MB2_TAG_ACPI_OLD = 14,
    MB2_TAG_ACPI_NEW = 15,
};

struct mb2_info_header {
    uint32_t total_size;
    uint32_t reserved;
};

struct mb2_tag {
    uint32_t type;
    uint32_t size;      /* including this header, excluding padding to 8 */
};

struct mb2_tag_mmap {
    struct mb2_tag tag;
    uint32_t entry_size;
    uint32_t entry_version;
    /* entries follow */
};

struct mb2_mmap_wire_entry {
    uint64_t base;
    uint64_t length;
    uint32_t type;
    uint32_t reserved;
};

struct mb2_tag_module {
    struct mb2_tag tag;
    uint32_t mod_start;
    uint32_t mod_end;
    /* NUL-terminated name follows */
};

/* Memory types in the memory map. */
enum mb2_memory_type {
    MB2_MEMORY_AVAILABLE = 1,
    MB2_MEMORY_RESERVED = 2,
    MB2_MEMORY_ACPI_RECLAIMABLE = 3,
    MB2_MEMORY_NVS = 4,
    MB2_MEMORY_BADRAM = 5,
};

/* The validated summary. */
#define MB2_MAX_MMAP_ENTRIES 128
#define MB2_MAX_MODULES 32
#define MB2_CMDLINE_MAX 1024
#define MB2_MODULE_NAME_MAX 64
#define MB2_RSDP_MAX 36

struct mb2_memory_region {
    uint64_t base;
    uint64_t length;
    uint32_t type;
};

struct mb2_module {
    uint64_t start;
    uint64_t end;       /* exclusive */
    char name[MB2_MODULE_NAME_MAX];
};

struct mb2_summary {
    uint64_t info_phys;
    uint32_t info_size;
    bool has_cmdline;
    char cmdline[MB2_CMDLINE_MAX];
    bool has_mmap;
    unsigned mmap_count;
    struct mb2_memory_region mmap[MB2_MAX_MMAP_ENTRIES];
    unsigned module_count;
    struct mb2_module modules[MB2_MAX_MODULES];
    unsigned rsdp_length;           /* 0: GRUB gave no RSDP */
    uint8_t rsdp[MB2_RSDP_MAX];     /* copy of the newest RSDP given */
    unsigned tags_rejected;         /* malformed tags reported and skipped */
};

enum mb2_parse_result {
    MB2_OK = 0,
    MB2_ERR_TOO_SMALL = -1,     /* total_size below the minimum */
    MB2_ERR_TRUNCATED = -2,     /* total_size larger than the readable bytes */
    MB2_ERR_MISALIGNED = -3,    /* info not 8-byte aligned */
};

/*
 * Parses the boot information at info (physical address info_phys, of
 * which `readable` bytes may be read). Fills *out and returns MB2_OK, or
 * a negative mb2_parse_result when the information cannot be used at all.
 */
int mb2_parse(const void *info, size_t readable, uint64_t info_phys, struct mb2_summary *out);

const char *mb2_memory_type_name(uint32_t type);

/* RAM the kernel may read through its direct map: available, ACPI
 * reclaimable and ACPI NVS (not firmware-reserved or device ranges). */
bool mb2_memory_type_is_ram(uint32_t type);

#endif
