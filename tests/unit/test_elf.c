/*
 * test_elf.c - the ELF64 executable parser on synthetic images: a valid
 * program parsed exactly, truncation at every length, every header and
 * program header check, segment bounds, congruence, user range, W+X,
 * page-granular overlap, the segment limit and the entry point.
 */
#include "unit.h"
#include "core/elf.h"

#include <string.h>

#define USER_MIN 0x400000ull
#define USER_MAX 0x00007FFFFFFFF000ull

/* The image under test: a header and program headers, serialized by emit(). */
static struct elf64_header eh;
static struct elf64_phdr ph[80];
static _Alignas(8) uint8_t img[0x4000 + 1];
static size_t img_size;
static struct elf_image out;

static void add_phdr(uint32_t type, uint32_t flags, uint64_t offset, uint64_t vaddr,
                     uint64_t filesz, uint64_t memsz)
{
    ph[eh.phnum++] = (struct elf64_phdr){
        .type = type, .flags = flags, .offset = offset, .vaddr = vaddr, .paddr = vaddr,
        .filesz = filesz, .memsz = memsz, .align = 0x1000,
    };
}

static void header_only(void)
{
    memset(&eh, 0, sizeof eh);
    memset(ph, 0, sizeof ph);
    memcpy(eh.ident, "\x7f" "ELF", 4);
    eh.ident[ELF_IDENT_CLASS] = ELF_CLASS_64;
    eh.ident[ELF_IDENT_DATA] = ELF_DATA_LSB;
    eh.ident[ELF_IDENT_VERSION] = ELF_VERSION_CURRENT;
    eh.ident[ELF_IDENT_OSABI] = ELF_OSABI_SYSV;
    eh.type = ELF_TYPE_EXEC;
    eh.machine = ELF_MACHINE_X86_64;
    eh.version = ELF_VERSION_CURRENT;
    eh.entry = 0x401010;
    eh.phoff = sizeof eh;
    eh.ehsize = sizeof eh;
    eh.phentsize = sizeof(struct elf64_phdr);
    img_size = 0x2200;
}

/* A typical static executable: text (R+X), rodata (R), data+bss (R+W),
 * plus a note and GNU_STACK that carry nothing to load. */
static void valid(void)
{
    header_only();
    add_phdr(ELF_PT_NOTE, ELF_PF_R, 0x200, 0x400200, 0x20, 0x20);
    add_phdr(ELF_PT_LOAD, ELF_PF_R | ELF_PF_X, 0x1000, 0x401000, 0x800, 0x800);
    add_phdr(ELF_PT_LOAD, ELF_PF_R, 0x2000, 0x402000, 0x100, 0x100);
    add_phdr(ELF_PT_LOAD, ELF_PF_R | ELF_PF_W, 0x2100, 0x403100, 0x100, 0x3000);   /* to the end */
    add_phdr(ELF_PT_GNU_STACK, ELF_PF_R | ELF_PF_W, 0, 0, 0, 0);
}

/* Writes eh and as many program headers as fit at eh.phoff into img. */
static void emit(void)
{
    memset(img, 0xcc, sizeof img);
    memcpy(img, &eh, sizeof eh);
    for (unsigned i = 0; i < eh.phnum && i < sizeof ph / sizeof ph[0]; i++) {
        uint64_t at = eh.phoff + (uint64_t)i * sizeof ph[i];
        if (at < eh.phoff || at > sizeof img - sizeof ph[i])
            break;
        memcpy(img + at, &ph[i], sizeof ph[i]);
    }
}

static int parse_len(size_t size)
{
    emit();
    return elf_parse(img, size, USER_MIN, USER_MAX, &out);
}

static int parse(void)
{
    return parse_len(img_size);
}

static bool out_is_zero(void)
{
    static const struct elf_image zero;
    return memcmp(&out, &zero, sizeof out) == 0;
}

