/*
 * vmspace.c - user address spaces (see vmspace.h).
 * Invariant: every present user leaf PTE belongs to exactly one
 * vm_mapping, and that mapping holds a reference on the frame it maps.
 */
#include "mm/vmspace.h"

#include "arch/x86_64/paging.h"
#include "core/panic.h"
#include "mm/kernel_vm.h"
#include "mm/kobj.h"
#include "mm/physmem.h"
#include "obj/frame_object.h"
#include "obj/pool.h"

#include <warden/errors.h>
#include <warden/objects.h>
#include <warden/rights.h>
#include <warden/types.h>

uint64_t vmspace_mapping_cost(void)
{
    return pool_object_cost(sizeof(struct vm_mapping));
}

int vmspace_init(struct vmspace *vm, struct pool *pool)
{
    if (!pool_charge(pool, FRAME_SIZE))
        return -WD_E_POOL_EXHAUSTED;
    uint64_t pml4 = physmem_alloc_zeroed();
    if (!pml4) {
        pool_uncharge(pool, FRAME_SIZE);
        return -WD_E_NO_MEMORY;
    }
    kernel_vm_copy_kernel_half(pml4);
    vm->pml4_phys = pml4;
    vm->mappings = NULL;
    vm->table_pages = 1;
    vm->pool = pool;
    return 0;
}

static void mapping_release(struct vmspace *vm, struct vm_mapping *m)
{
    if (m->lease) {
        lease_link_free(m->lease);
        pool_uncharge(vm->pool, lease_link_cost());
    }
    int r = paging_unmap(vm->pml4_phys, m->vaddr, m->length);
    if (r != PAGING_OK)
        panic("vmspace: unmapping 0x%llx+0x%llx failed (%d)", (unsigned long long)m->vaddr,
              (unsigned long long)m->length, r);
    m->frame->mappings--;
    kobject_put(&m->frame->obj);
    kfree(m);
    pool_uncharge(vm->pool, vmspace_mapping_cost());
}

void vmspace_destroy(struct vmspace *vm)
{
    if (!vm->pml4_phys)
        return;
    while (vm->mappings) {
        struct vm_mapping *m = vm->mappings;
        vm->mappings = m->next;
        mapping_release(vm, m);
    }
    uint64_t freed = paging_free_user_tables(vm->pml4_phys) + 1;
    physmem_free(vm->pml4_phys);
    KASSERT(freed == vm->table_pages);
    pool_uncharge(vm->pool, vm->table_pages * FRAME_SIZE);
    vm->pml4_phys = 0;
}

/* Upper bound of new page-table pages a mapping of [va, va+len) can need. */
static uint64_t worst_case_tables(uint64_t va, uint64_t len)
{
    uint64_t last = va + len - 1;
    return ((last >> 21) - (va >> 21) + 1) + ((last >> 30) - (va >> 30) + 1) +
           ((last >> 39) - (va >> 39) + 1);
}

static uint64_t pte_flags_for(uint32_t rights, const struct frame_object *frame)
{
    uint64_t flags = PTE_USER;
    if (frame->flags & WD_FRAME_MMIO)
        flags |= PTE_CACHE_DISABLE | PTE_WRITE_THROUGH;     /* device registers: uncached */
    if (rights & WD_RIGHT_WRITE)
        flags |= PTE_WRITABLE;
    if (!(rights & WD_RIGHT_EXEC))
        flags |= PTE_NO_EXECUTE;
    return flags;
}

static int map_pages(struct vmspace *vm, struct frame_object *frame, uint64_t offset, uint64_t vaddr,
                     uint64_t length, uint64_t flags)
{
    if (frame->contiguous_base) {
        int r = paging_map(vm->pml4_phys, vaddr, frame_object_page(frame, offset), length, flags, PAGE_SIZE_4K);
        return r == PAGING_OK ? 0 : -WD_E_NO_MEMORY;
    }
    for (uint64_t done = 0; done < length; done += PAGE_SIZE_4K) {
        int r = paging_map(vm->pml4_phys, vaddr + done, frame_object_page(frame, offset + done),
                           PAGE_SIZE_4K, flags, PAGE_SIZE_4K);
        if (r != PAGING_OK) {
            if (done)
                paging_unmap(vm->pml4_phys, vaddr, done);
            return -WD_E_NO_MEMORY;
        }
    }
    return 0;
}

