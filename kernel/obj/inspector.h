/*
 * inspector.h - the inspector: a kernel object whose capability (READ)
 * lets its holder read what the kernel holds (the inspect call,
 * syscall/sys_inspect.c). One lives forever; only init gets it at boot.
 */
#ifndef WARDEN_OBJ_INSPECTOR_H
#define WARDEN_OBJ_INSPECTOR_H

#include "obj/object.h"

struct kobject *inspector_object(void);

#endif