TEST(elf_parses_valid_executable_exactly)
{
    valid();
    memset(&out, 0xff, sizeof out);
    CHECK_EQ(parse(), ELF_OK);
    CHECK_EQ(out.entry, 0x401010);
    CHECK_EQ(out.segment_count, 3);
    CHECK_EQ(out.segments[0].vaddr, 0x401000);
    CHECK_EQ(out.segments[0].memsz, 0x800);
    CHECK_EQ(out.segments[0].file_offset, 0x1000);
    CHECK_EQ(out.segments[0].filesz, 0x800);
    CHECK_EQ(out.segments[0].flags, ELF_SEG_R | ELF_SEG_X);
    CHECK_EQ(out.segments[1].vaddr, 0x402000);
    CHECK_EQ(out.segments[1].flags, ELF_SEG_R);
    CHECK_EQ(out.segments[2].vaddr, 0x403100);
    CHECK_EQ(out.segments[2].memsz, 0x3000);
    CHECK_EQ(out.segments[2].file_offset, 0x2100);
    CHECK_EQ(out.segments[2].filesz, 0x100);
    CHECK_EQ(out.segments[2].flags, ELF_SEG_R | ELF_SEG_W);
    for (unsigned i = 3; i < ELF_MAX_SEGMENTS; i++)
        CHECK_EQ(out.segments[i].memsz, 0);
}

TEST(elf_parses_unaligned_image_and_accepts_gnu_osabi)
{
    valid();
    eh.ident[ELF_IDENT_OSABI] = ELF_OSABI_GNU;
    emit();
    memmove(img + 1, img, sizeof img - 1);
    CHECK_EQ(elf_parse(img + 1, img_size, USER_MIN, USER_MAX, &out), ELF_OK);
    CHECK_EQ(out.segment_count, 3);
    CHECK_EQ(out.entry, 0x401010);
}

TEST(elf_truncated_at_every_shorter_length)
{
    valid();
    size_t headers_end = sizeof eh + eh.phnum * sizeof(struct elf64_phdr);
    for (size_t len = 0; len < img_size; len++) {
        memset(&out, 0xff, sizeof out);
        int r = parse_len(len);
        int expected = len < sizeof eh ? ELF_ERR_TRUNCATED
                     : len < headers_end ? ELF_ERR_BAD_PHDR
                     : ELF_ERR_BAD_SEGMENT;     /* a segment's file bytes run past the end */
        if (!CHECK_EQ(r, expected) || !CHECK(out_is_zero()))
            break;
    }
    CHECK_EQ(elf_parse(NULL, 0, USER_MIN, USER_MAX, &out), ELF_ERR_TRUNCATED);
}

TEST(elf_rejects_bad_magic)
{
    for (unsigned i = 0; i < 4; i++) {
        valid();
        eh.ident[i] ^= 0x20;
        CHECK_EQ(parse(), ELF_ERR_NOT_ELF);
    }
}

TEST(elf_rejects_wrong_class_endianness_and_versions)
{
    valid();
    eh.ident[ELF_IDENT_CLASS] = 1;          /* ELFCLASS32 */
    CHECK_EQ(parse(), ELF_ERR_UNSUPPORTED);
    valid();
    eh.ident[ELF_IDENT_CLASS] = 0;
    CHECK_EQ(parse(), ELF_ERR_UNSUPPORTED);
    valid();
    eh.ident[ELF_IDENT_DATA] = 2;           /* big endian */
    CHECK_EQ(parse(), ELF_ERR_UNSUPPORTED);
    valid();
    eh.ident[ELF_IDENT_VERSION] = 0;
    CHECK_EQ(parse(), ELF_ERR_UNSUPPORTED);
    valid();
    eh.version = 2;
    CHECK_EQ(parse(), ELF_ERR_UNSUPPORTED);
    valid();
    eh.ident[ELF_IDENT_OSABI] = 9;          /* FreeBSD */
    CHECK_EQ(parse(), ELF_ERR_UNSUPPORTED);
    valid();
    eh.ehsize = 52;
    CHECK_EQ(parse(), ELF_ERR_UNSUPPORTED);
}

