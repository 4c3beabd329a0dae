/*
 * spawn.c - loads an ELF program into a new process (see warden/spawn.h).
 * The image is mapped into the caller at a scratch address and parsed by
 * the kernel's own parser (kernel/core/elf.c); each segment gets a fresh
 * frame, filled through a temporary mapping in the caller, then mapped
 * into the child with the segment's rights.
 */
#include <warden/spawn.h>
#include <warden/syscalls.h>

#include <string.h>

#include "core/elf.h"

#define SCRATCH_IMAGE 0x0000200000000000ull
#define SCRATCH_FILL  0x0000210000000000ull

static uint64_t page_round_up(uint64_t v)
{
    return (v + WD_PAGE_SIZE - 1) & ~(WD_PAGE_SIZE - 1);
}

/* Creates a frame of size bytes, lets fill() write it through a scratch
 * mapping, then maps it into the child. */
static long child_frame(wd_handle_t pool, wd_handle_t child, uint64_t vaddr, uint64_t size, uint64_t rights,
                        const void *data, uint64_t data_offset, uint64_t data_length)
{
    long frame = wd_frame_create(pool, size, 0);
    if (frame < 0)
        return frame;
    long r = 0;
    if (data_length) {
        r = wd_vm_map(WD_NULL, (wd_handle_t)frame, 0, SCRATCH_FILL, size, WD_RIGHT_READ | WD_RIGHT_WRITE);
        if (r == 0) {
            memcpy((char *)SCRATCH_FILL + data_offset, data, data_length);
            wd_vm_unmap(WD_NULL, SCRATCH_FILL, size);
        }
    }
    if (r == 0)
        r = wd_vm_map(child, (wd_handle_t)frame, 0, vaddr, size, rights);
    wd_cap_delete((wd_handle_t)frame);
    return r;
}

static void copy_string(char *dst, size_t size, const char *src)
{
    size_t n = strnlen(src, size - 1);
    memcpy(dst, src, n);
    dst[n] = '\0';
}

static long give(wd_handle_t cap, wd_handle_t child, uint64_t rights, wd_handle_t *out)
{
    if (cap == WD_NULL) {
        *out = WD_NULL;
        return 0;
    }
    if (rights == 0) {
        struct wd_cap_info info;
        long r = wd_cap_info(cap, &info);
        if (r < 0)
            return r;
        rights = info.rights;
    }
    long h = wd_cap_copy(cap, child, rights, 0);
    if (h < 0)
        return h;
    *out = (wd_handle_t)h;
    return 0;
}

static long fill_start_info(const struct wd_spawn *s, wd_handle_t child, struct wd_start_info *info)
{
    memset(info, 0, sizeof *info);
    info->magic = WD_START_MAGIC;
    copy_string(info->args, sizeof info->args, s->args);
    if (wd_start_info)
        copy_string(info->cmdline, sizeof info->cmdline, wd_start_info->cmdline);
    long r = give(child, child, WD_RIGHTS_ALL, &info->self_process);
    if (r == 0)
        r = give(s->pool, child, 0, &info->pool);
    if (r == 0)
        r = give(s->registry, child, 0, &info->registry);
    for (unsigned i = 0; r == 0 && i < s->cap_count && i < WD_START_MAX_CAPS; i++, info->cap_count++)
        r = give(s->caps[i], child, s->cap_rights[i], &info->caps[i]);
    if (s->pass_modules && wd_start_info) {
        for (unsigned i = 0; r == 0 && i < wd_start_info->module_count; i++, info->module_count++) {
            info->modules[i] = wd_start_info->modules[i];
            r = give(wd_start_info->modules[i].frame, child, 0, &info->modules[i].frame);
        }
    }
    if (wd_start_info) {
        info->kernel_test_count = wd_start_info->kernel_test_count;
        memcpy(info->kernel_tests, wd_start_info->kernel_tests, sizeof info->kernel_tests);
    }
    struct wd_cap_info pinfo;
    if (r == 0 && (r = wd_cap_info(child, &pinfo)) == 0)
        info->process_id = pinfo.object_id;
    return r;
}

