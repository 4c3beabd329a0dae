/*
 * qsort.c - qsort as a shell sort: small, no recursion, no allocation.
 */
#include <stdlib.h>
#include <string.h>

static void swap_bytes(unsigned char *a, unsigned char *b, size_t size)
{
    while (size--) {
        unsigned char t = *a;
        *a++ = *b;
        *b++ = t;
    }
}

void qsort(void *base, size_t count, size_t size, int (*compare)(const void *, const void *))
{
    unsigned char *items = base;
    size_t gap = 1;
    while (gap < count / 3)
        gap = gap * 3 + 1;
    for (; gap > 0; gap /= 3)
        for (size_t i = gap; i < count; i++)
            for (size_t j = i; j >= gap && compare(items + (j - gap) * size, items + j * size) > 0; j -= gap)
                swap_bytes(items + (j - gap) * size, items + j * size, size);
}
