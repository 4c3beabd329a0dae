/*
 * elf.c - validates an ELF64 x86-64 executable and summarizes its PT_LOAD
 * segments for a loader. See elf.h for the guarantees of a successful parse.
 *
 * Invariants: every read of the image is a bounds-checked memcpy (the image
 * may be unaligned and arbitrarily corrupt); every sum of two untrusted
 * values is checked for overflow before it is used; *out holds a result
 * only when ELF_OK is returned.
 */
#include "elf.h"        /* same directory: user space builds this file too */

#include <string.h>

/* off + len <= size, without overflow. */
static bool range_inside(uint64_t off, uint64_t len, uint64_t size)
{
    return off <= size && len <= size - off;
}

static int check_header(const struct elf64_header *h)
{
    static const uint8_t magic[4] = { 0x7f, 'E', 'L', 'F' };
    if (memcmp(&h->ident[ELF_IDENT_MAG0], magic, sizeof magic) != 0)
        return ELF_ERR_NOT_ELF;
    if (h->ident[ELF_IDENT_CLASS] != ELF_CLASS_64 || h->ident[ELF_IDENT_DATA] != ELF_DATA_LSB ||
        h->ident[ELF_IDENT_VERSION] != ELF_VERSION_CURRENT)
        return ELF_ERR_UNSUPPORTED;
    if (h->ident[ELF_IDENT_OSABI] != ELF_OSABI_SYSV && h->ident[ELF_IDENT_OSABI] != ELF_OSABI_GNU)
        return ELF_ERR_UNSUPPORTED;
    if (h->type != ELF_TYPE_EXEC || h->machine != ELF_MACHINE_X86_64 ||
        h->version != ELF_VERSION_CURRENT || h->ehsize != sizeof *h)
        return ELF_ERR_UNSUPPORTED;
    return ELF_OK;
}

static int check_phdr_table(const struct elf64_header *h, uint64_t size)
{
    if (h->phnum == 0)
        return ELF_OK;                  /* reported as ELF_ERR_NO_SEGMENTS */
    if (h->phentsize != sizeof(struct elf64_phdr) || h->phnum > ELF_MAX_PHDRS)
        return ELF_ERR_BAD_PHDR;
    /* phnum <= ELF_MAX_PHDRS, so the product cannot overflow. */
    if (!range_inside(h->phoff, (uint64_t)h->phnum * sizeof(struct elf64_phdr), size))
        return ELF_ERR_BAD_PHDR;
    return ELF_OK;
}

static uint64_t page_down(uint64_t a)
{
    return a & ~(ELF_PAGE_SIZE - 1);
}

/* Callers make sure a + ELF_PAGE_SIZE - 1 does not overflow. */
static uint64_t page_up(uint64_t a)
{
    return (a + ELF_PAGE_SIZE - 1) & ~(ELF_PAGE_SIZE - 1);
}

static int check_load(const struct elf64_phdr *p, uint64_t size, uint64_t user_min,
                      uint64_t user_max)
{
    if (p->memsz == 0 || p->filesz > p->memsz)
        return ELF_ERR_BAD_SEGMENT;
    if (!range_inside(p->offset, p->filesz, size))
        return ELF_ERR_BAD_SEGMENT;
    if (p->vaddr % ELF_PAGE_SIZE != p->offset % ELF_PAGE_SIZE)
        return ELF_ERR_BAD_SEGMENT;
    /* The loader maps whole pages: the page-rounded range must fit. */
    if (p->memsz > UINT64_MAX - p->vaddr || p->vaddr + p->memsz > UINT64_MAX - (ELF_PAGE_SIZE - 1))
        return ELF_ERR_BAD_SEGMENT;
    if (page_down(p->vaddr) < user_min || page_up(p->vaddr + p->memsz) > user_max)
        return ELF_ERR_BAD_SEGMENT;
    if ((p->flags & ELF_PF_W) && (p->flags & ELF_PF_X))
        return ELF_ERR_BAD_SEGMENT;
    return ELF_OK;
}