TEST(elf_rejects_wrong_machine_and_type)
{
    static const uint16_t machines[] = { 0, 3 /* i386 */, 183 /* aarch64 */, 243 /* riscv */ };
    for (unsigned i = 0; i < sizeof machines / sizeof machines[0]; i++) {
        valid();
        eh.machine = machines[i];
        CHECK_EQ(parse(), ELF_ERR_UNSUPPORTED);
    }
    static const uint16_t types[] = { 0, 1 /* REL */, ELF_TYPE_DYN, 4 /* CORE */ };
    for (unsigned i = 0; i < sizeof types / sizeof types[0]; i++) {
        valid();
        eh.type = types[i];
        CHECK_EQ(parse(), ELF_ERR_UNSUPPORTED);
    }
}

TEST(elf_rejects_bad_phentsize_and_phnum)
{
    static const uint16_t sizes[] = { 0, 32, 55, 57, 64 };
    for (unsigned i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        valid();
        eh.phentsize = sizes[i];
        CHECK_EQ(parse(), ELF_ERR_BAD_PHDR);
    }
    valid();
    eh.phnum = ELF_MAX_PHDRS + 1;
    CHECK_EQ(parse(), ELF_ERR_BAD_PHDR);
    valid();
    eh.phnum = 0xffff;                      /* PN_XNUM: count lives in a section header */
    CHECK_EQ(parse(), ELF_ERR_BAD_PHDR);
}

TEST(elf_rejects_phdr_table_outside_image)
{
    valid();
    eh.phoff = img_size - sizeof(struct elf64_phdr);    /* first entry fits, the rest do not */
    CHECK_EQ(parse(), ELF_ERR_BAD_PHDR);
    valid();
    eh.phoff = img_size;
    CHECK_EQ(parse(), ELF_ERR_BAD_PHDR);
    static const uint64_t huge[] = { UINT64_MAX, UINT64_MAX - 55, UINT64_MAX - 5 * 56 + 1,
                                     1ull << 63, 0x100000000ull };
    for (unsigned i = 0; i < sizeof huge / sizeof huge[0]; i++) {
        valid();
        eh.phoff = huge[i];                 /* phoff + table size overflows or is far out */
        CHECK_EQ(parse(), ELF_ERR_BAD_PHDR);
    }
    /* The table may sit anywhere inside the image, not only after the header. */
    valid();
    eh.phoff = 0x300;
    CHECK_EQ(parse(), ELF_OK);
}

TEST(elf_requires_a_load_segment)
{
    header_only();
    eh.phoff = 0;
    CHECK_EQ(parse(), ELF_ERR_NO_SEGMENTS);
    header_only();
    add_phdr(ELF_PT_NOTE, ELF_PF_R, 0x200, 0x400200, 0x20, 0x20);
    add_phdr(ELF_PT_GNU_STACK, ELF_PF_R | ELF_PF_W, 0, 0, 0, 0);
    CHECK_EQ(parse(), ELF_ERR_NO_SEGMENTS);
}

TEST(elf_ignores_other_segment_types_and_unknown_flag_bits)
{
    valid();
    add_phdr(ELF_PT_NULL, 0, 0, 0, 0, 0);
    add_phdr(ELF_PT_PHDR, ELF_PF_R, sizeof eh, 0x400040, 0x100, 0x100);
    add_phdr(0x6474e552 /* GNU_RELRO */, ELF_PF_R, 0x2100, 0x403100, 0x100, 0x100);
    add_phdr(0x70000000 /* processor-specific */, ELF_PF_R, 0, 0, 0, 0);
    ph[1].flags |= 0x0ff00000;              /* PF_MASKOS bits */
    CHECK_EQ(parse(), ELF_OK);
    CHECK_EQ(out.segment_count, 3);
    CHECK_EQ(out.segments[0].flags, ELF_SEG_R | ELF_SEG_X);
}

