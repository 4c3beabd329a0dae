/*
 * warden/errors.h - the one error enum of the ABI. System calls return a
 * non-negative value on success and -WD_E_* on failure. wd_error_name()
 * (libc, and the kernel's log) turns a code into its name.
 *
 * WD_ERRORS is an X-macro: WD_ERROR(code, NAME, "description").
 */
#ifndef WARDEN_ABI_ERRORS_H
#define WARDEN_ABI_ERRORS_H

#define WD_ERRORS \
    WD_ERROR(0,  OK,              "success") \
    WD_ERROR(1,  NO_SYSCALL,      "no system call with this number") \
    WD_ERROR(2,  INVALID_ARG,     "an argument is out of range or malformed") \
    WD_ERROR(3,  BAD_FLAGS,       "unknown flag bits are set") \
    WD_ERROR(4,  BAD_HANDLE,      "the handle names no capability") \
    WD_ERROR(5,  STALE_HANDLE,    "the handle's generation is old: its slot was freed or reused") \
    WD_ERROR(6,  WRONG_TYPE,      "the capability is not of the type this call needs") \
    WD_ERROR(7,  NO_RIGHTS,       "the capability lacks a right this call needs") \
    WD_ERROR(8,  BAD_ADDRESS,     "a user pointer is not mapped, not canonical or not in user space") \
    WD_ERROR(9,  UNALIGNED,       "an address, offset or length is not page aligned") \
    WD_ERROR(10, RANGE,           "an address range overflows or leaves the allowed area") \
    WD_ERROR(11, EXISTS,          "something is already mapped there") \
    WD_ERROR(12, NOT_MAPPED,      "nothing (or not exactly one whole mapping) is mapped there") \
    WD_ERROR(13, POOL_EXHAUSTED,  "the pool's byte budget is used up") \
    WD_ERROR(14, NO_MEMORY,       "the kernel is out of physical memory") \
    WD_ERROR(15, CSPACE_FULL,     "the capability space has no free slot") \
    WD_ERROR(16, TIMEOUT,         "the timeout expired") \
    WD_ERROR(17, WOULD_BLOCK,     "the call would block and no wait was requested") \
    WD_ERROR(18, NO_REPLY,        "this thread holds no reply token") \
    WD_ERROR(19, DEAD,            "the object (process, thread, partner) is dead") \
    WD_ERROR(20, BUSY,            "the object is in use in a way that forbids this") \
    WD_ERROR(21, NOT_SUPPORTED,   "this machine or configuration cannot do it") \
    WD_ERROR(22, NOT_FOUND,       "nothing by that name") \
    WD_ERROR(23, OVERFLOW,        "address plus length wraps around") \
    WD_ERROR(24, BEYOND_WIDTH,    "the IOVA range ends beyond the IOMMU's address width") \
    WD_ERROR(25, RESERVED_RANGE,  "the IOVA range overlaps the interrupt window 0xFEE00000-0xFEEFFFFF") \
    WD_ERROR(26, NOT_OWNER,       "another process owns this device") \
    WD_ERROR(27, PROTECTED,       "the kernel owns this register (BARs, MSI/MSI-X, bridge windows)") \
    WD_ERROR(28, NO_IOMMU,        "no active IOMMU translates this device; DMA is refused") \
    WD_ERROR(29, PROTOCOL,        "the peer broke the shared-memory protocol (ring index or descriptor out of range)") \
    WD_ERROR(30, IO_ERROR,        "the device reported an error for the request")

enum wd_error {
#define WD_ERROR(code, name, text) WD_E_##name = code,
    WD_ERRORS
#undef WD_ERROR
    WD_E_COUNT
};

#endif
