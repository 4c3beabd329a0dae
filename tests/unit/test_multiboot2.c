/*
 * test_multiboot2.c - the boot information parser on well-formed and
 * malformed input: truncated and oversized tags, unterminated strings,
 * bad memory map entries, missing end tag, RSDP choice.
 */
#include "unit.h"
#include "core/multiboot2.h"

#include <string.h>

/* Builds boot information the way GRUB lays it out (8-byte aligned tags). */
struct mb2_builder {
    _Alignas(8) uint8_t bytes[8192];
    size_t used;
};

static void mb2_begin(struct mb2_builder *b)
{
    memset(b, 0, sizeof *b);
    b->used = 8;
}

static uint8_t *mb2_tag(struct mb2_builder *b, uint32_t type, uint32_t size)
{
    uint8_t *tag = b->bytes + b->used;
    memcpy(tag, &type, 4);
    memcpy(tag + 4, &size, 4);
    b->used += (size + 7) & ~7u;
    return tag;
}

static void mb2_string_tag(struct mb2_builder *b, uint32_t type, const char *s)
{
    uint8_t *tag = mb2_tag(b, type, 8 + (uint32_t)strlen(s) + 1);
    memcpy(tag + 8, s, strlen(s) + 1);
}

static void mb2_module(struct mb2_builder *b, uint32_t start, uint32_t end, const char *name)
{
    uint8_t *tag = mb2_tag(b, MB2_TAG_MODULE, 16 + (uint32_t)strlen(name) + 1);
    memcpy(tag + 8, &start, 4);
    memcpy(tag + 12, &end, 4);
    memcpy(tag + 16, name, strlen(name) + 1);
}

static void mb2_mmap(struct mb2_builder *b, const struct mb2_mmap_wire_entry *e, unsigned n, uint32_t entry_size)
{
    uint8_t *tag = mb2_tag(b, MB2_TAG_MMAP, 16 + n * entry_size);
    uint32_t version = 0;
    memcpy(tag + 8, &entry_size, 4);
    memcpy(tag + 12, &version, 4);
    for (unsigned i = 0; i < n; i++)
        memcpy(tag + 16 + i * entry_size, &e[i], sizeof e[i]);
}

static uint32_t mb2_end(struct mb2_builder *b)
{
    mb2_tag(b, MB2_TAG_END, 8);
    uint32_t total = (uint32_t)b->used;
    memcpy(b->bytes, &total, 4);
    return total;
}

static struct mb2_builder b;
static struct mb2_summary s;

static const struct mb2_mmap_wire_entry qemu_map[] = {
    { 0x0, 0x9fc00, MB2_MEMORY_AVAILABLE, 0 },
    { 0x9fc00, 0x400, MB2_MEMORY_RESERVED, 0 },
    { 0x100000, 0x1fedf000, MB2_MEMORY_AVAILABLE, 0 },
    { 0x100000000ull, 0x100000000ull, MB2_MEMORY_AVAILABLE, 0 },
};

TEST(mb2_parses_cmdline_mmap_modules_rsdp)
{
    mb2_begin(&b);
    mb2_string_tag(&b, MB2_TAG_CMDLINE, "test crash=pagefault");
    mb2_string_tag(&b, MB2_TAG_BOOTLOADER, "GRUB 2.06");
    mb2_mmap(&b, qemu_map, 4, 24);
    mb2_module(&b, 0x400000, 0x401000, "init");
    mb2_module(&b, 0x402000, 0x402000, "empty");
    uint8_t *rsdp = mb2_tag(&b, MB2_TAG_ACPI_OLD, 8 + 20);
    memcpy(rsdp + 8, "RSD PTR ", 8);
    uint32_t total = mb2_end(&b);

    CHECK_EQ(mb2_parse(b.bytes, sizeof b.bytes, 0x10000, &s), MB2_OK);
    CHECK_EQ(s.info_size, total);
    CHECK(s.has_cmdline && strcmp(s.cmdline, "test crash=pagefault") == 0);
    CHECK(s.has_mmap);
    CHECK_EQ(s.mmap_count, 4);
    CHECK_EQ(s.mmap[3].base, 0x100000000ull);
    CHECK_EQ(s.mmap[3].type, MB2_MEMORY_AVAILABLE);
    CHECK_EQ(s.module_count, 2);
    CHECK(strcmp(s.modules[0].name, "init") == 0);
    CHECK_EQ(s.modules[0].end, 0x401000);
    CHECK_EQ(s.rsdp_length, 20);
    CHECK(memcmp(s.rsdp, "RSD PTR ", 8) == 0);
    CHECK_EQ(s.tags_rejected, 0);
}

