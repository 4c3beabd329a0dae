/*
 * fault_log.c - a ring of the last DMA faults (see fault_log.h).
 */
#include "obj/fault_log.h"

#include "arch/x86_64/timer.h"

static struct wd_inspect_fault kept[WD_INSPECT_FAULTS_KEPT];
static uint64_t recorded;           /* faults since boot: the last one's sequence */

void fault_log_record(struct wd_inspect_fault *f)
{
    f->sequence = ++recorded;
    f->time_ns = time_now_ns();
    kept[(f->sequence - 1) % WD_INSPECT_FAULTS_KEPT] = *f;
}

bool fault_log_entry(unsigned index, struct wd_inspect_fault *out)
{
    uint64_t live = recorded < WD_INSPECT_FAULTS_KEPT ? recorded : WD_INSPECT_FAULTS_KEPT;
    if (index >= live)
        return false;
    uint64_t sequence = recorded - live + 1 + index;
    *out = kept[(sequence - 1) % WD_INSPECT_FAULTS_KEPT];
    return true;
}
