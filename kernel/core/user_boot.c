/*
 * user_boot.c - the kernel's only ELF loading: init (see user_boot.h).
 * Everything init starts, it loads itself with the same parser
 * (kernel/core/elf.c is shared with user space).
 */
#include "core/user_boot.h"
#include "obj/console.h"
#include "obj/inspector.h"

#include "arch/x86_64/cpu.h"
#include "arch/x86_64/qemu.h"
#include "core/boot.h"
#include "core/cmdline.h"
#include "core/elf.h"
#include "core/panic.h"
#include "core/printk.h"
#include "mm/physmem.h"
#include "obj/device.h"
#include "obj/frame_object.h"
#include "obj/pool.h"
#include "obj/process.h"
#include "obj/thread.h"

#include <string.h>
#include <warden/abi.h>

#define INIT_PRIORITY 16
#define KERNEL_RESERVE_BYTES (4ull << 20)    /* kept out of the root pool for kernel bookkeeping */

static struct process *init_process;

static void copy_string(char *dst, size_t size, const char *src)
{
    size_t n = strnlen(src, size - 1);
    memcpy(dst, src, n);
    dst[n] = '\0';
}

/* Copies bytes into a frame at offset (frames are not contiguous in general). */
static void frame_write(struct frame_object *f, uint64_t offset, const void *src, uint64_t length)
{
    const uint8_t *s = src;
    while (length) {
        uint64_t page = offset & ~(FRAME_SIZE - 1), in_page = offset - page;
        uint64_t n = FRAME_SIZE - in_page < length ? FRAME_SIZE - in_page : length;
        memcpy((uint8_t *)phys_to_virt(frame_object_page(f, page)) + in_page, s, n);
        s += n;
        offset += n;
        length -= n;
    }
}

/* Creates a frame, fills it, maps it into p; the mapping keeps the frame. */
static void map_new_frame(struct pool *pool, struct process *p, uint64_t vaddr, uint64_t size,
                          uint32_t rights, const void *data, uint64_t data_offset, uint64_t data_length)
{
    int error;
    struct frame_object *f = frame_object_create(pool, size, 0, &error);
    if (!f)
        panic("init: no memory for a %llu-byte frame (error %d)", (unsigned long long)size, error);
    if (data_length)
        frame_write(f, data_offset, data, data_length);
    int r = vmspace_map(&p->vm, f, 0, vaddr, size, rights, NULL);
    if (r)
        panic("init: cannot map 0x%llx (error %d)", (unsigned long long)vaddr, r);
    kobject_put(&f->obj);
}

static bool load_elf(struct pool *pool, struct process *p, const struct mb2_module *m, uint64_t *entry)
{
    const uint8_t *image = phys_to_virt(m->start);
    struct elf_image elf;
    int r = elf_parse(image, m->end - m->start, WD_USER_MIN, WD_USER_MAX, &elf);
    if (r != ELF_OK) {
        printk("init: module \"%s\" is not a usable ELF executable (%s)\n", m->name, elf_result_name(r));
        return false;
    }
    for (unsigned i = 0; i < elf.segment_count; i++) {
        const struct elf_segment *s = &elf.segments[i];
        uint64_t start = s->vaddr & ~(FRAME_SIZE - 1);
        uint64_t end = (s->vaddr + s->memsz + FRAME_SIZE - 1) & ~(FRAME_SIZE - 1);
        uint32_t rights = WD_RIGHT_READ | ((s->flags & ELF_SEG_W) ? WD_RIGHT_WRITE : 0) |
                          ((s->flags & ELF_SEG_X) ? WD_RIGHT_EXEC : 0);
        map_new_frame(pool, p, start, end - start, rights, image + s->file_offset, s->vaddr - start, s->filesz);
    }
    *entry = elf.entry;
    return true;
}

static int64_t give(struct process *p, struct kobject *obj, uint32_t rights)
{
    int64_t h = cap_insert(&p->cspace, obj, rights, 0, NULL);
    if (h < 0)
        panic("init: its capability space is full");
    return h;
}

