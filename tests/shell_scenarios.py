"""Scenarios the harness plays on the guest's shell (configs with a 'console').

This file owns the checks of servers/shell: each scenario gets a connected
tests/shellconsole.ShellConsole at the first prompt and a Facts object, and
returns nothing; a failed check raises Failed (or a ShellConsole timeout).
Every check compares a command's output with something the shell cannot
make up: the boot log (pids, PCI addresses, IOVAs the drivers printed), the
output of another command, QEMU's own vtd_dmar_fault trace (faults seen by
the emulated IOMMU, outside the guest) and the disk image on the host.
"""

import re

import shellconsole


class Failed(AssertionError):
    pass


def check(condition, what):
    if not condition:
        raise Failed(what)


def grab(rx, text, what):
    m = re.search(rx, text, re.MULTILINE)
    check(m, f'{what}: /{rx}/ not found')
    return m


def rows_by(table, column):
    return {row[column]: row for row in table}


class Facts:
    """What the boot log said, read from the console transcript."""

    def __init__(self, transcript):
        self.text = transcript
        self.edu_pid = int(grab(r'init: supervising driver edu \(module edu, process (\d+)\)',
                                transcript, 'boot log').group(1))
        self.edu_address = grab(r'devmgr: (\d\d:\d\d\.\d): driver "edu"', transcript, 'boot log').group(1)
        self.edu_iova = grab(r'edu: .* DMA buffer at IOVA (0x[0-9a-f]+)', transcript, 'boot log').group(1)
        self.nvme_pid = int(grab(r'init: supervising driver blk0 \(module nvme, process (\d+)\)',
                                 transcript, 'boot log').group(1))


def scenario_line_editing(con, facts, ctx):
    """help, errors, garbage and the line editor's keys."""
    out = con.command('help')
    for name in ('ps', 'caps', 'devices', 'iommu', 'domains', 'dma', 'faults', 'irqs', 'drivers', 'kill',
                 'restart', 'stop', 'start', 'attack', 'mem', 'stats', 'blk', 'net'):
        grab(r'^  %s\b' % name, out, 'help lists ' + name)
    grab(r'^usage: dma NAME\|PID', con.command('help dma'), 'help dma')
    grab(r'^error: no command .nosuch.', con.command('help nosuch'), 'help of an unknown command')
    grab(r"^error: unknown command 'frobnicate' \(try help\)", con.command('frobnicate'), 'unknown command')
    grab(r'^error: usage: ps$', con.command('ps extra'), 'ps with an argument')
    grab(r'^error: usage: dma NAME\|PID', con.command('dma'), 'dma without one')
    grab(r"^error: no process or driver 'nosuch'", con.command('dma nosuch'), 'dma of nobody')
    grab(r"^error: 'nosuch' is not a supervised driver", con.command('kill nosuch'), 'kill of nobody')
    grab(r'^error: line longer than 200', con.command('x' * 300), 'a 300-character line')
    grab(r'^error: too many words', con.command(' '.join(['a'] * 12)), 'twelve words')
    # Binary and control bytes are ignored; the command after them still runs.
    out = con.command('\x01\x02\x00\xff\xfe\x80\x1b[Z\x1bOP\x07he\x1b[1;5Dlp')
    grab(r'^Commands', out, 'help after garbage bytes')
    grab(r'^PID +NAME', con.command('psx\x7f'), 'backspace erased the x')
    grab(r'^Commands', con.command('rubbish\x15help'), 'Ctrl-U erased the line')
    con.send('kill edu\x03')
    con.expect(r'\^C\r\n', 10)
    con.wait_prompt(10)
    out = con.command('drivers')
    check(re.search(r'^edu +running +1 ', out, re.MULTILINE), 'Ctrl-C cancelled "kill edu":\n' + out)
    out = con.command('\x1b[A')                    # up: "drivers" again
    grab(r'^edu +running +1 ', out, 'up arrow recalled drivers')
    check(con.command('') == '', 'an empty line prints nothing')


