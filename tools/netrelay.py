#!/usr/bin/env python3
"""The host side of `make run`'s network (tools/run.sh, docs/network.md).

Warden's e1000e is on `-netdev dgram`: QEMU sends each frame the guest
sends as one UDP datagram to 127.0.0.1:RELAY_PORT and takes frames for
the guest at 127.0.0.1:QEMU_PORT. This relay is the guest's only
neighbour, a small host at 10.0.2.2 (MAC 02:00:00:00:00:02):
  * it answers ARP for 10.0.2.2 and pings to it;
  * it is a DHCP server that leases 10.0.2.15/24 (router 10.0.2.2);
  * it relays UDP: a datagram a host program sends to 127.0.0.1:PORT goes
    to the guest's port 7 from 10.0.2.2:<a port per host client>, and the
    guest's answer to that port goes back to that client from PORT.
So `nc -u 127.0.0.1 5555` gets its lines echoed by Warden. It binds and
sends on 127.0.0.1 only: nothing leaves this machine. (QEMU's user
network cannot do this: libslirp drops all UDP from the guest under
restrict=on, and restrict=off is forbidden.)

The frame builders and the parser are tests/netpeer.py's.
Usage: netrelay.py --port PORT --qemu-port Q --relay-port R [--quiet]
       netrelay.py --free-ports     (prints two free UDP ports: Q R)
       netrelay.py --selftest
Python 3.11 standard library only.
"""

import argparse
import os
import select
import signal
import socket
import struct
import sys
import threading

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'tests'))
import netpeer as frames  # noqa: E402

LOOPBACK = '127.0.0.1'
GUEST_IP = frames.GUEST_IP
RELAY_IP = frames.PEER_IP
MASK = socket.inet_aton('255.255.255.0')
LEASE_S = 86400
FIRST_CLIENT_PORT = 50000
DHCP_MAGIC = b'\x63\x82\x53\x63'
DHCPDISCOVER, DHCPOFFER, DHCPREQUEST, DHCPACK = 1, 2, 3, 5


def dhcp_options(payload):
    """The options of a BOOTP/DHCP message as {code: bytes}, or None."""
    if len(payload) < 240 or payload[236:240] != DHCP_MAGIC:
        return None
    options, i = {}, 240
    while i < len(payload) and payload[i] != 255:
        if payload[i] == 0:
            i += 1
            continue
        if i + 1 >= len(payload) or i + 2 + payload[i + 1] > len(payload):
            return None
        options[payload[i]] = payload[i + 2:i + 2 + payload[i + 1]]
        i += 2 + payload[i + 1]
    return options


def dhcp_reply(request, message_type):
    """The BOOTREPLY (OFFER or ACK) for a parsed DHCP request message."""
    xid, chaddr = request[4:8], request[28:44]
    head = struct.pack('!BBBB4sHH4s4s4s4s16s', 2, 1, 6, 0, xid, 0, 0x8000, bytes(4), GUEST_IP, RELAY_IP,
                       bytes(4), chaddr)
    opts = (bytes([53, 1, message_type]) + bytes([54, 4]) + RELAY_IP + bytes([51, 4]) + struct.pack('!I', LEASE_S)
            + bytes([1, 4]) + MASK + bytes([3, 4]) + RELAY_IP + b'\xff')
    return head + bytes(64 + 128) + DHCP_MAGIC + opts


def dhcp_frame(reply):
    """A DHCP reply as the broadcast frame from 10.0.2.2:67 to port 68."""
    everyone = b'\xff' * 4
    return frames.ethernet(frames.BROADCAST_MAC, frames.PEER_MAC, frames.ETH_IPV4,
                           frames.ipv4(RELAY_IP, everyone, frames.PROTO_UDP,
                                       frames.udp(RELAY_IP, everyone, frames.DHCP_SERVER_PORT,
                                                  frames.DHCP_CLIENT_PORT, reply)))


