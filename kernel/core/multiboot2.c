/*
 * multiboot2.c - validates GRUB's boot information and copies what the
 * kernel needs into a struct mb2_summary. See multiboot2.h.
 */
#include "core/multiboot2.h"
#include "core/printk.h"

#include <string.h>

#define MB2_TAG_ALIGN 8

static const char *tag_name(uint32_t type)
{
    switch (type) {
    case MB2_TAG_CMDLINE: return "cmdline";
    case MB2_TAG_MODULE: return "module";
    case MB2_TAG_MMAP: return "memory map";
    case MB2_TAG_ACPI_OLD: return "ACPI old RSDP";
    case MB2_TAG_ACPI_NEW: return "ACPI new RSDP";
    default: return "tag";
    }
}

static void reject(struct mb2_summary *out, const struct mb2_tag *tag, const char *why)
{
    printk("multiboot2: %s tag (type %u, size %u) rejected: %s\n",
           tag_name(tag->type), tag->type, tag->size, why);
    out->tags_rejected++;
}

/* Copies the NUL-terminated string that must end inside [s, s+space). */
static bool copy_bounded_string(char *dst, size_t dst_size, const char *s, size_t space)
{
    size_t len = strnlen(s, space);
    if (len == space)
        return false;
    if (len >= dst_size)
        len = dst_size - 1;
    memcpy(dst, s, len);
    dst[len] = '\0';
    return true;
}

static void parse_cmdline(const struct mb2_tag *tag, struct mb2_summary *out)
{
    const char *text = (const char *)(tag + 1);
    size_t space = tag->size - sizeof *tag;
    if (!copy_bounded_string(out->cmdline, sizeof out->cmdline, text, space)) {
        reject(out, tag, "command line is not NUL-terminated inside the tag");
        return;
    }
    if (strnlen(text, space) >= sizeof out->cmdline)
        printk("multiboot2: command line truncated to %zu bytes\n", sizeof out->cmdline - 1);
    out->has_cmdline = true;
}

static void parse_module(const struct mb2_tag *tag, struct mb2_summary *out)
{
    if (tag->size < sizeof(struct mb2_tag_module) + 1) {
        reject(out, tag, "too small for a module tag");
        return;
    }
    const struct mb2_tag_module *m = (const struct mb2_tag_module *)tag;
    if (m->mod_end < m->mod_start) {
        reject(out, tag, "module ends before it starts");
        return;
    }
    if (out->module_count == MB2_MAX_MODULES) {
        reject(out, tag, "too many modules");
        return;
    }
    struct mb2_module *dst = &out->modules[out->module_count];
    if (!copy_bounded_string(dst->name, sizeof dst->name, (const char *)(m + 1),
                             tag->size - sizeof *m)) {
        reject(out, tag, "module string is not NUL-terminated inside the tag");
        return;
    }
    dst->start = m->mod_start;
    dst->end = m->mod_end;
    out->module_count++;
}

static void parse_mmap(const struct mb2_tag *tag, struct mb2_summary *out)
{
    if (tag->size < sizeof(struct mb2_tag_mmap)) {
        reject(out, tag, "too small for a memory map tag");
        return;
    }
    const struct mb2_tag_mmap *mm = (const struct mb2_tag_mmap *)tag;
    if (mm->entry_size < sizeof(struct mb2_mmap_wire_entry) || mm->entry_size % 8) {
        reject(out, tag, "bad memory map entry size");
        return;
    }
    size_t count = (tag->size - sizeof *mm) / mm->entry_size;
    const uint8_t *entry = (const uint8_t *)(mm + 1);
    out->has_mmap = true;
    for (size_t i = 0; i < count; i++, entry += mm->entry_size) {
        struct mb2_mmap_wire_entry e;
        memcpy(&e, entry, sizeof e);
        if (e.length == 0)
            continue;
        if (e.base + e.length < e.base) {
            printk("multiboot2: memory map entry %zu wraps around (base %#llx length %#llx), skipped\n",
                   i, (unsigned long long)e.base, (unsigned long long)e.length);
            continue;
        }
        if (out->mmap_count == MB2_MAX_MMAP_ENTRIES) {
            printk("multiboot2: more than %d memory map entries, the rest ignored\n",
                   MB2_MAX_MMAP_ENTRIES);
            break;
        }
        out->mmap[out->mmap_count++] = (struct mb2_memory_region){ e.base, e.length, e.type };
    }
}

static void parse_rsdp(const struct mb2_tag *tag, struct mb2_summary *out, size_t min_len)
{
    size_t len = tag->size - sizeof *tag;
    if (len < min_len) {
        reject(out, tag, "too small for an RSDP");
        return;
    }
    /* Prefer the new (v2+) RSDP: keep it even if the old one comes later. */
    if (tag->type == MB2_TAG_ACPI_OLD && out->rsdp_length > 20)
        return;
    if (len > MB2_RSDP_MAX)
        len = MB2_RSDP_MAX;
    memcpy(out->rsdp, tag + 1, len);
    out->rsdp_length = (unsigned)len;
}

int mb2_parse(const void *info, size_t readable, uint64_t info_phys, struct mb2_summary *out)
{
    memset(out, 0, sizeof *out);
    out->info_phys = info_phys;
    if ((uintptr_t)info % MB2_TAG_ALIGN)
        return MB2_ERR_MISALIGNED;
    if (readable < sizeof(struct mb2_info_header))
        return MB2_ERR_TRUNCATED;
    const struct mb2_info_header *header = info;
    uint32_t total = header->total_size;
    if (total < sizeof *header + sizeof(struct mb2_tag))
        return MB2_ERR_TOO_SMALL;
    if (total > readable)
        return MB2_ERR_TRUNCATED;
    out->info_size = total;

    const uint8_t *base = info;
    size_t offset = sizeof *header;
    bool saw_end = false;
    while (offset + sizeof(struct mb2_tag) <= total) {
        const struct mb2_tag *tag = (const struct mb2_tag *)(base + offset);
        if (tag->size < sizeof *tag || tag->size > total - offset) {
            reject(out, tag, "size runs past the end of the boot information; stopping");
            break;
        }
        if (tag->type == MB2_TAG_END) {
            saw_end = true;
            break;
        }
        switch (tag->type) {
        case MB2_TAG_CMDLINE: parse_cmdline(tag, out); break;
        case MB2_TAG_MODULE: parse_module(tag, out); break;
        case MB2_TAG_MMAP: parse_mmap(tag, out); break;
        case MB2_TAG_ACPI_OLD: parse_rsdp(tag, out, 20); break;
        case MB2_TAG_ACPI_NEW: parse_rsdp(tag, out, 36); break;
        default: break;
        }
        offset += (tag->size + MB2_TAG_ALIGN - 1) & ~(size_t)(MB2_TAG_ALIGN - 1);
    }
    if (!saw_end)
        printk("multiboot2: no end tag found; using the tags read so far\n");
    return MB2_OK;
}

const char *mb2_memory_type_name(uint32_t type)
{
    switch (type) {
    case MB2_MEMORY_AVAILABLE: return "available";
    case MB2_MEMORY_RESERVED: return "reserved";
    case MB2_MEMORY_ACPI_RECLAIMABLE: return "ACPI reclaimable";
    case MB2_MEMORY_NVS: return "ACPI NVS";
    case MB2_MEMORY_BADRAM: return "bad RAM";
    default: return "unknown";
    }
}

bool mb2_memory_type_is_ram(uint32_t type)
{
    return type == MB2_MEMORY_AVAILABLE || type == MB2_MEMORY_ACPI_RECLAIMABLE || type == MB2_MEMORY_NVS;
}
