#!/usr/bin/env python3
"""Network safety for every QEMU command line Warden runs (DESIGN.md §12).

No test, benchmark or `make run` may send traffic off this machine. This
module owns the one check, `network_problems(args)`, that the harness
(tests/harness.py), `make run`/`make debug` and tools/bench.sh apply to
their QEMU command lines before starting QEMU. A command line passes only
if every network it names stays on this machine:

  * `-nic none` (or `-nodefaults`): no network at all. A command line that
    names no network is refused: QEMU would add q35's default e1000e on
    user-mode networking *without* restrict, which relays a guest's
    traffic (even ICMP echo) to the real network.
  * `user` networking only with `restrict=on`; `hostfwd` only from
    127.0.0.1; no `guestfwd`.
  * `dgram` and `socket` only to and from 127.0.0.1 (or unix sockets);
    no multicast.
  * `hubport`: a port of a hub inside QEMU (the benchmarks join two NICs
    so); a backend joined to the same hub is checked on its own.
  * every other backend (tap, bridge, vde, l2tpv3, stream, vhost-user, ...)
    is refused.

As a program it is a guarded exec:
    tools/qemu_netsafety.py qemu-system-x86_64 ARGS...
checks ARGS and runs QEMU with them, or prints why not and exits 2.

Python 3.11 standard library only.
"""

import os
import sys

LOOPBACK = {'127.0.0.1', 'localhost', '::1'}
TRUE = {'on', 'yes', 'y', 'true'}


def _options(value):
    """'user,id=n0,restrict=on' -> ('user', {'id': 'n0', 'restrict': 'on'}).
    Repeated keys (hostfwd) keep every value, in a list."""
    parts = value.split(',')
    kind, opts = parts[0], {}
    for part in parts[1:]:
        key, _, val = part.partition('=')
        opts.setdefault(key, []).append(val)
    return kind, opts


def _host_of(address):
    """'127.0.0.1:5555' -> '127.0.0.1'; ':5555' -> '' (every address)."""
    if address.startswith('['):
        return address[1:address.find(']')]
    return address.rsplit(':', 1)[0] if ':' in address else address


def _user_problems(where, opts):
    problems = []
    if opts.get('restrict', ['off'])[-1].lower() not in TRUE:
        problems.append(f'{where}: user-mode networking without restrict=on '
                        'relays guest traffic to the real network')
    for fwd in opts.get('hostfwd', []):
        # [tcp|udp]:[hostaddr]:hostport-[guestaddr]:guestport
        host_part = fwd.split('-', 1)[0]
        fields = host_part.split(':')
        host = fields[1] if len(fields) == 3 else ''
        if host not in LOOPBACK:
            problems.append(f'{where}: hostfwd={fwd} listens on '
                            f'{host or "every address"}, not 127.0.0.1')
    if 'guestfwd' in opts:
        problems.append(f'{where}: guestfwd connects the guest to '
                        'host-side services')
    return problems


def _dgram_problems(where, opts):
    problems = []
    for side in ('local', 'remote'):
        kind = opts.get(f'{side}.type', [''])[-1]
        if kind in ('', 'unix', 'fd'):
            continue
        host = opts.get(f'{side}.host', [''])[-1]
        if kind != 'inet' or host not in LOOPBACK:
            problems.append(f'{where}: {side} address {kind}:{host or "?"} '
                            'is not 127.0.0.1')
    return problems


def _socket_problems(where, opts):
    problems = []
    if 'mcast' in opts:
        problems.append(f'{where}: multicast sockets reach the network')
    for key in ('connect', 'listen', 'udp', 'localaddr'):
        for address in opts.get(key, []):
            if _host_of(address) not in LOOPBACK:
                problems.append(f'{where}: {key}={address} is not '
                                '127.0.0.1')
    if not any(k in opts for k in ('connect', 'listen', 'udp', 'fd')):
        problems.append(f'{where}: socket backend without an address')
    return problems


def _backend_problems(where, value):
    kind, opts = _options(value)
    if kind == 'none':
        return []
    if kind == 'nic':                       # legacy -net nic: a device only
        return []
    if kind == 'hubport':                   # inside QEMU; other hub members are checked themselves
        return []
    if kind == 'user':
        return _user_problems(where, opts)
    if kind == 'dgram':
        return _dgram_problems(where, opts)
    if kind == 'socket':
        return _socket_problems(where, opts)
    return [f'{where}: network backend "{kind}" is not allowed '
            '(use none, user with restrict=on, or dgram/socket on '
            '127.0.0.1)']


def network_problems(args):
    """Why the QEMU argument list args could send traffic off the machine
    (an empty list: it cannot)."""
    problems, named_network, no_defaults = [], False, False
    i = 0
    while i < len(args):
        arg = args[i]
        flag = arg[1:] if arg.startswith('--') else arg
        if flag == '-nodefaults':
            no_defaults = True
        if flag in ('-nic', '-netdev', '-net') and i + 1 < len(args):
            named_network = True
            problems += _backend_problems(f'{flag} {args[i + 1]}',
                                          args[i + 1])
            i += 2
            continue
        i += 1
    if not named_network and not no_defaults:
        problems.append('no network named: QEMU would add its default NIC '
                        'on user-mode networking without restrict; pass '
                        '-nic none or name the network')
    return problems


def main(argv):
    if len(argv) < 2:
        sys.exit('usage: qemu_netsafety.py QEMU [ARGS...]')
    problems = network_problems(argv[2:])
    if problems:
        print('qemu_netsafety: refusing to start QEMU (DESIGN.md §12, no '
              'traffic may leave this machine):', file=sys.stderr)
        for p in problems:
            print('    ' + p, file=sys.stderr)
        sys.exit(2)
    os.execvp(argv[1], argv[1:])


if __name__ == '__main__':
    main(sys.argv)