/* Whether any two segments share a page. Their page-rounded ends were
 * checked not to overflow. */
static bool segments_overlap(const struct elf_image *img)
{
    for (unsigned i = 0; i < img->segment_count; i++) {
        const struct elf_segment *a = &img->segments[i];
        for (unsigned j = i + 1; j < img->segment_count; j++) {
            const struct elf_segment *b = &img->segments[j];
            if (page_down(a->vaddr) < page_up(b->vaddr + b->memsz) &&
                page_down(b->vaddr) < page_up(a->vaddr + a->memsz))
                return true;
        }
    }
    return false;
}

static bool entry_executable(const struct elf_image *img)
{
    for (unsigned i = 0; i < img->segment_count; i++) {
        const struct elf_segment *s = &img->segments[i];
        /* vaddr + memsz was checked not to overflow. */
        if ((s->flags & ELF_SEG_X) && img->entry >= s->vaddr && img->entry - s->vaddr < s->memsz)
            return true;
    }
    return false;
}

static int parse(const uint8_t *bytes, uint64_t size, uint64_t user_min, uint64_t user_max,
                 struct elf_image *out)
{
    struct elf64_header h;
    if (size < sizeof h)
        return ELF_ERR_TRUNCATED;
    memcpy(&h, bytes, sizeof h);
    int r = check_header(&h);
    if (r == ELF_OK)
        r = check_phdr_table(&h, size);
    if (r != ELF_OK)
        return r;

    for (unsigned i = 0; i < h.phnum; i++) {
        struct elf64_phdr p;
        memcpy(&p, bytes + h.phoff + (uint64_t)i * sizeof p, sizeof p);
        switch (p.type) {
        case ELF_PT_LOAD:
            break;
        case ELF_PT_DYNAMIC:
        case ELF_PT_INTERP:
        case ELF_PT_SHLIB:
        case ELF_PT_TLS:
            return ELF_ERR_UNSUPPORTED;     /* the loader cannot honour these */
        default:
            continue;                       /* notes, GNU_STACK, PHDR, ...: nothing to load */
        }
        r = check_load(&p, size, user_min, user_max);
        if (r != ELF_OK)
            return r;
        if (out->segment_count == ELF_MAX_SEGMENTS)
            return ELF_ERR_TOO_MANY;
        out->segments[out->segment_count++] = (struct elf_segment){
            .vaddr = p.vaddr,
            .memsz = p.memsz,
            .file_offset = p.offset,
            .filesz = p.filesz,
            .flags = p.flags & (ELF_SEG_R | ELF_SEG_W | ELF_SEG_X),
        };
    }
    if (out->segment_count == 0)
        return ELF_ERR_NO_SEGMENTS;
    if (segments_overlap(out))
        return ELF_ERR_BAD_SEGMENT;
    out->entry = h.entry;
    if (!entry_executable(out))
        return ELF_ERR_BAD_ENTRY;
    return ELF_OK;
}

int elf_parse(const void *image, size_t size, uint64_t user_min, uint64_t user_max,
              struct elf_image *out)
{
    memset(out, 0, sizeof *out);
    int r = parse(image, size, user_min, user_max, out);
    if (r != ELF_OK)
        memset(out, 0, sizeof *out);
    return r;
}

const char *elf_result_name(int result)
{
    switch (result) {
    case ELF_OK: return "ok";
    case ELF_ERR_TRUNCATED: return "truncated";
    case ELF_ERR_NOT_ELF: return "not an ELF file";
    case ELF_ERR_UNSUPPORTED: return "unsupported ELF kind";
    case ELF_ERR_BAD_PHDR: return "bad program header table";
    case ELF_ERR_BAD_SEGMENT: return "bad segment";
    case ELF_ERR_BAD_ENTRY: return "entry point not in an executable segment";
    case ELF_ERR_TOO_MANY: return "too many segments";
    case ELF_ERR_NO_SEGMENTS: return "no loadable segments";
    default: return "unknown";
    }
}
