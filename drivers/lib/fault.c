/*
 * fault.c - DMA fault messages (WD_LABEL_DMA_FAULT, see warden/ipc.h):
 * decoding into struct wd_dma_fault, the VT-d fault reason names, and one
 * log line per message for drivers and supervisors.
 */
#include <stdio.h>
#include <warden/driver.h>
#include <warden/syscalls.h>

long wd_dma_fault_decode(const struct wd_msg *msg, struct wd_dma_fault *out)
{
    if (wd_msg_label(msg->info) != WD_LABEL_DMA_FAULT)
        return -WD_E_INVALID_ARG;
    out->count = msg->w[0];
    out->source_id = (uint16_t)msg->w[1];
    out->iova = msg->w[2];
    out->reason = (uint32_t)msg->w[3];
    out->flags = (uint32_t)msg->w[4];
    out->owner_pid = msg->w[5];
    out->address = msg->w[6];
    out->badge = msg->badge;
    return 0;
}

/* VT-d fault reasons for second-level translation (VT-d spec, appendix). */
static const char *const reason_names[] = {
    [0x1] = "root entry not present",
    [0x2] = "context entry not present",
    [0x3] = "context entry invalid",
    [0x4] = "address beyond the address width",
    [0x5] = "write denied",
    [0x6] = "read denied",
    [0x7] = "paging entry unreadable",
    [0x8] = "root table unreadable",
    [0x9] = "context table unreadable",
    [0xA] = "reserved bits in root entry",
    [0xB] = "reserved bits in context entry",
    [0xC] = "reserved bits in paging entry",
    [0xD] = "translation type blocked",
    [0xE] = "translation into the interrupt window",
};

const char *wd_dma_fault_reason_name(uint32_t reason)
{
    if (reason < sizeof reason_names / sizeof reason_names[0] && reason_names[reason])
        return reason_names[reason];
    return "unknown reason";
}

void wd_dma_fault_print(const char *who, const struct wd_dma_fault *f)
{
    unsigned bus = f->source_id >> 8, dev = (f->source_id >> 3) & 0x1F, fn = f->source_id & 7;
    printf("%s: DMA fault: device %02x:%02x.%x (requester %02x:%02x.%x, owner process %llu) %s at IOVA 0x%llx: "
           "%s (reason 0x%x), %llu fault(s)%s%s%s\n",
           who, WD_PCI_BUS(f->address), WD_PCI_DEV(f->address), WD_PCI_FN(f->address), bus, dev, fn,
           (unsigned long long)f->owner_pid, (f->flags & WD_DMA_FAULT_WRITE) ? "write" : "read",
           (unsigned long long)f->iova, wd_dma_fault_reason_name(f->reason), f->reason,
           (unsigned long long)f->count,
           (f->flags & WD_DMA_FAULT_QUIESCED) ? "; bus mastering turned off (fault flood)" : "",
           (f->flags & WD_DMA_FAULT_OVERFLOW) ? "; the IOMMU lost fault records" : "",
           (f->flags & WD_DMA_FAULT_REVOKED) ? "; memory its client took back" : "");
}