bool user_boot_start_init(const struct wd_ktest_result *ktests, unsigned ktest_count)
{
    const struct mb2_module *init_module = NULL;
    for (unsigned i = 0; i < boot_info.module_count; i++)
        if (strcmp(boot_info.modules[i].name, "init") == 0)
            init_module = &boot_info.modules[i];
    if (!init_module) {
        printk("boot: no \"init\" boot module, so no user space\n");
        return false;
    }
    uint64_t free_bytes = physmem_free_frames() * FRAME_SIZE;
    struct pool *root = pool_create_root(free_bytes > 2 * KERNEL_RESERVE_BYTES ? free_bytes - KERNEL_RESERVE_BYTES
                                                                               : free_bytes / 2);
    int error;
    struct process *p = process_create(root, NULL, 0, &error);
    if (!p)
        panic("init: cannot create its process (error %d)", error);
    uint64_t entry;
    if (!load_elf(root, p, init_module, &entry))
        panic("init: the init module cannot be loaded");
    map_new_frame(root, p, WD_STACK_TOP - WD_STACK_SIZE, WD_STACK_SIZE, WD_RIGHT_READ | WD_RIGHT_WRITE, NULL, 0, 0);

    static struct wd_start_info info;
    memset(&info, 0, sizeof info);
    info.magic = WD_START_MAGIC;
    info.self_process = (wd_handle_t)give(p, &p->obj, WD_RIGHTS_ALL);
    info.pool = (wd_handle_t)give(p, &root->obj, WD_RIGHTS_ALL);
    info.device_root = (wd_handle_t)give(p, device_root_object(), WD_RIGHT_READ | WD_RIGHT_CONTROL | WD_RIGHT_GRANT);
    info.console = (wd_handle_t)give(p, console_object(), WD_RIGHT_READ | WD_RIGHT_GRANT);
    info.inspector = (wd_handle_t)give(p, inspector_object(), WD_RIGHT_READ | WD_RIGHT_GRANT);
    info.process_id = p->obj.id;
    copy_string(info.args, sizeof info.args, "init");
    copy_string(info.cmdline, sizeof info.cmdline, kernel_command_line);
    for (unsigned i = 0; i < boot_info.module_count && info.module_count < WD_START_MAX_MODULES; i++) {
        const struct mb2_module *m = &boot_info.modules[i];
        uint64_t size = (m->end - m->start + FRAME_SIZE - 1) & ~(FRAME_SIZE - 1);
        struct frame_object *f = frame_object_borrow(m->start, size);
        struct wd_module *out = &info.modules[info.module_count++];
        out->frame = (wd_handle_t)give(p, &f->obj, WD_RIGHT_READ | WD_RIGHT_MAP | WD_RIGHT_GRANT | WD_RIGHT_RETAIN);
        kobject_put(&f->obj);
        out->size = m->end - m->start;
        copy_string(out->name, sizeof out->name, m->name);
    }
    for (unsigned i = 0; i < ktest_count && i < WD_START_MAX_KTESTS; i++)
        info.kernel_tests[info.kernel_test_count++] = ktests[i];

    struct thread *t = thread_create(root, p, entry, WD_STACK_TOP, WD_START_INFO_ADDR, INIT_PRIORITY, &error);
    if (!t)
        panic("init: cannot create its thread (error %d)", error);
    info.self_thread = (wd_handle_t)give(p, &t->obj, WD_RIGHTS_ALL);
    map_new_frame(root, p, WD_START_INFO_ADDR, WD_START_INFO_SIZE, WD_RIGHT_READ, &info, 0, sizeof info);

    init_process = p;
    printk("boot: starting init (process %llu, %u module(s), root pool %llu MiB)\n",
           (unsigned long long)p->obj.id, info.module_count, (unsigned long long)(root->budget >> 20));
    thread_start(t);
    kobject_put(&p->obj);           /* init's threads and capabilities keep it */
    kobject_put(&root->obj);        /* init's pool capability keeps it */
    return true;
}

void user_boot_process_died(struct process *p, int64_t status)
{
    if (p != init_process)
        return;
    bool harness = cmdline_has(&kernel_cmdline, "test") || cmdline_has(&kernel_cmdline, "bench");
    printk("init exited with status %lld\n", (long long)status);
    if (harness)
        qemu_exit(status == 0 ? QEMU_EXIT_PASS : QEMU_EXIT_FAIL);
    printk("Warden has no init any more; halting.\n");
    cpu_halt_forever();
}