TEST(elf_rejects_interpreter_dynamic_and_tls)
{
    static const uint32_t types[] = { ELF_PT_INTERP, ELF_PT_DYNAMIC, ELF_PT_TLS, ELF_PT_SHLIB };
    for (unsigned i = 0; i < sizeof types / sizeof types[0]; i++) {
        valid();
        add_phdr(types[i], ELF_PF_R, 0x2000, 0x402000, 0x10, 0x10);
        CHECK_EQ(parse(), ELF_ERR_UNSUPPORTED);
    }
}

TEST(elf_rejects_filesz_above_memsz_and_empty_segment)
{
    valid();
    ph[2].filesz = ph[2].memsz + 1;
    CHECK_EQ(parse(), ELF_ERR_BAD_SEGMENT);
    valid();
    ph[2].filesz = 0;
    ph[2].memsz = 0;
    CHECK_EQ(parse(), ELF_ERR_BAD_SEGMENT);
    /* A segment with no file bytes (all bss) is fine. */
    valid();
    ph[3].filesz = 0;
    CHECK_EQ(parse(), ELF_OK);
    CHECK_EQ(out.segments[2].filesz, 0);
}

TEST(elf_rejects_file_range_outside_image)
{
    valid();
    ph[3].filesz = img_size - ph[3].offset + 1;     /* one byte past the end */
    ph[3].memsz = 0x3000;
    CHECK_EQ(parse(), ELF_ERR_BAD_SEGMENT);
    valid();
    ph[3].filesz = img_size - ph[3].offset;         /* exactly to the end */
    CHECK_EQ(parse(), ELF_OK);
    valid();
    ph[2].offset = UINT64_MAX - 0xfff;              /* congruent with vaddr, offset + filesz wraps */
    ph[2].filesz = 0x1000;
    ph[2].memsz = 0x1000;
    CHECK_EQ(parse(), ELF_ERR_BAD_SEGMENT);
    valid();
    ph[2].offset = 0x10000000;                      /* congruent, far past the end */
    CHECK_EQ(parse(), ELF_ERR_BAD_SEGMENT);
    valid();
    ph[2].filesz = UINT64_MAX;
    ph[2].memsz = UINT64_MAX;
    CHECK_EQ(parse(), ELF_ERR_BAD_SEGMENT);
}

TEST(elf_rejects_offset_not_congruent_with_vaddr)
{
    valid();
    ph[1].offset = 0x1010;
    CHECK_EQ(parse(), ELF_ERR_BAD_SEGMENT);
    valid();
    ph[3].vaddr = 0x403000;                         /* offset 0x2100 */
    CHECK_EQ(parse(), ELF_ERR_BAD_SEGMENT);
    /* Congruent modulo the page, not equal: fine. */
    valid();
    ph[3].vaddr = 0x505100;
    CHECK_EQ(parse(), ELF_OK);
}

TEST(elf_rejects_segment_outside_user_range)
{
    valid();
    ph[1].vaddr = USER_MIN - 0x1000;
    ph[1].offset = 0x1000;
    eh.entry = ph[1].vaddr;
    CHECK_EQ(parse(), ELF_ERR_BAD_SEGMENT);
    valid();
    ph[1].vaddr = 0;
    eh.entry = 0;
    CHECK_EQ(parse(), ELF_ERR_BAD_SEGMENT);
    /* Starting exactly at user_min is fine. */
    valid();
    ph[1].vaddr = USER_MIN;
    eh.entry = USER_MIN;
    CHECK_EQ(parse(), ELF_OK);
    /* The page-rounded range must fit: a segment in user_min's page but
     * starting above an unaligned user_min would map below it. */
    valid();
    ph[1].vaddr = 0x401010;
    ph[1].offset = 0x1010;
    emit();
    CHECK_EQ(elf_parse(img, img_size, 0x401000, USER_MAX, &out), ELF_OK);
    CHECK_EQ(elf_parse(img, img_size, 0x401008, USER_MAX, &out), ELF_ERR_BAD_SEGMENT);
    /* An empty or inverted user range accepts nothing. */
    CHECK_EQ(elf_parse(img, img_size, USER_MAX, USER_MIN, &out), ELF_ERR_BAD_SEGMENT);
}

