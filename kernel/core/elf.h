/*
 * elf.h - the ELF64 executable format (wire layout of the file header and
 * program headers) and the validated summary a loader works from. Shared by
 * the kernel (which loads init) and user space (init loads other programs).
 *
 * elf_parse() never trusts the input: it checks the identification, the
 * header, the program header table's bounds and every PT_LOAD segment
 * before it reports anything. On success every segment in the summary has
 * its file bytes inside the image, its page-rounded memory range inside
 * [user_min, user_max), is not both writable and executable, and shares no
 * page with any other segment; the entry point lies in an executable
 * segment. The loader may use the summary without further checks.
 *
 * Pure code: only <stdint.h>, <stddef.h>, <stdbool.h> and memcpy/memset
 * from <string.h>; no printk, no allocation.
 */
#ifndef WARDEN_CORE_ELF_H
#define WARDEN_CORE_ELF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Wire layout (System V ABI, ELF-64 object file format). */
#define ELF_IDENT_SIZE 16
enum elf_ident_index {
    ELF_IDENT_MAG0 = 0,         /* 0x7f 'E' 'L' 'F' in bytes 0..3 */
    ELF_IDENT_CLASS = 4,
    ELF_IDENT_DATA = 5,
    ELF_IDENT_VERSION = 6,
    ELF_IDENT_OSABI = 7,
};

#define ELF_CLASS_64 2
#define ELF_DATA_LSB 1          /* little endian */
#define ELF_VERSION_CURRENT 1
#define ELF_OSABI_SYSV 0
#define ELF_OSABI_GNU 3
#define ELF_TYPE_EXEC 2
#define ELF_TYPE_DYN 3
#define ELF_MACHINE_X86_64 62

struct elf64_header {
    uint8_t ident[ELF_IDENT_SIZE];
    uint16_t type;
    uint16_t machine;
    uint32_t version;
    uint64_t entry;
    uint64_t phoff;             /* program header table's file offset */
    uint64_t shoff;
    uint32_t flags;
    uint16_t ehsize;            /* size of this header */
    uint16_t phentsize;         /* size of one program header */
    uint16_t phnum;
    uint16_t shentsize;
    uint16_t shnum;
    uint16_t shstrndx;
};

enum elf_segment_type {
    ELF_PT_NULL = 0,
    ELF_PT_LOAD = 1,
    ELF_PT_DYNAMIC = 2,
    ELF_PT_INTERP = 3,
    ELF_PT_NOTE = 4,
    ELF_PT_SHLIB = 5,
    ELF_PT_PHDR = 6,
    ELF_PT_TLS = 7,
    ELF_PT_GNU_STACK = 0x6474e551,
};

/* Program header p_flags bits. */
#define ELF_PF_X 0x1u
#define ELF_PF_W 0x2u
#define ELF_PF_R 0x4u

struct elf64_phdr {
    uint32_t type;
    uint32_t flags;
    uint64_t offset;            /* file offset of the segment's bytes */
    uint64_t vaddr;
    uint64_t paddr;
    uint64_t filesz;            /* bytes taken from the file */
    uint64_t memsz;             /* bytes in memory; the rest is zero */
    uint64_t align;
};

_Static_assert(sizeof(struct elf64_header) == 64, "ELF64 file header is 64 bytes");
_Static_assert(sizeof(struct elf64_phdr) == 56, "ELF64 program header is 56 bytes");

/* The validated summary. */
#define ELF_MAX_SEGMENTS 8      /* PT_LOAD segments a program may have */
#define ELF_MAX_PHDRS 64        /* program headers of any type */
#define ELF_PAGE_SIZE 4096ull

/* elf_segment.flags: the same bits as p_flags, unknown bits dropped. */
#define ELF_SEG_X ELF_PF_X
#define ELF_SEG_W ELF_PF_W
#define ELF_SEG_R ELF_PF_R

struct elf_segment {
    uint64_t vaddr;             /* not page-aligned in general */
    uint64_t memsz;             /* > 0 */
    uint64_t file_offset;       /* vaddr % 4096 == file_offset % 4096 */
    uint64_t filesz;            /* <= memsz; bytes past filesz are zero */
    uint32_t flags;             /* ELF_SEG_R/W/X, never both W and X */
};

struct elf_image {
    uint64_t entry;
    unsigned segment_count;     /* 1..ELF_MAX_SEGMENTS, in program header order */
    struct elf_segment segments[ELF_MAX_SEGMENTS];
};

enum elf_result {
    ELF_OK = 0,
    ELF_ERR_TRUNCATED = -1,     /* image shorter than the ELF file header */
    ELF_ERR_NOT_ELF = -2,       /* bad magic */
    ELF_ERR_UNSUPPORTED = -3,   /* not ELF64 LE x86-64 ET_EXEC v1, or needs an interpreter,
                                   dynamic linking or TLS */
    ELF_ERR_BAD_PHDR = -4,      /* phentsize, phnum or table bounds */
    ELF_ERR_BAD_SEGMENT = -5,   /* bounds, alignment, overlap, filesz > memsz, W+X */
    ELF_ERR_BAD_ENTRY = -6,     /* entry not inside an executable segment */
    ELF_ERR_TOO_MANY = -7,      /* more than ELF_MAX_SEGMENTS PT_LOAD segments */
    ELF_ERR_NO_SEGMENTS = -8,   /* no PT_LOAD segment */
};

/*
 * Validates the ELF executable in image[0, size) for loading into the user
 * range [user_min, user_max) (exclusive end) and fills *out. Returns ELF_OK,
 * or a negative elf_result with *out zeroed. The image needs no particular
 * alignment; it is read, never written, and not referenced after return.
 */
int elf_parse(const void *image, size_t size, uint64_t user_min, uint64_t user_max,
              struct elf_image *out);

/* "ok", "truncated", ...; "unknown" for values not in enum elf_result. */
const char *elf_result_name(int result);

#endif
