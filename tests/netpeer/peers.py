"""The peers: the host ends of the guest's network.

HostPeer (config `net`) is the far end of QEMU 7.2's `-netdev dgram`: one
raw Ethernet frame (no FCS) per UDP datagram between the guest's NIC and a
127.0.0.1 port. It is a host at PEER_IP (10.0.2.2) with PEER_MAC; the guest
is expected at GUEST_IP (10.0.2.15), its MAC learnt from its ARP traffic.
One receive thread dispatches every frame from the guest:
  * EtherType TEST_ETHERTYPE: mirrored with the MAC addresses swapped after
    checking its test pattern (counted good or bad):
      bytes 0-13   Ethernet header (destination PEER_MAC)
      bytes 14-17  b'WRDN'
      bytes 18-21  sequence number (little-endian u32)
      bytes 22-23  frame length (little-endian u16)
      bytes 24-    byte k is (seq * 7 + k) & 0xFF
  * ARP requests for 10.0.2.2 are answered; gratuitous ARPs from the guest
    (sender IP == target IP == 10.0.2.15) are counted.
  * ICMP echo requests to 10.0.2.2 are answered.
  * DHCP broadcasts (UDP 68 -> 67) are counted and never answered.
  * UDP to 10.0.2.2:CONTROL_PORT (5555) is the control protocol, ASCII
    words separated by single spaces, no terminator:
      guest: RUN <campaign> <id>    peer: ACK <campaign> <id>, and starts
                                    the campaign unless one with that id
                                    already ran or runs (the guest resends
                                    RUN until it sees ACK);
                                    NAK <campaign> <id> unknown campaign
      guest: STOP <campaign> <id>   peer: ACK STOP <id>; ends a stream
      peer:  RESULT <campaign> <id> ok|fail key=value ... [reason]
             when the campaign ends, every 300 ms (at most 30 times,
             RESULT_MAX bytes at most) until
      guest: GOT <id>
    Replies go from port 5555 to the IP, port and MAC the command came from.
  * everything else is counted by kind; frames that answer a running
    campaign go to that campaign's inbox.
Campaigns (campaigns.py) run on their own threads; the last result of each
is in HostPeer.campaigns.

HostfwdPeer (config `net-user`) sends checkable datagrams to the guest's
UDP port 7 through QEMU's user network: `hostfwd=udp:127.0.0.1:<port>-:7`
(the guest checks them; libslirp drops the guest's UDP under restrict=on,
so nothing can come back).

free_udp_port() picks the 127.0.0.1 port QEMU's end binds.
"""

import collections
import itertools
import random
import socket
import struct
import threading
import time

from .campaigns import CAMPAIGNS, describe_result
from .frames import (ARP_REQUEST, CONTROL_PORT, DEFAULT_GUEST_MAC, DHCP_CLIENT_PORT, DHCP_SERVER_PORT,
                     ECHO_PORT, GUEST_IP, HEADER, ICMP_ECHO_REQUEST, MAGIC, MAX_UDP_PAYLOAD, PEER_IP, PEER_MAC,
                     arp_reply, dhcp_type, echo_reply, is_unicast, mac_text, parse, udp_frame)

def pattern_ok(frame):
    """Whether a test frame carries its own pattern (and says its length)."""
    if len(frame) < HEADER or frame[14:18] != MAGIC:
        return False
    seq, length = struct.unpack_from('<IH', frame, 18)
    if length != len(frame):
        return False
    return all(b == ((seq * 7 + k) & 0xFF) for k, b in enumerate(frame[HEADER:]))


