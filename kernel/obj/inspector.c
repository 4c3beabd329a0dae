/*
 * inspector.c - the inspector object (see inspector.h).
 */
#include "obj/inspector.h"

static struct kobject inspector;
static bool ready;

struct kobject *inspector_object(void)
{
    if (!ready) {
        kobject_init(&inspector, WD_TYPE_INSPECTOR, NULL, 0);
        ready = true;
    }
    return &inspector;
}