int vmspace_map(struct vmspace *vm, struct frame_object *frame, uint64_t offset, uint64_t vaddr,
                uint64_t length, uint32_t rights, struct cap_dependents *lease)
{
    if (!vm->pml4_phys)
        return -WD_E_DEAD;
    if (length == 0)
        return -WD_E_INVALID_ARG;
    if ((offset | vaddr | length) % WD_PAGE_SIZE)
        return -WD_E_UNALIGNED;
    if (offset >= frame->size || length > frame->size - offset)
        return -WD_E_RANGE;
    if (frame->protected_size && offset < frame->protected_offset + frame->protected_size &&
        frame->protected_offset < offset + length)
        return -WD_E_PROTECTED;                         /* a device's MSI-X table */
    if (vaddr < WD_USER_MIN || vaddr > WD_USER_MAX || length > WD_USER_MAX - vaddr)
        return -WD_E_RANGE;
    struct vm_mapping **link = &vm->mappings;
    while (*link && (*link)->vaddr + (*link)->length <= vaddr)
        link = &(*link)->next;
    if (*link && (*link)->vaddr < vaddr + length)
        return -WD_E_EXISTS;

    uint64_t link_cost = lease ? lease_link_cost() : 0;
    uint64_t reserve = worst_case_tables(vaddr, length) * FRAME_SIZE + vmspace_mapping_cost() + link_cost;
    if (!pool_charge(vm->pool, reserve))
        return -WD_E_POOL_EXHAUSTED;
    struct vm_mapping *m = kmalloc(sizeof *m);
    struct lease_link *lease_link = lease ? lease_link_new() : NULL;
    uint64_t free_before = physmem_free_frames();
    int r = m && (lease_link || !lease) ? map_pages(vm, frame, offset, vaddr, length, pte_flags_for(rights, frame))
                                  : -WD_E_NO_MEMORY;
    uint64_t new_tables = free_before - physmem_free_frames();
    vm->table_pages += new_tables;
    /* Keep the charge for the tables that exist now (also after a failure:
     * empty tables stay until the address space dies). */
    pool_uncharge(vm->pool, reserve - new_tables * FRAME_SIZE - (r == 0 ? vmspace_mapping_cost() + link_cost : 0));
    if (r != 0) {
        if (m)
            kfree(m);
        if (lease_link)
            kfree(lease_link);
        return r;
    }
    m->vaddr = vaddr;
    m->length = length;
    m->offset = offset;
    m->frame = frame;
    m->rights = rights;
    m->lease = lease_link;
    if (lease_link)
        lease_link_add(lease, lease_link, LEASE_CPU, vm, m);
    m->next = *link;
    *link = m;
    frame->mappings++;
    kobject_get(&frame->obj);
    return 0;
}

void vmspace_lease_remove(struct vmspace *vm, struct vm_mapping *m)
{
    for (struct vm_mapping **link = &vm->mappings; *link; link = &(*link)->next) {
        if (*link == m) {
            *link = m->next;
            mapping_release(vm, m);
            return;
        }
    }
    panic("vmspace: a leased mapping at 0x%llx is not in its address space", (unsigned long long)m->vaddr);
}

uint64_t vmspace_unmap_frame(struct vmspace *vm, const struct frame_object *frame)
{
    uint64_t removed = 0;
    struct vm_mapping **link = &vm->mappings;
    while (vm->pml4_phys && *link) {
        struct vm_mapping *m = *link;
        if (m->frame != frame) {
            link = &m->next;
            continue;
        }
        *link = m->next;
        mapping_release(vm, m);
        removed++;
    }
    return removed;
}

int64_t vmspace_unmap(struct vmspace *vm, uint64_t vaddr, uint64_t length)
{
    if (!vm->pml4_phys)
        return -WD_E_DEAD;
    if (length == 0)
        return -WD_E_INVALID_ARG;
    if ((vaddr | length) % WD_PAGE_SIZE)
        return -WD_E_UNALIGNED;
    if (vaddr < WD_USER_MIN || vaddr > WD_USER_MAX || length > WD_USER_MAX - vaddr)
        return -WD_E_RANGE;
    uint64_t end = vaddr + length;
    struct vm_mapping **link = &vm->mappings;
    while (*link && (*link)->vaddr + (*link)->length <= vaddr)
        link = &(*link)->next;
    /* Validate: every mapping touching the range lies wholly inside it. */
    int64_t count = 0;
    for (struct vm_mapping *m = *link; m && m->vaddr < end; m = m->next) {
        if (m->vaddr < vaddr || m->vaddr + m->length > end)
            return -WD_E_NOT_MAPPED;
        count++;
    }
    if (count == 0)
        return -WD_E_NOT_MAPPED;
    while (*link && (*link)->vaddr < end) {
        struct vm_mapping *m = *link;
        *link = m->next;
        mapping_release(vm, m);
    }
    return count;
}