TEST(elf_rejects_segment_end_above_user_max_or_overflowing)
{
    valid();
    ph[3].vaddr = USER_MAX - 0x3f00;                /* ends exactly at user_max */
    ph[3].memsz = 0x3f00;
    CHECK_EQ(parse(), ELF_OK);
    valid();
    ph[3].vaddr = USER_MAX - 0x3f00;                /* one byte, so one page, over */
    ph[3].memsz = 0x3f01;
    CHECK_EQ(parse(), ELF_ERR_BAD_SEGMENT);
    valid();
    ph[3].vaddr = USER_MAX;
    ph[3].offset = 0x2000;
    CHECK_EQ(parse(), ELF_ERR_BAD_SEGMENT);
    valid();
    ph[3].vaddr = 0xfffffffffffff100ull;            /* vaddr + memsz wraps */
    CHECK_EQ(parse(), ELF_ERR_BAD_SEGMENT);
    valid();
    ph[3].memsz = UINT64_MAX - ph[3].vaddr + 1;     /* vaddr + memsz == 2^64 */
    CHECK_EQ(parse(), ELF_ERR_BAD_SEGMENT);
    /* Rounding the end up to a page would wrap, even with no upper limit. */
    valid();
    ph[3].vaddr = UINT64_MAX - 0xeff;               /* % 0x1000 == 0x100 */
    ph[3].filesz = 0x10;
    ph[3].memsz = 0x10;
    ph[3].offset = 0x2100;
    emit();
    CHECK_EQ(elf_parse(img, img_size, USER_MIN, UINT64_MAX, &out), ELF_ERR_BAD_SEGMENT);
    /* The page-rounded end must fit below an unaligned user_max too
     * (data+bss ends at 0x406100, in the page ending at 0x407000). */
    valid();
    emit();
    CHECK_EQ(elf_parse(img, img_size, USER_MIN, 0x407000, &out), ELF_OK);
    CHECK_EQ(elf_parse(img, img_size, USER_MIN, 0x406110, &out), ELF_ERR_BAD_SEGMENT);
}

TEST(elf_rejects_writable_executable_segment)
{
    valid();
    ph[1].flags = ELF_PF_R | ELF_PF_W | ELF_PF_X;
    CHECK_EQ(parse(), ELF_ERR_BAD_SEGMENT);
    valid();
    ph[3].flags = ELF_PF_W | ELF_PF_X;
    CHECK_EQ(parse(), ELF_ERR_BAD_SEGMENT);
}

TEST(elf_rejects_segments_sharing_a_page)
{
    valid();
    ph[2].vaddr = ph[1].vaddr;                      /* identical start */
    ph[2].offset = 0x1000;
    CHECK_EQ(parse(), ELF_ERR_BAD_SEGMENT);
    valid();
    ph[2].vaddr = 0x401800;                         /* same page, disjoint bytes */
    ph[2].offset = 0x1800;
    CHECK_EQ(parse(), ELF_ERR_BAD_SEGMENT);
    valid();
    ph[1].vaddr = 0x402800;                         /* same page, disjoint bytes, text listed first */
    ph[1].offset = 0x1800;
    eh.entry = 0x402800;
    CHECK_EQ(parse(), ELF_ERR_BAD_SEGMENT);
    valid();
    ph[1].vaddr = 0x404000;                         /* text inside data+bss's pages */
    eh.entry = 0x404010;
    CHECK_EQ(parse(), ELF_ERR_BAD_SEGMENT);
    valid();
    ph[3].vaddr = 0x400100;                         /* data+bss covers text and rodata */
    ph[3].memsz = 0x10000;
    CHECK_EQ(parse(), ELF_ERR_BAD_SEGMENT);
    /* Adjacent pages are fine, in any order. */
    valid();
    ph[1].vaddr = 0x407000;                         /* data+bss's last page is 0x406000 */
    eh.entry = 0x407000;
    CHECK_EQ(parse(), ELF_OK);
}