def scenario_inspection(con, facts, ctx):
    """ps, devices, dma, irqs, caps, domains, iommu, mem, stats against the boot log."""
    ps = rows_by(shellconsole.parse_table(con.command('ps')), 'NAME')
    for name in ('init', 'devmgr', 'edu', 'nvme', 'e1000e', 'net', 'echo', 'shell'):
        check(name in ps, f'ps lists {name}: {sorted(ps)}')
    check(int(ps['edu']['PID']) == facts.edu_pid, f'ps: edu pid {ps["edu"]["PID"]} != boot log {facts.edu_pid}')
    check(int(ps['nvme']['PID']) == facts.nvme_pid, 'ps: nvme pid matches the boot log')
    check(ps['edu']['RESTARTS'] == '0', 'edu has not restarted')
    used, budget = ps['edu']['POOL USED/BUDGET'].split('/')
    check(0 < int(used[:-1]) < int(budget[:-1]), 'edu pool used below budget')

    devices = rows_by(shellconsole.parse_table(con.command('devices')), 'ADDRESS')
    edu = devices.get(facts.edu_address)
    check(edu and edu['ID'] == '1234:11e8', f'devices: edu at {facts.edu_address}: {edu}')
    check(edu['OWNER'] == f'{facts.edu_pid} edu', f'devices: edu owned by its driver: {edu}')

    out = con.command('dma edu')
    grab(r'^process %d \(edu\), domain (\d+) \(device %s\)' % (facts.edu_pid, re.escape(facts.edu_address)),
         out, 'dma edu header')
    grab(r'^  %s +4K +4K rw +\d+ +its own memory' % facts.edu_iova, out, 'dma edu shows the DMA buffer')

    irqs = shellconsole.parse_table(con.command('irqs'))
    mine = [r for r in irqs if r['SOURCE'].startswith(facts.edu_address)]
    check(len(mine) == 1 and mine[0]['OWNER'] == f'{facts.edu_pid} edu', f'irqs: edu MSI: {mine}')
    check(any(r['SOURCE'] == 'ISA 4' and r['OWNER'] == 'kernel' for r in irqs), 'irqs: the console line')

    # The inspector and the console are the shell's alone (and init's, which made them).
    for name, row in ps.items():
        caps = con.command(f'caps {row["PID"]}')
        holds = bool(re.search(r'^\d+ +0x[0-9a-f]+ +(inspector|console) ', caps, re.MULTILINE))
        check(holds == (name in ('init', 'shell')), f'caps {name}: inspector/console held: {holds}\n{caps}')
    grab(r'^\d+ +0x[0-9a-f]+ +device +\w+ ', con.command('caps edu'), 'caps edu shows its device')

    domains = shellconsole.parse_table(con.command('domains'))
    check(any(r['OWNER'] == f'{facts.edu_pid} edu' and r['DEVICE'] == facts.edu_address for r in domains),
          f'domains: edu\'s: {domains}')
    out = con.command('iommu')
    grab(r'translation-on root-table-set queued-inv-on interrupt-remapping-on', out, 'iommu status decoded')
    grab(r'^memory: \d+ KiB free of \d+ KiB', con.command('mem'), 'mem')
    grab(r'^system calls +\d+', con.command('stats'), 'stats')


def scenario_attack_and_kill(con, facts, ctx):
    """attack edu: every attempt faults (the kernel's log and QEMU's own trace agree); kill edu:
    what was revoked, the restart, the new domain."""
    out = con.command('attack edu', timeout=60)
    m = grab(r'^attack: (\d) of (\d) attempts blocked', out, 'attack summary')
    blocked, steps = int(m.group(1)), int(m.group(2))
    check(steps == 4, f'attack made 4 attempts: {steps}')
    for step in (1, 2, 3):      # DMA: each blocked with a fault message shown as it came
        grab(r'^  %d\. .*\n(?:.*\n)*?     DMA fault #\d+: %s write to' % (step, re.escape(facts.edu_address)), out,
             f'attack step {step} faulted')
    # The forged MSI: blocked, or (QEMU 7.2: emulated DMA has no requester ID) said to be delivered.
    check(blocked == 4 or (blocked == 3 and 'the forged MSI was DELIVERED' in out), 'attack step 4 reported:\n' + out)
    grab(r'still holds its pattern', out, 'the read-only page is unchanged')
    faults = shellconsole.parse_table(con.command('faults'))
    ours = [f for f in faults if f['SOURCE'] == facts.edu_address]
    check(len(ours) >= 3, f'faults: at least 3 from edu\'s device {facts.edu_address}: {faults}')
    for f in ours:
        check(f['DIR'] == 'write' and f['OWNER'] == f'{facts.edu_pid} edu', f'fault attributed to edu: {f}')
    ctx['faults'] = ours

    out = con.command('kill edu', timeout=60)
    grab(r'^killed edu \(process %d\)' % facts.edu_pid, out, 'kill names the process')
    grab(r'^  1\. bus mastering off on 1 device group\(s\) \(first %s\)' % re.escape(facts.edu_address), out,
         'revocation step 1')
    grab(r'^  3\. context entries cleared', out, 'revocation step 3')
    new_pid = int(grab(r'^edu restarted by the supervisor: generation 2, process (\d+)', out, 'restart').group(1))
    check(new_pid != facts.edu_pid, 'a new process')
    old = grab(r'^  IOVA %s \(frame (\d+)\): frame (.*?);' % facts.edu_iova, out, 'the old DMA buffer after kill')
    check(old.group(2) == 'mapped in no domain', f'the old frame is out of every domain: {old.group(0)}')
    drivers = rows_by(shellconsole.parse_table(con.command('drivers')), 'NAME')
    check(drivers['edu']['GEN'] == '2' and drivers['edu']['PID'] == str(new_pid), f'drivers: {drivers["edu"]}')
    check(drivers['edu']['DEATHS'] == '1', 'drivers: one death')
    out = con.command('dma edu')
    grab(r'^process %d \(edu\)' % new_pid, out, 'dma edu shows the new incarnation only')
    check(f'process {facts.edu_pid} ' not in out, 'the old incarnation is gone from dma edu')
    check(not re.search(r'^  0x[0-9a-f]+ +\S+ +\S+ +\S+ +%s ' % old.group(1), out, re.MULTILINE),
          f'the old frame {old.group(1)} is not in the new domain:\n{out}')

    grab(r'^edu stopped', con.command('stop edu'), 'stop edu')
    drivers = rows_by(shellconsole.parse_table(con.command('drivers')), 'NAME')
    check(drivers['edu']['STATE'] == 'stopped', f'drivers after stop: {drivers["edu"]}')
    grab(r'^error: edu is not running', con.command('kill edu'), 'kill of a stopped driver')
    grab(r'^edu started: generation 3', con.command('start edu', timeout=60), 'start edu')
    grab(r'^error: edu is not stopped', con.command('start edu'), 'start of a running driver')