static long load_segments(const struct wd_spawn *s, wd_handle_t child, const struct elf_image *elf)
{
    for (unsigned i = 0; i < elf->segment_count; i++) {
        const struct elf_segment *seg = &elf->segments[i];
        uint64_t start = seg->vaddr & ~(WD_PAGE_SIZE - 1);
        uint64_t end = page_round_up(seg->vaddr + seg->memsz);
        uint64_t rights = WD_RIGHT_READ | ((seg->flags & ELF_SEG_W) ? WD_RIGHT_WRITE : 0) |
                          ((seg->flags & ELF_SEG_X) ? WD_RIGHT_EXEC : 0);
        long r = child_frame(s->pool, child, start, end - start, rights,
                             (const char *)SCRATCH_IMAGE + seg->file_offset, seg->vaddr - start, seg->filesz);
        if (r < 0)
            return r;
    }
    return 0;
}

long wd_spawn(const struct wd_spawn *s, wd_handle_t *thread_out)
{
    uint64_t image_bytes = page_round_up(s->image_size);
    long r = wd_vm_map(WD_NULL, s->image, 0, SCRATCH_IMAGE, image_bytes, WD_RIGHT_READ);
    if (r < 0)
        return r;
    struct elf_image elf;
    if (elf_parse((const void *)SCRATCH_IMAGE, s->image_size, WD_USER_MIN, WD_USER_MAX, &elf) != ELF_OK) {
        wd_vm_unmap(WD_NULL, SCRATCH_IMAGE, image_bytes);
        return -WD_E_INVALID_ARG;
    }
    long child = wd_process_create(s->pool, s->fault_endpoint, s->fault_badge, 0);
    if (child < 0) {
        wd_vm_unmap(WD_NULL, SCRATCH_IMAGE, image_bytes);
        return child;
    }
    size_t name_len = 0;                /* named after its first argument (inspection, the shell's ps) */
    while (s->args && s->args[name_len] && s->args[name_len] != ' ' && name_len < WD_INSPECT_NAME_MAX - 1)
        name_len++;
    if (name_len)
        wd_process_set_name((wd_handle_t)child, s->args, name_len);
    r = load_segments(s, (wd_handle_t)child, &elf);
    wd_vm_unmap(WD_NULL, SCRATCH_IMAGE, image_bytes);
    if (r == 0)
        r = child_frame(s->pool, (wd_handle_t)child, WD_STACK_TOP - WD_STACK_SIZE, WD_STACK_SIZE,
                        WD_RIGHT_READ | WD_RIGHT_WRITE, NULL, 0, 0);
    static struct wd_start_info info;   /* 6 KiB: not on the stack */
    if (r == 0)
        r = fill_start_info(s, (wd_handle_t)child, &info);
    /* The start info must be mapped before the thread exists: it may run at once. */
    if (r == 0)
        r = child_frame(s->pool, (wd_handle_t)child, WD_START_INFO_ADDR, WD_START_INFO_SIZE, WD_RIGHT_READ,
                        &info, 0, sizeof info);
    long thread = -1;
    if (r == 0) {
        thread = wd_thread_create(s->pool, (wd_handle_t)child, elf.entry, WD_STACK_TOP, WD_START_INFO_ADDR,
                                  s->priority ? s->priority : WD_PRIORITY_DEFAULT);
        r = thread < 0 ? thread : 0;
    }
    if (r < 0) {
        wd_process_kill((wd_handle_t)child, -1);
        wd_cap_delete((wd_handle_t)child);
        if (thread > 0)
            wd_cap_delete((wd_handle_t)thread);
        return r;
    }
    if (thread_out)
        *thread_out = (wd_handle_t)thread;
    else
        wd_cap_delete((wd_handle_t)thread);
    return child;
}

const struct wd_module *wd_find_module(const char *name)
{
    if (!wd_start_info)
        return NULL;
    for (unsigned i = 0; i < wd_start_info->module_count; i++)
        if (strcmp(wd_start_info->modules[i].name, name) == 0)
            return &wd_start_info->modules[i];
    return NULL;
}
