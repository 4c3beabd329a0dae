#!/usr/bin/env python3
"""The host side of `make run`'s network (tools/run.sh, docs/network.md).

Warden's e1000e is on QEMU's `-netdev dgram`: one raw Ethernet frame (no
FCS) per UDP datagram. QEMU sends the guest's frames to 127.0.0.1:R (the
relay's link socket) and takes frames for the guest at 127.0.0.1:Q. This
module owns the guest's only neighbour on that link, a host at 10.0.2.2
(MAC 52:55:0a:00:02:02):
  * it answers ARP for 10.0.2.2 and pings to it, and learns the guest's
    MAC and IP from its ARP and DHCP traffic;
  * it is a minimal DHCP server: DISCOVER -> OFFER and REQUEST -> ACK of
    10.0.2.15/24 (router and server 10.0.2.2, lease 86400 s), broadcast
    from 10.0.2.2:67 to port 68;
  * it relays UDP: a datagram a host program sends to 127.0.0.1:PORT goes
    to the guest's port 7 from 10.0.2.2:<a port per host client>, and the
    guest's answer to that port goes back to that client from PORT. Until
    the guest's MAC is known it ARPs for it and holds a few datagrams for
    up to HOLD_S.
So `nc -u 127.0.0.1 5555` gets its lines echoed by Warden. Both sockets are
bound to 127.0.0.1 and everything is sent to 127.0.0.1: nothing leaves this
machine. (QEMU's user network cannot do this: libslirp drops all UDP from
the guest under restrict=on, and restrict=off is forbidden.)

Relay is the logic (frames in, frames and datagrams out; no sockets),
serve() its loop on the two sockets, RelayPeer the harness's check of it
(config run-net), selftest() the offline checks. The frame builders and
the parser are tests/netpeer/frames.py's.

Usage: netrelay.py --port PORT --qemu-port Q --relay-port R [--quiet]
       netrelay.py --free-ports     (prints two free UDP ports: "Q R")
       netrelay.py --selftest
Python 3.11 standard library only.
"""

import argparse
import collections
import contextlib
import io
import itertools
import os
import select
import signal
import socket
import struct
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'tests'))
from netpeer import frames  # noqa: E402

LOOPBACK = '127.0.0.1'
RELAY_MAC = bytes.fromhex('52550a000202')
RELAY_IP = frames.PEER_IP                    # 10.0.2.2
GUEST_IP = frames.GUEST_IP                   # 10.0.2.15, what DHCP leases
BROADCAST_IP = b'\xff' * 4
NO_IP = bytes(4)
MASK = socket.inet_aton('255.255.255.0')
LEASE_S = 86400
CLIENT_PORTS = range(50000, 60000)           # 10.0.2.2's port for each host client
HOLD_MAX, HOLD_S = 8, 1.0                    # datagrams held until the guest's MAC is known
POLL_S = 0.2                                 # how often serve() looks at the clock and stop
GUEST = 'guest'                              # where a frame for the guest goes

DHCP_MAGIC = b'\x63\x82\x53\x63'
BOOTREQUEST, BOOTREPLY = 1, 2
DHCPOFFER, DHCPACK = 2, 5
REPLY_TO = {'discover': DHCPOFFER, 'request': DHCPACK}


def warn(text):
    print(f'netrelay: {text}', file=sys.stderr, flush=True)


def option(code, value):
    """One DHCP option."""
    return bytes([code, len(value)]) + value


def dhcp_reply(request, message_type):
    """The BOOTREPLY (OFFER or ACK) leasing GUEST_IP for a client's message:
    its xid, flags and chaddr, the magic cookie and our options."""
    xid, flags, giaddr, chaddr = request[4:8], request[10:12], request[24:28], request[28:44]
    fixed = struct.pack('!BBBB4sH2s4s4s4s4s16s64s128s', BOOTREPLY, 1, 6, 0, xid, 0, flags,
                        NO_IP, GUEST_IP, NO_IP, giaddr, chaddr, b'', b'')
    options = (option(53, bytes([message_type])) + option(54, RELAY_IP) + option(51, struct.pack('!I', LEASE_S))
               + option(1, MASK) + option(3, RELAY_IP) + b'\xff')
    return fixed + DHCP_MAGIC + options