class Relay:
    """The host at 10.0.2.2; see the module docstring."""

    def __init__(self, port, qemu_port, relay_port, quiet=False):
        self.qemu = (LOOPBACK, qemu_port)
        self.link = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.link.bind((LOOPBACK, relay_port))
        self.host = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.host.bind((LOOPBACK, port))
        self.port, self.quiet = port, quiet
        self.guest_mac = frames.DEFAULT_GUEST_MAC
        self.clients = {}                # host address -> relay port toward the guest
        self.by_port = {}                # relay port -> host address

    def say(self, text):
        if not self.quiet:
            print(f'netrelay: {text}', flush=True)

    def to_guest(self, frame):
        self.link.sendto(frame, self.qemu)

    def frame_from_guest(self, frame):
        """What to do with one frame of the guest's: the frames to send back
        to it, or a (host address, data) pair to pass on."""
        pkt = frames.parse(frame)
        if pkt.problem:
            return None
        if pkt.kind in ('arp', 'ipv4', 'icmp', 'udp') and frames.is_unicast(pkt.src):
            self.guest_mac = pkt.src
        if pkt.kind == 'arp' and pkt.op == frames.ARP_REQUEST and pkt.tpa == RELAY_IP:
            return frames.arp_reply(pkt)
        if pkt.kind == 'icmp' and pkt.icmp_type == frames.ICMP_ECHO_REQUEST and pkt.ip_dst == RELAY_IP:
            return frames.echo_reply(pkt)
        if pkt.kind == 'udp' and pkt.dport == frames.DHCP_SERVER_PORT:
            return self.dhcp(pkt.payload)
        if pkt.kind == 'udp' and pkt.ip_dst == RELAY_IP and pkt.dport in self.by_port:
            return (self.by_port[pkt.dport], pkt.payload)
        return None

    def dhcp(self, payload):
        options = dhcp_options(payload)
        kind = options and options.get(53, b'\0')[0]
        if kind == DHCPDISCOVER:
            return dhcp_frame(dhcp_reply(payload, DHCPOFFER))
        if kind == DHCPREQUEST:
            self.say(f'leased {frames.ntoa(GUEST_IP)}/24 to {frames.mac_text(payload[28:34])}')
            return dhcp_frame(dhcp_reply(payload, DHCPACK))
        return None

    def datagram_from_host(self, data, address):
        """A host program's datagram as the UDP frame to the guest's port 7."""
        if address not in self.clients:
            port = FIRST_CLIENT_PORT + len(self.clients) % 10000
            self.by_port.pop(port, None)
            self.clients[address], self.by_port[port] = port, address
        return frames.udp_frame(self.guest_mac, GUEST_IP, self.clients[address], frames.ECHO_PORT,
                                data[:frames.MAX_UDP_PAYLOAD])

    def run(self):
        self.say(f'{LOOPBACK}:{self.port} <-> guest {frames.ntoa(GUEST_IP)}:{frames.ECHO_PORT} (UDP), '
                 f'dgram {LOOPBACK}:{self.qemu[1]}/{self.link.getsockname()[1]}')
        while True:
            ready, _, _ = select.select([self.link, self.host], [], [], 0.5)
            if self.link in ready:
                frame, sender = self.link.recvfrom(65536)
                out = self.frame_from_guest(frame) if sender[0] == LOOPBACK else None
                if isinstance(out, bytes):
                    self.to_guest(out)
                elif out:
                    self.host.sendto(out[1], out[0])
            if self.host in ready:
                data, address = self.host.recvfrom(65536)
                self.to_guest(self.datagram_from_host(data, address))


class RelayPeer:
    """The harness's check of `make run`'s network (config run-net): the
    relay on a thread, and a host client that sends numbered lines to
    127.0.0.1:port until GOAL came back intact (then done is set)."""
    GOAL, WAIT = 20, 0.3
    good_noun = 'lines echoed through the relay'
    bad_noun = 'answers through the relay were wrong'

    def __init__(self):
        qemu_port, relay_port = free_ports()
        self.port = frames.free_udp_port()
        self.relay = Relay(self.port, qemu_port, relay_port, quiet=True)
        self.client = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.client.bind((LOOPBACK, 0))
        self.client.settimeout(self.WAIT)
        self.good = self.bad = self.sent = 0
        self.done = threading.Event()
        self.threads = [threading.Thread(target=self.relay_loop, daemon=True),
                        threading.Thread(target=self.client_loop, daemon=True)]

    def netdev_args(self, netdev_id='n0'):
        return ['-netdev', f'dgram,id={netdev_id},local.type=inet,local.host={LOOPBACK},'
                f'local.port={self.relay.qemu[1]},remote.type=inet,remote.host={LOOPBACK},'
                f'remote.port={self.relay.link.getsockname()[1]}']

    def start(self):
        for t in self.threads:
            t.start()

    def relay_loop(self):
        try:
            self.relay.run()
        except (OSError, ValueError):
            return                           # stop() closed the sockets

    def client_loop(self):
        while not self.done.is_set() and self.good < self.GOAL:
            line = f'hello warden {self.sent}\n'.encode()
            self.sent += 1
            try:
                self.client.sendto(line, (LOOPBACK, self.port))
                answer = self.client.recv(65536)
            except (socket.timeout, OSError):
                continue
            if answer == line:
                self.good += 1
            elif not answer.startswith(b'hello warden '):
                self.bad += 1
        self.done.set()

    def stop(self):
        self.done.set()
        for sock in (self.client, self.relay.link, self.relay.host):
            sock.close()

    def summary(self):
        return f'{self.good} of {self.sent} lines echoed through the relay on 127.0.0.1:{self.port}, {self.bad} wrong'


