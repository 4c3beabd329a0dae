#!/usr/bin/env python3
"""make soak: the boot suite's crash/restart soak (tests/boot/t_soak.c) at scale.

Runs the harness's `soak` configuration (tests/harness.py: edu, an NVMe
disk and an e1000e on -netdev dgram to the host peer on 127.0.0.1, QEMU's
IOTLB trace on) with `soakcycles=N` instead of make test's 30: every cycle
one driver is killed mid-I/O and restarted, its client recovers and checks
its data, the footprint (free frames, kernel objects and processes, the
test's pool charge, interrupt sources) is compared after every cycle, and
QEMU's trace is checked for any translation of a dead driver's domain after
its revocation (tests/soak_trace.py). The runner's leak check follows.

Environment: SOAK_CYCLES (default 1000), SOAK_SEED (replay the kill moments
of a run; the seed is printed), HARNESS_BLKSEED (the disk image's pattern).
Logs: build/soak-logs/soak.log.
"""

import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, '..', 'tests'))
import harness  # noqa: E402

SECONDS_PER_CYCLE = 2.0         # a generous bound: a cycle takes about 0.4 s under TCG


def soak_config(cycles, seed):
    base = next(c for c in harness.CONFIGS if c['name'] == 'soak')
    per_target = cycles // 3
    kills = [per_target + (cycles % 3 > t) for t in range(3)]
    cmdline = re.sub(r'soakcycles=\d+', f'soakcycles={cycles} testtimeout={int(cycles * SECONDS_PER_CYCLE) + 60}',
                     base['cmdline'])
    if seed:
        cmdline += f' soakseed={seed:#x}'
    return dict(base, cmdline=cmdline, peer_min_good=cycles * 64,
                expect=[rf'^# soak: {cycles} cycles \({kills[0]} edu, {kills[1]} nvme, {kills[2]} e1000e killed '
                        r'and restarted\)'])


def main():
    iso = sys.argv[1] if len(sys.argv) > 1 else 'build/warden-test.iso'
    cycles = int(os.environ.get('SOAK_CYCLES', '1000'))
    seed = int(os.environ['SOAK_SEED'], 0) if os.environ.get('SOAK_SEED') else 0
    if cycles < 3:
        sys.exit('soak: SOAK_CYCLES must be at least 3 (one cycle per driver before the footprint is compared)')
    logdir = os.path.join(os.path.dirname(iso) or '.', 'soak-logs')
    os.makedirs(logdir, exist_ok=True)
    config = soak_config(cycles, seed)
    print(f'soak: {cycles} crash/restart cycles (edu, nvme, e1000e in turn), log in {logdir}/soak.log', flush=True)
    total = max(600.0, cycles * SECONDS_PER_CYCLE)
    ok, block = harness.run_config(config, 'qemu-system-x86_64', iso, logdir, total, 120.0,
                                   harness.env_seed('HARNESS_BLKSEED'))
    print(block)
    with open(os.path.join(logdir, 'soak.log'), encoding='utf-8', errors='replace') as f:
        log = f.read()
    for pattern in (r'^# soak: \d+ cycles, seed 0x[0-9a-f]+ .*$', r'^# soak: \d+ cycles \(.*$',
                    r'^# .*leak.*$'):
        for line in re.findall(pattern, log, re.MULTILINE):
            print('    ' + line)
    return 0 if ok else 1


if __name__ == '__main__':
    sys.exit(main())