def ipv4_frame(dst_mac, dst_ip, proto, payload):
    """An IPv4 frame from the relay (RELAY_MAC, RELAY_IP)."""
    return frames.ethernet(dst_mac, RELAY_MAC, frames.ETH_IPV4, frames.ipv4(RELAY_IP, dst_ip, proto, payload))


def udp_frame(dst_mac, dst_ip, sport, dport, payload):
    return ipv4_frame(dst_mac, dst_ip, frames.PROTO_UDP, frames.udp(RELAY_IP, dst_ip, sport, dport, payload))


def arp_frame(dst_mac, op, tha, tpa):
    return frames.ethernet(dst_mac, RELAY_MAC, frames.ETH_ARP, frames.arp(op, RELAY_MAC, RELAY_IP, tha, tpa))


class Relay:
    """The host at 10.0.2.2, without sockets: from_guest() and from_host()
    return what to send, as (where, bytes) pairs: where is GUEST for a frame
    to the guest, or a host client's (address, port) for a datagram."""

    def __init__(self, quiet=False, clock=time.monotonic):
        self.quiet, self.clock = quiet, clock
        self.guest_mac = None                # until its ARP or DHCP traffic says
        self.guest_ip = GUEST_IP
        self.clients = {}                    # host client (address, port) -> relay port
        self.by_port = {}                    # relay port -> host client
        self.free = itertools.cycle(CLIENT_PORTS)
        self.held = collections.deque(maxlen=HOLD_MAX)   # (deadline, relay port, data)

    def say(self, text):
        if not self.quiet:
            print(f'netrelay: {text}', flush=True)

    def from_guest(self, frame):
        """What answers one frame from the guest."""
        pkt = frames.parse(frame)
        if pkt.problem:
            return []
        if pkt.kind == 'arp':
            return self.arp(pkt)
        if pkt.kind == 'icmp' and pkt.icmp_type == frames.ICMP_ECHO_REQUEST and pkt.ip_dst == RELAY_IP:
            echo = frames.icmp_echo(frames.ICMP_ECHO_REPLY, pkt.icmp_id, pkt.icmp_seq, pkt.payload)
            return [(GUEST, ipv4_frame(pkt.src, pkt.ip_src, frames.PROTO_ICMP, echo))]
        if pkt.kind == 'udp' and (pkt.sport, pkt.dport) == (frames.DHCP_CLIENT_PORT, frames.DHCP_SERVER_PORT):
            return self.dhcp(pkt.payload)
        if pkt.kind == 'udp' and pkt.ip_dst == RELAY_IP and pkt.dport in self.by_port:
            return [(self.by_port[pkt.dport], pkt.payload)]
        return []

    def learn(self, mac, ip=None):
        """The guest is at mac (and ip): the datagrams held for it go now."""
        if not frames.is_unicast(mac):
            return []
        self.guest_mac = mac
        if ip is not None and ip != NO_IP:
            self.guest_ip = ip
        self.expire()
        out = [(GUEST, self.to_guest(port, data)) for _, port, data in self.held]
        self.held.clear()
        return out

    def arp(self, pkt):
        out = self.learn(pkt.sha, pkt.spa)
        if pkt.op == frames.ARP_REQUEST and pkt.tpa == RELAY_IP:
            out.insert(0, (GUEST, arp_frame(pkt.sha, frames.ARP_REPLY, pkt.sha, pkt.spa)))
        return out

    def dhcp(self, message):
        reply_type = REPLY_TO.get(frames.dhcp_type(message))
        if reply_type is None or message[0] != BOOTREQUEST:
            return []
        out = self.learn(message[28:34])
        if reply_type == DHCPACK:
            self.guest_ip = GUEST_IP
            self.say(f'leased {frames.ntoa(GUEST_IP)}/24 to {frames.mac_text(message[28:34])} '
                     f'(router {frames.ntoa(RELAY_IP)}, {LEASE_S} s)')
        reply = dhcp_reply(message, reply_type)
        frame = udp_frame(frames.BROADCAST_MAC, BROADCAST_IP, frames.DHCP_SERVER_PORT, frames.DHCP_CLIENT_PORT,
                          reply)
        return [(GUEST, frame)] + out

    def from_host(self, data, client):
        """What carries one host client's datagram to the guest's port 7."""
        if client[0] != LOOPBACK:
            return []
        if len(data) > frames.MAX_UDP_PAYLOAD:
            warn(f'dropped a {len(data)}-byte datagram from {client[0]}:{client[1]} '
                 f'(at most {frames.MAX_UDP_PAYLOAD} bytes fit in a frame)')
            return []
        port = self.port_for(client)
        if self.guest_mac is not None:
            return [(GUEST, self.to_guest(port, data))]
        self.held.append((self.clock() + HOLD_S, port, data))
        return [(GUEST, arp_frame(frames.BROADCAST_MAC, frames.ARP_REQUEST, bytes(6), self.guest_ip))]

    def port_for(self, client):
        """The relay's port for a host client (the oldest one's, reused, after 10,000)."""
        if client not in self.clients:
            port = next(self.free)
            self.clients.pop(self.by_port.get(port), None)
            self.clients[client], self.by_port[port] = port, client
        return self.clients[client]

    def to_guest(self, port, data):
        return udp_frame(self.guest_mac, self.guest_ip, port, frames.ECHO_PORT, data)

    def expire(self):
        """Drops the held datagrams whose HOLD_S has passed."""
        now = self.clock()
        while self.held and self.held[0][0] <= now:
            self.held.popleft()


