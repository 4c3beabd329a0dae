/*
 * malloc.c - the heap: malloc, free, calloc, realloc.
 *
 * The heap is one contiguous range of virtual memory starting at
 * WD_HEAP_BASE and ending at heap_end. It grows upwards in steps of at
 * least HEAP_STEP: wd_frame_create charged to the process's pool, mapped
 * READ|WRITE at heap_end, and the frame capability deleted (the mapping
 * keeps the frame alive). It never shrinks.
 *
 * Blocks: a 16-byte header (total block size, magic) then the payload, so
 * payloads are 16-byte aligned. Every block is either in use (MAGIC_USED)
 * or free (MAGIC_FREE) and the blocks tile [WD_HEAP_BASE, heap_end). Free
 * blocks form a singly linked list sorted by address; allocation is first
 * fit, and free() merges a block with its free neighbours, so no two free
 * blocks are ever adjacent. A free of a pointer that is not a live block
 * (bad magic, outside the heap, misaligned, already free) aborts.
 * Not thread safe.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <warden/syscalls.h>

#define WD_HEAP_BASE 0x0000100000000000ull
#define WD_HEAP_LIMIT (WD_HEAP_BASE + (1ull << 40))  /* 1 TiB of address space */
#define HEAP_STEP (64ull << 10)                      /* grow by at least 64 KiB */

#define MAGIC_USED 0x6465737520706165ull             /* "eap used" */
#define MAGIC_FREE 0x6565726620706165ull             /* "eap free" */
#define ALIGN 16ull

struct block {
    uint64_t size;              /* whole block, header included; multiple of ALIGN */
    uint64_t magic;
    struct block *next_free;    /* free blocks only: payload holds the list link */
};

#define HEADER_SIZE 16ull
#define MIN_BLOCK 32ull         /* header + list link, rounded to ALIGN */

_Static_assert(offsetof(struct block, next_free) == HEADER_SIZE, "payload follows the header");

static uint64_t heap_end = WD_HEAP_BASE;
static struct block *free_list;

static uint64_t round_up(uint64_t x, uint64_t align)
{
    return (x + align - 1) & ~(align - 1);
}

static _Noreturn void heap_corrupt(const char *what, const void *p)
{
    printf("malloc: %s %p\n", what, p);
    abort();
}

/* Puts b in the address-ordered free list, merging it with free neighbours. */
static void insert_free(struct block *b)
{
    b->magic = MAGIC_FREE;
    struct block *prev = NULL, *next = free_list;
    while (next && next < b) {
        prev = next;
        next = next->next_free;
    }
    if (next && (uint64_t)b + b->size == (uint64_t)next) {
        b->size += next->size;
        next->magic = 0;
        next = next->next_free;
    }
    b->next_free = next;
    if (prev && (uint64_t)prev + prev->size == (uint64_t)b) {
        prev->size += b->size;
        prev->next_free = next;
        b->magic = 0;
    } else if (prev) {
        prev->next_free = b;
    } else {
        free_list = b;
    }
}

/* Maps at least bytes more heap at heap_end (as much as the pool allows)
 * and frees it into the list. Returns false when nothing could be added. */
static bool grow(uint64_t bytes)
{
    uint64_t want = round_up(bytes < HEAP_STEP ? HEAP_STEP : bytes, HEAP_STEP);
    uint64_t added = 0;
    if (!wd_start_info || want > WD_HEAP_LIMIT - heap_end)
        return false;
    while (added < want) {
        uint64_t size = want - added;
        if (size > WD_FRAME_MAX_BYTES)
            size = WD_FRAME_MAX_BYTES;
        long frame = wd_frame_create(wd_start_info->pool, size, 0);
        if (frame < 0)
            break;
        long err = wd_vm_map(WD_NULL, (wd_handle_t)frame, 0, heap_end + added, size,
                             WD_RIGHT_READ | WD_RIGHT_WRITE);
        wd_cap_delete((wd_handle_t)frame);
        if (err < 0)
            break;
        added += size;
    }
    if (added == 0)
        return false;
    struct block *b = (struct block *)heap_end;
    heap_end += added;
    b->size = added;
    insert_free(b);
    return true;
}

/* The size of the free block that ends at heap_end, if there is one. */
static uint64_t free_tail_size(void)
{
    struct block *last = free_list;
    while (last && last->next_free)
        last = last->next_free;
    return last && (uint64_t)last + last->size == heap_end ? last->size : 0;
}

/* The block size that holds size payload bytes, or 0 if impossibly large. */
static uint64_t block_size_for(size_t size)
{
    if (size > WD_HEAP_LIMIT - WD_HEAP_BASE)
        return 0;
    uint64_t need = round_up(size + HEADER_SIZE, ALIGN);
    return need < MIN_BLOCK ? MIN_BLOCK : need;
}

/* First fit: takes need bytes from the first free block large enough. */
static void *take(uint64_t need)
{
    for (struct block **link = &free_list; *link; link = &(*link)->next_free) {
        struct block *b = *link;
        if (b->size < need)
            continue;
        if (b->size - need >= MIN_BLOCK) {
            struct block *rest = (struct block *)((uint64_t)b + need);
            rest->size = b->size - need;
            rest->magic = MAGIC_FREE;
            rest->next_free = b->next_free;
            b->size = need;
            *link = rest;
        } else {
            *link = b->next_free;
        }
        b->magic = MAGIC_USED;
        return (char *)b + HEADER_SIZE;
    }
    return NULL;
}

/* The header of the live block whose payload is p (free, realloc), or abort. */
static struct block *block_of(void *p)
{
    uint64_t a = (uint64_t)p;
    if (a % ALIGN || a < WD_HEAP_BASE + HEADER_SIZE || a >= heap_end)
        heap_corrupt("not a heap pointer:", p);
    struct block *b = (struct block *)(a - HEADER_SIZE);
    if (b->magic == MAGIC_FREE)
        heap_corrupt("double free of", p);
    if (b->magic != MAGIC_USED || b->size < MIN_BLOCK || b->size > heap_end - (uint64_t)b)
        heap_corrupt("bad pointer or corrupted block:", p);
    return b;
}

void *malloc(size_t size)
{
    uint64_t need = block_size_for(size);
    if (need == 0)
        return NULL;
    void *p = take(need);
    if (!p && grow(need - free_tail_size()))
        p = take(need);
    return p;
}

void free(void *p)
{
    if (p)
        insert_free(block_of(p));
}

void *calloc(size_t count, size_t size)
{
    size_t total;
    if (__builtin_mul_overflow(count, size, &total))
        return NULL;
    void *p = malloc(total);
    if (p)
        memset(p, 0, total);
    return p;
}

void *realloc(void *p, size_t size)
{
    if (!p)
        return malloc(size);
    if (size == 0) {
        free(p);
        return NULL;
    }
    struct block *b = block_of(p);
    uint64_t capacity = b->size - HEADER_SIZE;
    if (size <= capacity)
        return p;
    void *q = malloc(size);
    if (q) {
        memcpy(q, p, capacity);
        free(p);
    }
    return q;
}