def free_udp_port():
    """A UDP port on 127.0.0.1 that nobody uses right now (for QEMU's end)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


class HostPeer:
    """10.0.2.2 on the guest's dgram link; see the module docstring."""
    good_noun = 'good test frames mirrored'
    bad_noun = 'test frames arrived with a wrong pattern'

    def __init__(self):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(('127.0.0.1', 0))
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]       # QEMU's remote.port
        self.qemu_port = free_udp_port()             # QEMU's local.port
        self.lock = threading.Lock()                 # the counters and runs
        self.good = self.bad = 0
        self.gratuitous_seen = self.dhcp_seen = 0
        self.kinds = collections.Counter()           # what every frame was
        self.guest_mac = DEFAULT_GUEST_MAC
        self.runs = {}                               # campaign id -> Campaign
        self.idents = itertools.count(1)
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self.run, name='host peer', daemon=True)

    def netdev_args(self, netdev_id='n0'):
        return ['-netdev', f'dgram,id={netdev_id},local.type=inet,local.host=127.0.0.1,'
                f'local.port={self.qemu_port},remote.type=inet,remote.host=127.0.0.1,'
                f'remote.port={self.port}']

    def start(self):
        self.thread.start()

    def stop(self):
        """Ends the receive thread, then every campaign (a running one fails)."""
        self.stopping.set()
        if self.thread.ident is not None:
            self.thread.join(timeout=2)
        with self.lock:
            runs = list(self.runs.values())
        for campaign in runs:
            campaign.thread.join(timeout=5)
        self.sock.close()

    def ident(self):
        """The next IPv4 identification for a packet the peer sends."""
        return next(self.idents) & 0xFFFF

    def send(self, frame):
        if not frame:   # QEMU 7.2's dgram netdev takes an empty datagram for EOF and never reads again
            raise ValueError('the peer never sends an empty frame')
        try:
            self.sock.sendto(frame, ('127.0.0.1', self.qemu_port))
        except OSError:
            with self.lock:
                self.kinds['(send failed)'] += 1

    def run(self):
        while not self.stopping.is_set():
            try:
                frame, source = self.sock.recvfrom(65536)
            except (socket.timeout, ConnectionRefusedError):
                continue
            except OSError:
                return
            if source != ('127.0.0.1', self.qemu_port):
                continue
            for reply in self.handle(frame):
                self.send(reply)

    def handle(self, frame):
        """Counts one frame from the guest: the frames to send back."""
        pkt = parse(frame)
        with self.lock:
            label, replies = self.serve(pkt)
            self.kinds[label] += 1
        return replies

    def serve(self, pkt):
        """(what pkt was, for the counters; the frames that answer it)."""
        if pkt.kind == 'test':
            return self.mirror(pkt)
        if pkt.problem:
            return self.offer(pkt, f'{pkt.kind}: {pkt.problem}'), []
        if pkt.kind == 'arp':
            return self.serve_arp(pkt)
        if pkt.kind == 'icmp' and pkt.icmp_type == ICMP_ECHO_REQUEST and pkt.ip_dst == PEER_IP:
            return 'icmp echo request to the peer', [echo_reply(pkt, self.ident())]
        if pkt.kind == 'udp' and pkt.ip_dst == PEER_IP and pkt.dport == CONTROL_PORT:
            return self.control(pkt)
        if pkt.kind == 'udp' and (pkt.sport, pkt.dport) == (DHCP_CLIENT_PORT, DHCP_SERVER_PORT):
            self.dhcp_seen += 1
            return f'dhcp {dhcp_type(pkt.payload)}', []
        return self.offer(pkt, pkt.kind), []

    def mirror(self, pkt):
        if pkt.dst != PEER_MAC or not pattern_ok(pkt.frame):
            self.bad += 1
            return 'test frame, wrong pattern', []
        self.good += 1
        return 'test frame', [pkt.src + pkt.dst + pkt.frame[12:]]

    def serve_arp(self, pkt):
        if pkt.spa == GUEST_IP and is_unicast(pkt.sha):
            self.guest_mac = pkt.sha
        if pkt.spa == pkt.tpa == GUEST_IP:
            self.gratuitous_seen += 1
            return 'arp gratuitous', []
        if pkt.op == ARP_REQUEST and pkt.tpa == PEER_IP:
            return 'arp request for the peer', [arp_reply(pkt)]
        return self.offer(pkt, f'arp {"request" if pkt.op == ARP_REQUEST else "reply"}'), []

    def offer(self, pkt, label):
        """Gives pkt to every running campaign that wants it: the counter label."""
        takers = [c for c in self.runs.values() if c.result is None and c.wants(pkt)]
        for campaign in takers:
            campaign.inbox.put(pkt)
        return 'to a campaign' if takers else label

    def control(self, pkt):
        """(label, replies) for one control datagram (see the module docstring)."""
        words = pkt.payload.decode('ascii', 'replace').split(' ')

        def reply(text):
            return udp_frame(pkt.src, pkt.ip_src, CONTROL_PORT, pkt.sport, text.encode(), self.ident())
        match words:
            case ['RUN', name, ident] if name not in CAMPAIGNS:
                return 'control RUN unknown', [reply(f'NAK {name} {ident} unknown campaign')]
            case ['RUN', name, ident]:
                if ident not in self.runs:
                    self.runs[ident] = CAMPAIGNS[name](self, ident, (pkt.src, pkt.ip_src, pkt.sport))
                    self.runs[ident].thread.start()
                return 'control RUN', [reply(f'ACK {name} {ident}')]
            case ['STOP', _, ident]:
                if ident in self.runs:
                    self.runs[ident].stop_requested.set()
                return 'control STOP', [reply(f'ACK STOP {ident}')]
            case ['GOT', ident]:
                if ident in self.runs:
                    self.runs[ident].got.set()
                return 'control GOT', []
        return 'control not understood', []

    def record(self, campaign, result):
        """A campaign's thread: its result (see campaigns)."""
        with self.lock:
            campaign.result, campaign.finished = result, time.monotonic()

    def broadcasts_seen(self):
        with self.lock:
            return self.gratuitous_seen, self.dhcp_seen

    @property
    def campaigns(self):
        """campaign name -> its last finished run: {'id', 'ok', 'keys', 'reason', 'got'}."""
        with self.lock:
            done = sorted((c for c in self.runs.values() if c.result), key=lambda c: c.finished)
        return {c.name: dict(c.result, got=c.got.is_set()) for c in done}

    def summary(self):
        """What the peer saw, in lines."""
        with self.lock:
            lines = [f'{self.good} test frames mirrored, {self.bad} with a wrong pattern; guest at '
                     f'{mac_text(self.guest_mac)}; {self.gratuitous_seen} gratuitous ARP, {self.dhcp_seen} DHCP',
                     'frames from the guest: ' + ', '.join(f'{label} {n}' for label, n in self.kinds.most_common())]
        lines += [f'campaign {name} {r["id"]}: {describe_result(r)}' for name, r in self.campaigns.items()]
        return '\n'.join(lines)