def bound_socket(port):
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind((LOOPBACK, port))
    return sock


def free_ports(count=2):
    """count distinct UDP ports on 127.0.0.1 that nobody uses right now."""
    with contextlib.ExitStack() as stack:
        socks = [stack.enter_context(bound_socket(0)) for _ in range(count)]
        return [s.getsockname()[1] for s in socks]


def serve(relay, link, host, qemu_port, stopping):
    """Runs relay on its sockets until stopping is set: frames from QEMU
    (127.0.0.1:qemu_port) on link, host clients' datagrams on host."""
    qemu = (LOOPBACK, qemu_port)

    def send(where, data):
        try:
            if where == GUEST:
                link.sendto(data, qemu)
            else:
                host.sendto(data, where)
        except ConnectionRefusedError:
            pass                             # QEMU (or the client) is not there yet, or gone
        except OSError as e:
            warn(f'sending to {"QEMU" if where == GUEST else where}: {e}')

    while not stopping.is_set():
        ready, _, _ = select.select([link, host], [], [], POLL_S)
        relay.expire()
        for sock in ready:
            try:
                data, sender = sock.recvfrom(65536)
            except ConnectionRefusedError:
                continue
            if sock is link:
                out = relay.from_guest(data) if sender == qemu else []
            else:
                out = relay.from_host(data, sender)
            for where, payload in out:
                send(where, payload)


class RelayPeer:
    """The harness's check of `make run`'s network (config run-net): the
    relay on a thread, and a host client that sends numbered lines to
    127.0.0.1:port until GOAL came back intact (then done is set)."""
    GOAL, WAIT = 20, 0.3
    good_noun = 'lines echoed through the relay'
    bad_noun = 'answers through the relay were wrong'

    def __init__(self):
        self.link, self.host, self.client = bound_socket(0), bound_socket(0), bound_socket(0)
        self.port = self.host.getsockname()[1]
        self.qemu_port = free_ports(1)[0]
        self.client.settimeout(self.WAIT)
        self.good = self.bad = self.sent = 0
        self.done, self.stopping = threading.Event(), threading.Event()
        self.threads = [threading.Thread(target=self.relay_loop, name='netrelay', daemon=True),
                        threading.Thread(target=self.client_loop, name='netrelay client', daemon=True)]

    def netdev_args(self, netdev_id='n0'):
        return ['-netdev', f'dgram,id={netdev_id},local.type=inet,local.host={LOOPBACK},'
                f'local.port={self.qemu_port},remote.type=inet,remote.host={LOOPBACK},'
                f'remote.port={self.link.getsockname()[1]}']

    def start(self):
        for t in self.threads:
            t.start()

    def relay_loop(self):
        serve(Relay(quiet=True), self.link, self.host, self.qemu_port, self.stopping)

    def client_loop(self):
        while not self.stopping.is_set() and self.good < self.GOAL:
            line = f'hello warden {self.sent}\n'.encode()
            self.sent += 1
            try:
                self.client.sendto(line, (LOOPBACK, self.port))
                answer = self.client.recv(65536)
            except OSError:                  # a timeout, or nobody there yet
                continue
            if answer == line:
                self.good += 1
            elif not answer.startswith(b'hello warden '):
                self.bad += 1                # a late echo of an earlier line is neither
        self.done.set()

    def stop(self):
        self.stopping.set()
        for t in self.threads:
            if t.ident is not None:
                t.join(timeout=2)
        for sock in (self.client, self.link, self.host):
            sock.close()

    def summary(self):
        return f'{self.good} of {self.sent} lines echoed through the relay on 127.0.0.1:{self.port}, {self.bad} wrong'


