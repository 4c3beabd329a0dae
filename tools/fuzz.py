#!/usr/bin/env python3
"""make fuzz: the boot suite's syscall fuzzer (tests/boot/t_fuzz.c) at scale.

Boots build/warden-test.iso once per seed with `only=syscall_fuzzer
fuzzseed=S fuzzcalls=N` (two QEMUs at a time, the machine's cores), so the
runner runs the fuzzer alone (several fuzzing processes at once, killed,
re-spawned and revoked at random) and then its leak check (free memory and
the root pool's charge back where they were). A seed passes when QEMU exits
with 33 (pass), the fuzzer's line reports at least N calls (all its
processes together, killed ones included) and `ok ... syscall_fuzzer`
appears: no call returned a value that is not an error code, no fuzzing
process faulted or hung, and the fuzz pool was charged 0 at the end. Prints
every seed (with the command that replays it) and the totals.

Then the hostile packets at scale: the harness's `net` configuration with
FUZZ_PACKETS (default 100,000) seeded fuzzed frames from the host peer
(tests/netpeer/fuzzed.py; make test sends 20,000).

Environment: FUZZ_SEEDS (default 8), FUZZ_CALLS per seed (default 130000:
1,040,000 in all, over 1,000,000 made after the steering), FUZZ_SEED (one
given seed instead of random ones; the packets are left out then),
FUZZ_PACKETS. Every QEMU line goes through
tools/qemu_netsafety.py (no network at all).
"""

import concurrent.futures
import os
import re
import secrets
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
QEMU = ['qemu-system-x86_64', '-machine', 'q35', '-accel', 'tcg', '-m', '512M', '-display', 'none',
        '-no-reboot', '-serial', 'stdio', '-monitor', 'none', '-nic', 'none',
        '-device', 'isa-debug-exit,iobase=0xf4,iosize=4', '-device', 'intel-iommu,intremap=on', '-device', 'edu']
EXIT_PASS = 33
TIMEOUT = 1800
TEST_TIMEOUT = 900          # seconds the runner gives the fuzzer (testtimeout=; 60 by default)
CHAOS = re.compile(r'^# fuzz chaos: (\d+) processes started \(\d+ at once\), (\d+) killed mid-run, '
                   r'(\d+) revocations of shared objects \((\d+) capabilities deleted\), (\d+) of a child', re.MULTILINE)


def command(iso, seed, calls):
    return [sys.executable, os.path.join(HERE, 'qemu_netsafety.py')] + QEMU + [
        '-cdrom', iso, '-boot', 'd', '-fw_cfg',
        f'name=opt/warden/cmdline,string=test only=syscall_fuzzer fuzzseed={seed:#x} fuzzcalls={calls} '
        f'testtimeout={TEST_TIMEOUT}']


def run_seed(iso, seed, calls, logdir):
    log = os.path.join(logdir, f'fuzz-{seed:#018x}.log')
    t0 = time.monotonic()
    with open(log, 'wb') as out:
        try:
            code = subprocess.run(command(iso, seed, calls), stdout=out, stderr=subprocess.STDOUT,
                                  stdin=subprocess.DEVNULL, timeout=TIMEOUT).returncode
        except subprocess.TimeoutExpired:
            code = None
    text = open(log, encoding='utf-8', errors='replace').read()
    problems = []
    if code != EXIT_PASS:
        problems.append(f'QEMU exit {code} (33 = pass, 37 = kernel panic, None = timeout)')
    m = re.search(r'^# (\d+) calls: (\d+) succeeded, (\d+) failed cleanly, (\d+) skipped', text, re.MULTILINE)
    if not m or int(m.group(1)) < calls:
        problems.append(f'the fuzzer did not report {calls} calls')
    if not re.search(r'^ok \d+ syscall_fuzzer', text, re.MULTILINE):
        problems.append('syscall_fuzzer is not ok (a check or the leak check failed)')
    counts = tuple(int(g) for g in m.groups()) if m else (0, 0, 0, 0)
    c = CHAOS.search(text)
    chaos = tuple(int(g) for g in c.groups()) if c else (0, 0, 0, 0, 0)
    return seed, problems, counts, chaos, time.monotonic() - t0, log


def main():
    iso = sys.argv[1] if len(sys.argv) > 1 else 'build/warden-test.iso'
    calls = int(os.environ.get('FUZZ_CALLS', '130000'))
    if os.environ.get('FUZZ_SEED'):
        seeds = [int(os.environ['FUZZ_SEED'], 0)]
    else:
        seeds = [secrets.randbits(63) | 1 for _ in range(int(os.environ.get('FUZZ_SEEDS', '8')))]
    logdir = os.path.join(os.path.dirname(iso) or '.', 'fuzz-logs')
    os.makedirs(logdir, exist_ok=True)
    print(f'fuzz: {len(seeds)} seed(s) x {calls} calls, logs in {logdir}', flush=True)
    failed, total, total_chaos, t0 = 0, [0, 0, 0, 0], [0, 0, 0, 0, 0], time.monotonic()
    with concurrent.futures.ThreadPoolExecutor(max_workers=2) as pool:
        for seed, problems, counts, chaos, secs, log in pool.map(lambda s: run_seed(iso, s, calls, logdir), seeds):
            total = [a + b for a, b in zip(total, counts)]
            total_chaos = [a + b for a, b in zip(total_chaos, chaos)]
            verdict = 'PASS' if not problems else 'FAIL'
            print(f'{verdict} seed {seed:#x} ({secs:.0f}s): {counts[0]} calls, {counts[1]} succeeded, '
                  f'{counts[2]} failed cleanly, {counts[3]} skipped; {chaos[0]} processes, {chaos[1]} killed, '
                  f'{chaos[2]} revocations; replay: FUZZ_SEED={seed:#x} FUZZ_CALLS={calls} make fuzz', flush=True)
            for p in problems:
                print(f'    {p} (log: {log})')
            failed += bool(problems)
    print(f'fuzz: {len(seeds) - failed} of {len(seeds)} seeds passed in {time.monotonic() - t0:.0f}s, '
          f'{total[0]} calls ({total[1]} succeeded, {total[2]} failed cleanly, {total[3]} skipped by the '
          f'fuzzer\'s steering, {total[1] + total[2]} made); {total_chaos[0]} fuzzing processes started, '
          f'{total_chaos[1]} killed mid-run, {total_chaos[2]} revocations of shared objects '
          f'({total_chaos[3]} capabilities deleted), {total_chaos[4]} of a child\'s pool')
    packets_ok = True if os.environ.get('FUZZ_SEED') else fuzz_packets(iso)
    return 1 if failed or not packets_ok else 0


def fuzz_packets(iso):
    """The hostile packets at scale: the harness's net configuration with
    FUZZ_PACKETS fuzzed frames (default 100,000) in the host peer's stack
    campaign (tests/netpeer/fuzzed.py). True when it passed."""
    frames = os.environ.get('FUZZ_PACKETS', '100000')
    print(f'fuzz: the net configuration with {frames} fuzzed frames from the host peer', flush=True)
    env = dict(os.environ, NETPEER_FUZZ_FRAMES=frames)
    logdir = os.path.join(os.path.dirname(iso) or '.', 'fuzz-logs', 'packets')
    r = subprocess.run([sys.executable, os.path.join(HERE, '..', 'tests', 'harness.py'), '--iso', iso, '--only', 'net',
                        '--logdir', logdir], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    for line in r.stdout.splitlines():
        if line.startswith(('PASS', 'FAIL')) or 'campaign stack' in line or line.startswith('    '):
            print(line)
    return r.returncode == 0


if __name__ == '__main__':
    sys.exit(main())
