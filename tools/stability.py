#!/usr/bin/env python3
"""make stability: the normal system under steady block and network load for
a long run (default 10 minutes), with memory and counters flat.

Boots what `make run` boots (build/warden-test.iso with `devmgr`: devmgr
hands edu, the NVMe controller and the e1000e to init's supervisor, the
network and echo services start, the shell ends the boot), the serial
console on a socket, the NIC on -netdev dgram to tools/netrelay.py
(127.0.0.1 only), and keeps it busy:
  - network: a host client sends numbered lines to the relay's port without
    pause and checks each echo (UDP through the e1000e, the driver, the
    network service and the echo service and back);
  - block: the shell writes a block (`blk write LBA BYTE`, read back by the
    shell) twice a second, LBAs cycling over a 256-block range,
    and the host checks the disk image afterwards.
Every SAMPLE_SECONDS it takes `mem` and `stats` from the shell. After the
warm-up sample, these must not move: free memory, kernel object pages,
live objects, processes and threads, every process's pool charge, IOMMU
faults, revocations, unowned and spurious interrupts. The echoes and the
block writes must keep progressing in every interval, with nothing wrong.

Environment: STABILITY_SECONDS (default 600), STABILITY_SAMPLE (60).
Logs: build/stability-logs/ (the console transcript and QEMU's output).
"""

import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, '..', 'tests'))
import disk_pattern  # noqa: E402
import harness  # noqa: E402
import shellconsole  # noqa: E402
from netrelay import RelayPeer  # noqa: E402

CONFIG = {
    'name': 'stability',
    'args': ['-m', '512M', '-device', 'intel-iommu,intremap=on', '-device', 'edu'],
    'cmdline': 'devmgr',
    'disk': {'size_mib': 64},
}
FIRST_LBA, LBAS = 4096, 256              # 2 MiB in, away from anything else
WRITE_EVERY = 0.5

MEM_RE = re.compile(r'^memory: (\d+) KiB free of \d+ KiB; kernel objects use (\d+) KiB', re.M)
OBJECTS_RE = re.compile(r'^objects: (\d+) live \((\d+) processes, (\d+) threads\)', re.M)
POOL_RE = re.compile(r'^(\d+)\s+(\S+)\s+(\d+)K\s+(\d+)K\s*$', re.M)
COUNTERS = {
    'IOMMU faults': re.compile(r'^IOMMU unit 0\s+\d+ invalidations, \d+ waits, (\d+) faults', re.M),
    'revocations': re.compile(r'^revocations\s+(\d+) device groups', re.M),
    'spurious interrupts': re.compile(r'^interrupts\s+\d+ sources live, (\d+) spurious', re.M),
    'unowned interrupts': re.compile(r'^interrupts\s+\d+ sources live, \d+ spurious, (\d+) unowned', re.M),
}


def sample(con):
    """The flat quantities from `mem` and `stats`: {name: value}."""
    mem = con.command('mem', timeout=60)
    stats = con.command('stats', timeout=60)
    values = {}
    m, o = MEM_RE.search(mem), OBJECTS_RE.search(mem)
    if not m or not o:
        raise shellconsole.ConsoleError(f'mem did not parse: {mem!r}')
    values['free KiB'], values['kernel object KiB'] = int(m.group(1)), int(m.group(2))
    values['live objects'], values['processes'], values['threads'] = (int(g) for g in o.groups())
    for pid, name, used, _budget in POOL_RE.findall(mem):
        values[f'pool of {name} ({pid}) KiB'] = int(used)
    for name, rx in COUNTERS.items():
        c = rx.search(stats)
        if not c:
            raise shellconsole.ConsoleError(f'stats has no {name}: {stats!r}')
        values[name] = int(c.group(1))
    return values