# --------------------------------------------------------------------------
# Self-test (offline: no sockets but free_ports', no QEMU).
# --------------------------------------------------------------------------

GUEST_MAC = frames.DEFAULT_GUEST_MAC
XID = b'\x12\x34\x56\x78'
CLIENT = (LOOPBACK, 4242)


def guest_udp(src_ip, dst_ip, sport, dport, payload, dst_mac=RELAY_MAC):
    return frames.ethernet(dst_mac, GUEST_MAC, frames.ETH_IPV4,
                           frames.ipv4(src_ip, dst_ip, frames.PROTO_UDP,
                                       frames.udp(src_ip, dst_ip, sport, dport, payload)))


def guest_dhcp(message_type, magic=DHCP_MAGIC):
    """The guest's DHCP message, as servers/net/dhcp.c sends it."""
    fixed = struct.pack('!BBBB4sHH4s4s4s4s16s64s128s', BOOTREQUEST, 1, 6, 0, XID, 0, 0x8000,
                        NO_IP, NO_IP, NO_IP, NO_IP, GUEST_MAC, b'', b'')
    message = fixed + magic + option(53, bytes([message_type])) + b'\xff'
    return guest_udp(NO_IP, BROADCAST_IP, 68, 67, message, frames.BROADCAST_MAC)


def guest_arp(op, tpa, dst_mac=frames.BROADCAST_MAC, tha=bytes(6)):
    return frames.ethernet(dst_mac, GUEST_MAC, frames.ETH_ARP, frames.arp(op, GUEST_MAC, GUEST_IP, tha, tpa))


def dhcp_options(message):
    """{code: value} of a DHCP message's options (no pad or overload)."""
    options, i = {}, 240
    while i + 1 < len(message) and message[i] != 255:
        options[message[i]] = message[i + 2:i + 2 + message[i + 1]]
        i += 2 + message[i + 1]
    return options


def only_frame(out):
    """The one frame to the guest in out, parsed (None if out is not that)."""
    return frames.parse(out[0][1]) if len(out) == 1 and out[0][0] == GUEST else None


def is_dhcp_reply(pkt, message_type):
    if pkt is None or pkt.problem or pkt.kind != 'udp':
        return False
    m = pkt.payload
    return ((pkt.src, pkt.dst, pkt.ip_src, pkt.ip_dst, pkt.sport, pkt.dport)
            == (RELAY_MAC, frames.BROADCAST_MAC, RELAY_IP, BROADCAST_IP, 67, 68)
            and (m[0], m[4:8], m[10:12], m[16:20], m[28:34], m[236:240])
            == (BOOTREPLY, XID, b'\x80\x00', GUEST_IP, GUEST_MAC, DHCP_MAGIC)
            and dhcp_options(m) == {53: bytes([message_type]), 54: RELAY_IP, 51: struct.pack('!I', LEASE_S),
                                    1: MASK, 3: RELAY_IP})