TEST(elf_limits_load_segments)
{
    header_only();
    eh.entry = 0x500000;
    for (unsigned i = 0; i < ELF_MAX_SEGMENTS; i++)
        add_phdr(ELF_PT_LOAD, i == 0 ? ELF_PF_R | ELF_PF_X : ELF_PF_R, 0, 0x500000 + i * 0x1000ull,
                 0, 0x1000);
    CHECK_EQ(parse(), ELF_OK);
    CHECK_EQ(out.segment_count, ELF_MAX_SEGMENTS);
    CHECK_EQ(out.segments[ELF_MAX_SEGMENTS - 1].vaddr, 0x500000 + (ELF_MAX_SEGMENTS - 1) * 0x1000ull);
    add_phdr(ELF_PT_LOAD, ELF_PF_R, 0, 0x600000, 0, 0x1000);
    memset(&out, 0xff, sizeof out);
    CHECK_EQ(parse(), ELF_ERR_TOO_MANY);
    CHECK(out_is_zero());
    /* Up to ELF_MAX_PHDRS headers in all are fine when few of them load. */
    valid();
    while (eh.phnum < ELF_MAX_PHDRS)
        add_phdr(ELF_PT_NOTE, ELF_PF_R, 0x200, 0x400200, 0x20, 0x20);
    img_size = 0x4000;
    CHECK_EQ(parse(), ELF_OK);
}

TEST(elf_rejects_entry_outside_executable_segments)
{
    static const uint64_t entries[] = {
        0, 0x400fff, 0x401800 /* just past text */, 0x402000 /* rodata */,
        0x403100 /* data */, 0x405000 /* bss */, UINT64_MAX,
    };
    for (unsigned i = 0; i < sizeof entries / sizeof entries[0]; i++) {
        valid();
        eh.entry = entries[i];
        if (!CHECK_EQ(parse(), ELF_ERR_BAD_ENTRY))
            break;
    }
    valid();
    eh.entry = 0x401000;                            /* first byte of text */
    CHECK_EQ(parse(), ELF_OK);
    valid();
    eh.entry = 0x4017ff;                            /* last byte of text */
    CHECK_EQ(parse(), ELF_OK);
    /* No executable segment at all. */
    valid();
    ph[1].flags = ELF_PF_R;
    CHECK_EQ(parse(), ELF_ERR_BAD_ENTRY);
}

TEST(elf_result_names_are_distinct)
{
    static const int results[] = {
        ELF_OK, ELF_ERR_TRUNCATED, ELF_ERR_NOT_ELF, ELF_ERR_UNSUPPORTED, ELF_ERR_BAD_PHDR,
        ELF_ERR_BAD_SEGMENT, ELF_ERR_BAD_ENTRY, ELF_ERR_TOO_MANY, ELF_ERR_NO_SEGMENTS,
    };
    const unsigned n = sizeof results / sizeof results[0];
    for (unsigned i = 0; i < n; i++) {
        CHECK(strcmp(elf_result_name(results[i]), "unknown") != 0);
        for (unsigned j = i + 1; j < n; j++)
            CHECK(strcmp(elf_result_name(results[i]), elf_result_name(results[j])) != 0);
    }
    CHECK(strcmp(elf_result_name(1), "unknown") == 0);
    CHECK(strcmp(elf_result_name(-9), "unknown") == 0);
    CHECK(strcmp(elf_result_name(ELF_OK), "ok") == 0);
}