def main():
    iso = sys.argv[1] if len(sys.argv) > 1 else 'build/warden-test.iso'
    duration = float(os.environ.get('STABILITY_SECONDS', '600'))
    every = float(os.environ.get('STABILITY_SAMPLE', '60'))
    logdir = os.path.join(os.path.dirname(iso) or '.', 'stability-logs')
    os.makedirs(logdir, exist_ok=True)
    img = os.path.abspath(os.path.join(logdir, 'stability-disk.img'))
    seed = int.from_bytes(os.urandom(8), 'little') >> 1
    disk_pattern.make_image(img, CONFIG['disk']['size_mib'] << 20, seed)
    peer = RelayPeer()
    peer.GOAL = float('inf')                                # echo until stopped
    sock_dir = tempfile.mkdtemp(prefix='warden-stability-')
    con = shellconsole.ShellConsole(os.path.join(sock_dir, 'con.sock'))
    cmd = harness.qemu_command('qemu-system-x86_64', iso, CONFIG, (img, seed), peer)
    serial = cmd.index('-serial')
    cmd = cmd[:serial] + cmd[serial + 2:] + con.qemu_args()
    unsafe = harness.network_problems(cmd[1:])
    if unsafe:
        sys.exit('stability: refused, the QEMU command line could send traffic off this machine: ' + '; '.join(unsafe))
    print(f'stability: the normal system for {duration:g} s under block and network load, sampled every {every:g} s; '
          f'logs in {logdir}', flush=True)
    problems, samples, written = [], [], {}
    qemu_log = os.path.join(logdir, 'stability-qemu.log')
    with open(qemu_log, 'wb') as out:
        proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                                start_new_session=True)
    harness.LIVE.add(proc)
    peer.start()
    t0 = time.monotonic()
    try:
        con.connect(timeout=30, proc=proc)
        con.wait_prompt(timeout=120)
        start = time.monotonic()
        next_sample, next_write, writes = start, start, 0
        last_good = 0
        while True:
            now = time.monotonic()
            if now >= next_sample:
                values = sample(con)
                values['echoes'], values['echoes wrong'], values['block writes'] = peer.good, peer.bad, writes
                samples.append((now - start, values))
                print(f'  {now - start:6.0f} s: {values["free KiB"]} KiB free, {values["live objects"]} objects, '
                      f'{peer.good} echoes, {writes} block writes', flush=True)
                if len(samples) > 1 and peer.good <= last_good:
                    problems.append(f'no echo in the interval ending at {now - start:.0f} s')
                last_good = peer.good
                next_sample += every
                if now - start >= duration:
                    break
            if now >= next_write:
                lba = FIRST_LBA + writes % LBAS
                byte = (writes * 37 + 1) & 0xFF
                out = con.command(f'blk write {lba} {byte:#x}', timeout=60)
                if not re.search(rf'^blk0: block {lba} written with {byte:#04x} and read back: the same', out, re.M):
                    problems.append(f'blk write {lba} {byte:#x}: {out.strip()!r}')
                written[lba] = byte
                writes += 1
                next_write += WRITE_EVERY
            time.sleep(max(0.0, min(next_sample, next_write) - time.monotonic()))
    except (shellconsole.ConsoleError, OSError) as e:
        problems.append(f'console: {e}')
    finally:
        peer.stop()
        harness.kill_group(proc)
        con.close()
        shutil.rmtree(sock_dir, ignore_errors=True)
        with open(os.path.join(logdir, 'stability.log'), 'w', encoding='utf-8') as f:
            f.write(harness.clean_log(con.transcript()))
    if peer.bad:
        problems.append(f'{peer.bad} echoes came back wrong')
    if len(samples) >= 3:
        _, warm = samples[1]                # after the first interval: every cache and pool has settled
        for at, values in samples[2:]:
            for name, value in values.items():
                if name in ('echoes', 'block writes'):
                    continue
                if name not in warm:
                    problems.append(f'{at:.0f} s: {name} = {value} appeared after the warm-up sample')
                elif value != warm[name]:
                    problems.append(f'{at:.0f} s: {name} = {value}, {warm[name]} after warm-up')
        for name in warm:
            if name not in samples[-1][1]:
                problems.append(f'{name} is gone from the last sample')
    else:
        problems.append(f'only {len(samples)} samples: the run ended early')
    with open(img, 'rb') as f:
        for lba, byte in written.items():
            f.seek(lba * 512)
            if f.read(512) != bytes([byte]) * 512:
                problems.append(f'disk image: block {lba} does not hold {byte:#x} (the last blk write)')
    secs = time.monotonic() - t0
    print(f'stability: {len(samples)} samples over {secs:.0f} s, {peer.good} of {peer.sent} echoes, '
          f'{len(written)} blocks checked on the host\'s image')
    if problems:
        print('FAIL stability')
        for p in problems[:20]:
            print('    ' + p)
        print(f'    (console transcript: {logdir}/stability.log, QEMU: {qemu_log})')
        return 1
    os.remove(img)
    print('PASS stability: memory, objects, pools and counters flat after the warm-up sample')
    return 0


if __name__ == '__main__':
    sys.exit(main())