def is_udp_to_guest(pkt, sport, payload):
    return (pkt is not None and not pkt.problem and pkt.kind == 'udp'
            and (pkt.src, pkt.dst, pkt.ip_src, pkt.ip_dst, pkt.sport, pkt.dport, pkt.payload)
            == (RELAY_MAC, GUEST_MAC, RELAY_IP, GUEST_IP, sport, 7, payload))


def dhcp_cases():
    relay = Relay(quiet=True)
    said = []
    relay.say = said.append
    offer = only_frame(relay.from_guest(guest_dhcp(1)))
    ack = only_frame(relay.from_guest(guest_dhcp(3)))
    return [
        ('a DISCOVER gets an OFFER of 10.0.2.15: broadcast from 10.0.2.2:67, the xid, flags, chaddr, '
         'cookie and options (type, server, lease, mask, router)', is_dhcp_reply(offer, DHCPOFFER)),
        ('a REQUEST gets an ACK, and the lease is told', is_dhcp_reply(ack, DHCPACK) and len(said) == 1
         and said[0].startswith('leased 10.0.2.15/24 to 52:54:00:12:34:56')),
        ('the guest MAC is learnt from DHCP', relay.guest_mac == GUEST_MAC),
        ('a DHCP message with the wrong cookie, or an OFFER, gets nothing',
         relay.from_guest(guest_dhcp(1, magic=b'\x63\x82\x53\x00')) == [] and relay.from_guest(guest_dhcp(2)) == []),
    ]


def neighbour_cases():
    relay = Relay(quiet=True)
    arp = only_frame(relay.from_guest(guest_arp(frames.ARP_REQUEST, RELAY_IP)))
    ping = frames.ethernet(RELAY_MAC, GUEST_MAC, frames.ETH_IPV4, frames.ipv4(
        GUEST_IP, RELAY_IP, frames.PROTO_ICMP, frames.icmp_echo(frames.ICMP_ECHO_REQUEST, 0x1234, 9, b'ping!')))
    pong = only_frame(relay.from_guest(ping))
    return [
        ('ARP for 10.0.2.2 is answered with 52:55:0a:00:02:02',
         arp is not None and not arp.problem and (arp.dst, arp.op, arp.sha, arp.spa, arp.tha, arp.tpa)
         == (GUEST_MAC, frames.ARP_REPLY, RELAY_MAC, RELAY_IP, GUEST_MAC, GUEST_IP)),
        ('the guest MAC and IP are learnt from ARP', (relay.guest_mac, relay.guest_ip) == (GUEST_MAC, GUEST_IP)),
        ('a ping to 10.0.2.2 is answered', pong is not None and not pong.problem
         and (pong.src, pong.dst, pong.ip_src, pong.ip_dst, pong.icmp_type, pong.icmp_id, pong.icmp_seq,
              pong.payload) == (RELAY_MAC, GUEST_MAC, RELAY_IP, GUEST_IP, 0, 0x1234, 9, b'ping!')),
        ('ARP for another address gets nothing',
         relay.from_guest(guest_arp(frames.ARP_REQUEST, socket.inet_aton('10.0.2.77'))) == []),
    ]


def relay_cases():
    relay = Relay(quiet=True)
    who_has = only_frame(relay.from_host(b'hello\n', CLIENT))
    held = len(relay.held)
    released = relay.from_guest(guest_arp(frames.ARP_REPLY, RELAY_IP, RELAY_MAC, RELAY_MAC))
    port = relay.clients.get(CLIENT)
    second = only_frame(relay.from_host(b'two', (LOOPBACK, 4343)))
    answer = guest_udp(GUEST_IP, RELAY_IP, 7, CLIENT_PORTS[0], b'hello\n')
    return [
        ('before the guest MAC is known a datagram is held and 10.0.2.15 ARPed for',
         who_has is not None and held == 1 and (who_has.dst, who_has.op, who_has.sha, who_has.spa, who_has.tpa)
         == (frames.BROADCAST_MAC, frames.ARP_REQUEST, RELAY_MAC, RELAY_IP, GUEST_IP)),
        ('the ARP reply releases it: UDP from 10.0.2.2:<its port> to 10.0.2.15:7',
         port == CLIENT_PORTS[0] and is_udp_to_guest(only_frame(released), port, b'hello\n')),
        ('another host client gets another port', is_udp_to_guest(second, CLIENT_PORTS[1], b'two')),
        ('the guest answer goes back to that host client', relay.from_guest(answer) == [(CLIENT, b'hello\n')]),
        ('a guest datagram to a port with no client gets nothing',
         relay.from_guest(guest_udp(GUEST_IP, RELAY_IP, 7, 40000, b'x')) == []),
    ]