TEST(mb2_rejects_unusable_headers)
{
    mb2_begin(&b);
    uint32_t total = mb2_end(&b);
    CHECK_EQ(mb2_parse(b.bytes, total - 1, 0, &s), MB2_ERR_TRUNCATED);     /* total beyond readable */
    CHECK_EQ(mb2_parse(b.bytes, 4, 0, &s), MB2_ERR_TRUNCATED);
    CHECK_EQ(mb2_parse(b.bytes + 4, sizeof b.bytes - 4, 0, &s), MB2_ERR_MISALIGNED);
    uint32_t tiny = 12;
    memcpy(b.bytes, &tiny, 4);
    CHECK_EQ(mb2_parse(b.bytes, sizeof b.bytes, 0, &s), MB2_ERR_TOO_SMALL);
}

TEST(mb2_oversized_tag_stops_parsing_but_keeps_earlier_tags)
{
    mb2_begin(&b);
    mb2_string_tag(&b, MB2_TAG_CMDLINE, "kept");
    uint8_t *bad = mb2_tag(&b, MB2_TAG_MODULE, 24);
    uint32_t huge = 100000;
    memcpy(bad + 4, &huge, 4);          /* claims far more than the info holds */
    mb2_end(&b);
    CHECK_EQ(mb2_parse(b.bytes, sizeof b.bytes, 0, &s), MB2_OK);
    CHECK(s.has_cmdline && strcmp(s.cmdline, "kept") == 0);
    CHECK_EQ(s.module_count, 0);
    CHECK_EQ(s.tags_rejected, 1);
    CHECK(unit_log_contains("runs past the end"));
}

TEST(mb2_truncated_tag_header_and_zero_size)
{
    mb2_begin(&b);
    uint8_t *t = mb2_tag(&b, MB2_TAG_CMDLINE, 4);   /* smaller than a tag header */
    (void)t;
    b.used = 8 + 8;
    mb2_end(&b);
    CHECK_EQ(mb2_parse(b.bytes, sizeof b.bytes, 0, &s), MB2_OK);
    CHECK_EQ(s.tags_rejected, 1);
    CHECK(!s.has_cmdline);
}

TEST(mb2_unterminated_strings_are_rejected)
{
    mb2_begin(&b);
    uint8_t *cmd = mb2_tag(&b, MB2_TAG_CMDLINE, 8 + 4);
    memcpy(cmd + 8, "abcd", 4);                      /* no NUL inside the tag */
    uint8_t *mod = mb2_tag(&b, MB2_TAG_MODULE, 16 + 3);
    uint32_t start = 0x1000, end = 0x2000;
    memcpy(mod + 8, &start, 4);
    memcpy(mod + 12, &end, 4);
    memcpy(mod + 16, "xyz", 3);
    mb2_end(&b);
    CHECK_EQ(mb2_parse(b.bytes, sizeof b.bytes, 0, &s), MB2_OK);
    CHECK(!s.has_cmdline);
    CHECK_EQ(s.module_count, 0);
    CHECK_EQ(s.tags_rejected, 2);
}

TEST(mb2_bad_modules_are_rejected)
{
    mb2_begin(&b);
    mb2_module(&b, 0x5000, 0x4000, "backwards");
    mb2_tag(&b, MB2_TAG_MODULE, 12);                 /* too small */
    for (int i = 0; i < MB2_MAX_MODULES + 2; i++)
        mb2_module(&b, 0x1000, 0x2000, "m");
    mb2_end(&b);
    CHECK_EQ(mb2_parse(b.bytes, sizeof b.bytes, 0, &s), MB2_OK);
    CHECK_EQ(s.module_count, MB2_MAX_MODULES);
    CHECK_EQ(s.tags_rejected, 2 + 2);
    CHECK(unit_log_contains("ends before it starts"));
}