def scenario_services(con, facts, ctx):
    """blk write/read (checked on the host's image afterwards) and net."""
    grab(r'^blk0: 131072 blocks of 512 bytes \(64 MiB\)', con.command('blk'), 'blk')
    grab(r'^blk0: block 100 written with 0xab and read back: the same', con.command('blk write 100 0xab',
                                                                                    timeout=30), 'blk write')
    out = con.command('blk read 100', timeout=30)
    grab(r'^0000c800  ab ab ab ab ab ab ab ab ab ab ab ab ab ab ab ab  \.{16}$', out, 'blk read hex + ASCII')
    grab(r'^error: usage: blk', con.command('blk read 999999999'), 'blk read past the end')
    grab(r'^error: usage: blk', con.command('blk write 1 300'), 'blk write of a non-byte')
    ctx['disk_writes'] = [(100 * 512, 512, 0xAB)]
    out = con.command('net')
    grab(r'^net: address 10\.0\.2\.15/24', out, 'net address')
    grab(r'^reply from 10\.0\.2\.2', con.command('net ping 10.0.2.2', timeout=30), 'ping the gateway')
    grab(r"^error: '10\.0\.2' is not an IPv4 address", con.command('net ping 10.0.2'), 'bad address')


SCENARIOS = [scenario_line_editing, scenario_inspection, scenario_services, scenario_attack_and_kill]


def trace_faults(qemu_output):
    """(sid, addr) of every fault QEMU's vtd_dmar_fault trace printed."""
    return {(int(m.group(1), 16), int(m.group(2), 16))
            for m in re.finditer(r'vtd_dmar_fault sid 0x([0-9a-f]+) fault \d+ addr 0x([0-9a-f]+)', qemu_output)}


def after_run(ctx, qemu_output, disk_image):
    """Checks from outside once QEMU has stopped: a list of failure reasons."""
    reasons = []
    seen = trace_faults(qemu_output)
    for f in ctx.get('faults', []):
        bus, rest = f['SOURCE'].split(':')
        dev, fn = rest.split('.')
        sid = int(bus, 16) << 8 | int(dev, 16) << 3 | int(fn, 16)
        if (sid, int(f['IOVA'], 16)) not in seen:
            reasons.append(f'QEMU\'s trace shows no vtd_dmar_fault for sid {sid:#x} at {f["IOVA"]} '
                           f'(the shell listed it): traced {sorted(seen)}')
    if disk_image:
        with open(disk_image, 'rb') as img:
            for offset, length, byte in ctx.get('disk_writes', []):
                img.seek(offset)
                if img.read(length) != bytes([byte]) * length:
                    reasons.append(f'disk image: {length} bytes at {offset} are not {byte:#x} (blk write)')
    return reasons