def holding_cases():
    now = [0.0]
    relay = Relay(quiet=True, clock=lambda: now[0])
    for k in range(HOLD_MAX + 2):
        relay.from_host(b'%d' % k, CLIENT)
    at_most = len(relay.held)
    now[0] = HOLD_S + 0.1
    relay.expire()
    expired = len(relay.held)
    stderr = io.StringIO()
    with contextlib.redirect_stderr(stderr):
        oversize = relay.from_host(bytes(frames.MAX_UDP_PAYLOAD + 1), CLIENT)
    return [
        (f'at most {HOLD_MAX} datagrams are held', at_most == HOLD_MAX),
        (f'a held datagram is dropped after {HOLD_S:g} s', expired == 0
         and relay.from_guest(guest_arp(frames.ARP_REPLY, RELAY_IP, RELAY_MAC, RELAY_MAC)) == []),
        ('a datagram too big for a frame is dropped, saying so', oversize == [] and 'dropped' in stderr.getvalue()),
        ('a datagram from anywhere but 127.0.0.1 is ignored', relay.from_host(b'x', ('10.1.2.3', 9)) == []),
        ('--free-ports: two distinct ports', len(set(free_ports())) == 2),
    ]


def selftest():
    """Runs the offline checks, printing failures and a count: True if all passed."""
    cases = dhcp_cases() + neighbour_cases() + relay_cases() + holding_cases()
    failed = [name for name, ok in cases if not ok]
    for name in failed:
        print(f'FAIL netrelay selftest: {name}')
    print(f'netrelay selftest: {len(cases) - len(failed)} passed, {len(failed)} failed')
    return not failed


# --------------------------------------------------------------------------
# Command line.
# --------------------------------------------------------------------------


def run(port, qemu_port, relay_port, quiet):
    """The relay until SIGTERM or SIGINT: the exit status."""
    try:
        link, host = bound_socket(relay_port), bound_socket(port)
    except OSError as e:
        warn(f'cannot bind 127.0.0.1:{relay_port} and 127.0.0.1:{port}: {e}')
        return 1
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    relay = Relay(quiet)
    relay.say(f'{LOOPBACK}:{port} <-> guest {frames.ntoa(GUEST_IP)}:{frames.ECHO_PORT} (UDP), '
              f'dgram {LOOPBACK}:{qemu_port}/{relay_port}')
    with link, host:
        try:
            serve(relay, link, host, qemu_port, threading.Event())
        except KeyboardInterrupt:
            pass
    return 0


def main():
    parser = argparse.ArgumentParser(description="make run's host at 10.0.2.2 on -netdev dgram (127.0.0.1 only)")
    parser.add_argument('--port', type=int, default=5555, help='UDP port on 127.0.0.1 for host clients')
    parser.add_argument('--qemu-port', type=int, help="QEMU's local.port (where frames for the guest go)")
    parser.add_argument('--relay-port', type=int, help="QEMU's remote.port (where the relay takes frames)")
    parser.add_argument('--quiet', action='store_true', help='no start-up or lease lines')
    parser.add_argument('--free-ports', action='store_true', help='print two free UDP ports ("Q R") and exit')
    parser.add_argument('--selftest', action='store_true', help='run the offline checks and exit')
    args = parser.parse_args()
    if args.selftest:
        return 0 if selftest() else 1
    if args.free_ports:
        print(*free_ports())
        return 0
    if not args.qemu_port or not args.relay_port:
        parser.error('--qemu-port and --relay-port are needed')
    return run(args.port, args.qemu_port, args.relay_port, args.quiet)


if __name__ == '__main__':
    sys.exit(main())