TEST(mb2_memory_map_validation)
{
    mb2_begin(&b);
    mb2_mmap(&b, qemu_map, 2, 20);                   /* entry size below 24 */
    mb2_end(&b);
    CHECK_EQ(mb2_parse(b.bytes, sizeof b.bytes, 0, &s), MB2_OK);
    CHECK(!s.has_mmap);
    CHECK_EQ(s.tags_rejected, 1);

    /* Larger entries (future versions) are fine; zero-length and wrapping ones are skipped. */
    struct mb2_mmap_wire_entry odd[] = {
        { 0x100000, 0x1000, MB2_MEMORY_AVAILABLE, 0 },
        { 0x200000, 0, MB2_MEMORY_AVAILABLE, 0 },
        { 0xfffffffffffff000ull, 0x2000, MB2_MEMORY_AVAILABLE, 0 },
    };
    mb2_begin(&b);
    mb2_mmap(&b, odd, 3, 32);
    mb2_end(&b);
    CHECK_EQ(mb2_parse(b.bytes, sizeof b.bytes, 0, &s), MB2_OK);
    CHECK(s.has_mmap);
    CHECK_EQ(s.mmap_count, 1);
    CHECK(unit_log_contains("wraps around"));
}

TEST(mb2_missing_end_tag_is_reported)
{
    mb2_begin(&b);
    mb2_string_tag(&b, MB2_TAG_CMDLINE, "x");
    uint32_t total = (uint32_t)b.used;
    memcpy(b.bytes, &total, 4);
    CHECK_EQ(mb2_parse(b.bytes, sizeof b.bytes, 0, &s), MB2_OK);
    CHECK(s.has_cmdline);
    CHECK(unit_log_contains("no end tag"));
}

TEST(mb2_prefers_new_rsdp_over_old)
{
    mb2_begin(&b);
    uint8_t *nw = mb2_tag(&b, MB2_TAG_ACPI_NEW, 8 + 36);
    memset(nw + 8, 'N', 36);
    uint8_t *old = mb2_tag(&b, MB2_TAG_ACPI_OLD, 8 + 20);
    memset(old + 8, 'O', 20);
    mb2_tag(&b, MB2_TAG_ACPI_NEW, 8 + 10);           /* too small: rejected */
    mb2_end(&b);
    CHECK_EQ(mb2_parse(b.bytes, sizeof b.bytes, 0, &s), MB2_OK);
    CHECK_EQ(s.rsdp_length, 36);
    CHECK_EQ(s.rsdp[0], 'N');
    CHECK_EQ(s.tags_rejected, 1);
}

TEST(mb2_long_cmdline_is_truncated)
{
    static char text[MB2_CMDLINE_MAX + 100];
    memset(text, 'a', sizeof text - 1);
    text[sizeof text - 1] = '\0';
    mb2_begin(&b);
    mb2_string_tag(&b, MB2_TAG_CMDLINE, text);
    mb2_end(&b);
    CHECK_EQ(mb2_parse(b.bytes, sizeof b.bytes, 0, &s), MB2_OK);
    CHECK_EQ(strlen(s.cmdline), MB2_CMDLINE_MAX - 1);
    CHECK(unit_log_contains("truncated"));
}

TEST(mb2_ram_types)
{
    CHECK(mb2_memory_type_is_ram(MB2_MEMORY_AVAILABLE));
    CHECK(mb2_memory_type_is_ram(MB2_MEMORY_ACPI_RECLAIMABLE));
    CHECK(mb2_memory_type_is_ram(MB2_MEMORY_NVS));
    CHECK(!mb2_memory_type_is_ram(MB2_MEMORY_RESERVED));
    CHECK(!mb2_memory_type_is_ram(MB2_MEMORY_BADRAM));
    CHECK(!mb2_memory_type_is_ram(0));
}
