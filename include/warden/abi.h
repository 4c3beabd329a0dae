/*
 * warden/abi.h - everything user space and the kernel agree on.
 */
#ifndef WARDEN_ABI_H
#define WARDEN_ABI_H

#include <warden/types.h>
#include <warden/errors.h>
#include <warden/rights.h>
#include <warden/ipc.h>
#include <warden/objects.h>
#include <warden/device.h>
#include <warden/irq.h>
#include <warden/inspect.h>
#include <warden/startinfo.h>

#endif