def free_ports():
    """Two UDP ports on 127.0.0.1 that nobody uses right now."""
    return [frames.free_udp_port() for _ in range(2)]


def selftest():
    """Offline checks of the relay's logic; True if all passed."""
    relay = Relay.__new__(Relay)
    relay.quiet, relay.clients, relay.by_port = True, {}, {}
    relay.guest_mac = frames.DEFAULT_GUEST_MAC
    mac = bytes.fromhex('525400123456')
    discover = (struct.pack('!BBBB4sHH', 1, 1, 6, 0, b'\x12\x34\x56\x78', 0, 0x8000) + bytes(16) + mac
                + bytes(10 + 192) + DHCP_MAGIC + bytes([53, 1, DHCPDISCOVER, 255]))
    def from_client(message):
        return frames.ethernet(frames.BROADCAST_MAC, mac, frames.ETH_IPV4,
                               frames.ipv4(bytes(4), b'\xff' * 4, frames.PROTO_UDP,
                                           frames.udp(bytes(4), b'\xff' * 4, 68, 67, message)))
    offer = frames.parse(relay.frame_from_guest(from_client(discover)))
    opts = dhcp_options(offer.payload) or {}
    request = discover[:-2] + bytes([DHCPREQUEST, 255])
    ack = frames.parse(relay.frame_from_guest(from_client(request)))
    host_frame = frames.parse(relay.datagram_from_host(b'hello', ('127.0.0.1', 4242)))
    answer = frames.ethernet(frames.PEER_MAC, mac, frames.ETH_IPV4,
                             frames.ipv4(GUEST_IP, RELAY_IP, frames.PROTO_UDP,
                                         frames.udp(GUEST_IP, RELAY_IP, 7, host_frame.sport, b'hello')))
    arp = frames.ethernet(frames.BROADCAST_MAC, mac, frames.ETH_ARP,
                          frames.arp(frames.ARP_REQUEST, mac, GUEST_IP, bytes(6), RELAY_IP))
    cases = [
        ('a DISCOVER gets an OFFER of 10.0.2.15', offer.kind == 'udp' and offer.dport == 68
         and offer.payload[16:20] == GUEST_IP and opts.get(53) == bytes([DHCPOFFER])),
        ('the OFFER has our xid, the MAC, server, mask, router, lease', offer.payload[4:8] == b'\x12\x34\x56\x78'
         and offer.payload[28:34] == mac and opts.get(54) == RELAY_IP and opts.get(1) == MASK
         and opts.get(3) == RELAY_IP and opts.get(51) == struct.pack('!I', LEASE_S)),
        ('a REQUEST gets an ACK', (dhcp_options(ack.payload) or {}).get(53) == bytes([DHCPACK])),
        ('a host datagram goes to the guest port 7', host_frame.kind == 'udp' and host_frame.dport == 7
         and host_frame.ip_dst == GUEST_IP and host_frame.payload == b'hello' and not host_frame.problem),
        ('the guest answer goes back to that host client',
         relay.frame_from_guest(answer) == (('127.0.0.1', 4242), b'hello')),
        ('ARP for 10.0.2.2 is answered', frames.parse(relay.frame_from_guest(arp)).op == frames.ARP_REPLY),
    ]
    failed = [name for name, ok in cases if not ok]
    for name in failed:
        print(f'FAIL netrelay selftest: {name}')
    print(f'netrelay selftest: {len(cases) - len(failed)} passed, {len(failed)} failed')
    return not failed


def main():
    parser = argparse.ArgumentParser(description='make run\'s host at 10.0.2.2 (127.0.0.1 only)')
    parser.add_argument('--port', type=int, default=5555)
    parser.add_argument('--qemu-port', type=int)
    parser.add_argument('--relay-port', type=int)
    parser.add_argument('--quiet', action='store_true')
    parser.add_argument('--free-ports', action='store_true')
    parser.add_argument('--selftest', action='store_true')
    args = parser.parse_args()
    if args.selftest:
        return 0 if selftest() else 1
    if args.free_ports:
        print(*free_ports())
        return 0
    if not args.qemu_port or not args.relay_port:
        parser.error('--qemu-port and --relay-port are needed')
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        Relay(args.port, args.qemu_port, args.relay_port, args.quiet).run()
    except KeyboardInterrupt:
        return 0
    except OSError as e:
        print(f'netrelay: {e}', file=sys.stderr)
        return 1
    return 0


if __name__ == '__main__':
    sys.exit(main())