class HostfwdPeer:
    """Datagrams from a host socket to the guest's UDP port 7 through QEMU's
    user network (hostfwd from 127.0.0.1:self.port), one every SEND_GAP
    from start() until stop(): b'HFWD', the sequence number (u32
    little-endian), then byte k = (seq * 7 + k) & 0xFF, random sizes
    8..1472, so the guest can check each one (net_dhcp_and_hostfwd does).
    Answers cannot come back: libslirp drops every UDP datagram the guest
    sends under restrict=on (udp.c: `if (slirp->restricted) goto bad`,
    before the hostfwd socket is looked up), so what comes back is only
    counted (good when it is a datagram we sent)."""
    SEND_GAP = 0.02
    good_noun = 'echoes came back through hostfwd'
    bad_noun = 'datagrams came back through hostfwd with the wrong content'

    def __init__(self):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(('127.0.0.1', 0))
        self.sock.settimeout(self.SEND_GAP)
        self.port = free_udp_port()                  # QEMU's hostfwd port
        self.sent = self.good = self.bad = 0
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self.run, name='hostfwd peer', daemon=True)

    def netdev_args(self, netdev_id='n0'):
        return ['-netdev', f'user,id={netdev_id},restrict=on,hostfwd=udp:127.0.0.1:{self.port}-:{ECHO_PORT}']

    def start(self):
        self.thread.start()

    def stop(self):
        self.stopping.set()
        if self.thread.ident is not None:
            self.thread.join(timeout=2)
        self.sock.close()

    @staticmethod
    def datagram(seq, size):
        """Datagram seq of size bytes (8..1472), as the guest checks it."""
        return b'HFWD' + struct.pack('<I', seq & 0xFFFFFFFF) + bytes((seq * 7 + k) & 0xFF for k in range(size - 8))

    def run(self):
        rng, sent = random.Random(), set()
        for seq in itertools.count():
            if self.stopping.is_set():
                return
            payload = self.datagram(seq, rng.randint(8, MAX_UDP_PAYLOAD))
            try:
                self.sock.sendto(payload, ('127.0.0.1', self.port))
                self.sent += 1
                sent.add(payload)
                data = self.sock.recv(65536)
                if data in sent:
                    self.good += 1
                else:
                    self.bad += 1
            except (socket.timeout, OSError):
                pass

    def summary(self):
        return (f'{self.sent} datagrams sent through hostfwd 127.0.0.1:{self.port}; {self.good} came back, '
                f'{self.bad} with the wrong content (libslirp drops the guest\'s UDP under restrict=on)')
