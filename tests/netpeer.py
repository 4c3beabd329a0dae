#!/usr/bin/env python3
"""The host side of Warden's network tests: real peers outside the guest.

This file owns the host ends of the networks the harness gives a guest, the
frames they build and parse, and the campaigns they run. The harness starts
a peer on a thread before QEMU and asks it afterwards what it saw, so the
checks do not trust the guest. Nothing leaves this machine: every address
is 127.0.0.1 (tools/qemu_netsafety.py checks QEMU's command line).

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
Campaigns (StackCampaign, StreamCampaign) run on their own threads; the last
result of each is in HostPeer.campaigns.

HostfwdPeer (config `net-user`) sends checkable datagrams to the guest's
UDP port 7 through QEMU's user network: `hostfwd=udp:127.0.0.1:<port>-:7`
(the guest checks them; libslirp drops the guest's UDP under restrict=on,
so nothing can come back).

Python 3.11 standard library only.
"""

import collections
import dataclasses
import itertools
import queue
import random
import re
import socket
import struct
import threading
import time
import traceback

TEST_ETHERTYPE = 0x88B5          # IEEE local experimental
ETH_IPV4, ETH_ARP, ETH_IPV6 = 0x0800, 0x0806, 0x86DD
PROTO_ICMP, PROTO_UDP = 1, 17
ICMP_ECHO_REPLY, ICMP_ECHO_REQUEST = 0, 8
ARP_REQUEST, ARP_REPLY = 1, 2

PEER_MAC = bytes.fromhex('020000000002')
DEFAULT_GUEST_MAC = bytes.fromhex('525400123456')    # QEMU's default
BROADCAST_MAC = b'\xff' * 6
PEER_IP = socket.inet_aton('10.0.2.2')
GUEST_IP = socket.inet_aton('10.0.2.15')

ETH_HEADER, ETH_MIN, ETH_MAX = 14, 60, 1514          # without FCS
MAX_UDP_PAYLOAD = 1472                               # 1500 - 20 - 8
MAGIC = b'WRDN'
HEADER = 24

CONTROL_PORT = 5555
ECHO_PORT = 7
DHCP_CLIENT_PORT, DHCP_SERVER_PORT = 68, 67
RESULT_MAX = 500                 # the guest receives at most 511 bytes
RESULT_SENDS, RESULT_INTERVAL = 30, 0.3

# The stack campaign's own ports and markers (answers are told apart by them).
UDP_PORT = 40000                 # step 3: port UDP_PORT + k % 1000
AFTER_PORT = 41000               # step 6: port AFTER_PORT + k
STREAM_PORT = 42000              # the stream campaign
FLOOD_PORT = 43000
MALFORMED_PORT = 44000           # malformed frame k comes from MALFORMED_PORT + k
STACK_ICMP_ID = 0x5743
BAD_ICMP_ID = 0xBAD0             # malformed ICMP echo k has id BAD_ICMP_ID + k
MARKER_HOST = 200                # malformed ARP k comes from 10.0.2.(200 + k)

# --------------------------------------------------------------------------
# Building frames.
# --------------------------------------------------------------------------


def checksum(data):
    """The Internet checksum (RFC 1071) of data."""
    if len(data) % 2:
        data += b'\0'
    total = sum(struct.unpack(f'!{len(data) // 2}H', data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def ethernet(dst, src, ethertype, payload):
    """An Ethernet frame, padded to the 60-byte minimum."""
    return (dst + src + struct.pack('!H', ethertype) + payload).ljust(ETH_MIN, b'\0')


def arp(op, sha, spa, tha, tpa, htype=1, ptype=ETH_IPV4, hlen=6, plen=4):
    """An ARP packet; the length fields may lie (the layout is Ethernet/IPv4's)."""
    return struct.pack('!HHBBH6s4s6s4s', htype, ptype, hlen, plen, op, sha, spa, tha, tpa)


def with_ip_checksum(packet):
    """packet with the checksum of its 20-byte IPv4 header recomputed."""
    header = packet[:10] + b'\0\0' + packet[12:20]
    return packet[:10] + struct.pack('!H', checksum(header)) + packet[12:]


def ipv4(src, dst, proto, payload, ident=0, frag=0x4000, ttl=64):
    """An IPv4 packet with a 20-byte header; frag is the flags and fragment
    offset word (DF by default)."""
    header = struct.pack('!BBHHHBBH4s4s', 0x45, 0, 20 + len(payload), ident, frag, ttl, proto, 0, src, dst)
    return with_ip_checksum(header + payload)


def icmp_echo(icmp_type, ident, seq, payload):
    body = struct.pack('!BBHHH', icmp_type, 0, 0, ident, seq) + payload
    return body[:2] + struct.pack('!H', checksum(body)) + body[4:]


def udp_checksum(src, dst, segment):
    """The UDP checksum of segment (checksum field zero) over the IPv4
    pseudo-header; a sum of zero is sent as 0xFFFF."""
    pseudo = src + dst + struct.pack('!BBH', 0, PROTO_UDP, len(segment))
    return checksum(pseudo + segment) or 0xFFFF


def udp(src, dst, sport, dport, payload):
    segment = struct.pack('!HHHH', sport, dport, 8 + len(payload), 0) + payload
    return segment[:6] + struct.pack('!H', udp_checksum(src, dst, segment)) + segment[8:]


def udp_frame(dst_mac, dst_ip, sport, dport, payload, ident=0):
    """A UDP datagram from the peer (PEER_MAC, PEER_IP)."""
    return ethernet(dst_mac, PEER_MAC, ETH_IPV4,
                    ipv4(PEER_IP, dst_ip, PROTO_UDP, udp(PEER_IP, dst_ip, sport, dport, payload), ident))


def icmp_frame(dst_mac, dst_ip, icmp_type, icmp_id, seq, payload, ident=0):
    """An ICMP echo request or reply from the peer."""
    return ethernet(dst_mac, PEER_MAC, ETH_IPV4,
                    ipv4(PEER_IP, dst_ip, PROTO_ICMP, icmp_echo(icmp_type, icmp_id, seq, payload), ident))


def arp_frame(dst_mac, op, tha, tpa, spa=PEER_IP, **fields):
    """An ARP packet from the peer (sender PEER_MAC, spa)."""
    return ethernet(dst_mac, PEER_MAC, ETH_ARP, arp(op, PEER_MAC, spa, tha, tpa, **fields))


def arp_reply(request):
    """The peer's answer to a parsed ARP request for PEER_IP."""
    return arp_frame(request.sha, ARP_REPLY, request.sha, request.spa)


def echo_reply(request, ident=0):
    """The peer's answer to a parsed ICMP echo request."""
    return icmp_frame(request.src, request.ip_src, ICMP_ECHO_REPLY, request.icmp_id, request.icmp_seq,
                      request.payload, ident)


def result_line(campaign, ident, ok, keys, reason=''):
    """A RESULT datagram: keys first (they must survive), then the reason,
    which never contains '=' (a key=value reader would take it for one)."""
    words = ['RESULT', campaign, ident, 'ok' if ok else 'fail'] + [f'{k}={v}' for k, v in keys.items()]
    if reason:
        words.append(' '.join(reason.replace('=', ':').split()))
    return ' '.join(words).encode('ascii', 'replace')[:RESULT_MAX]


def ntoa(address):
    return socket.inet_ntoa(address) if address is not None else '?'


def mac_text(mac):
    return ':'.join(f'{b:02x}' for b in mac)


def is_unicast(mac):
    return not mac[0] & 1 and mac != bytes(6)


# --------------------------------------------------------------------------
# Parsing frames.
# --------------------------------------------------------------------------


@dataclasses.dataclass
class Packet:
    """One frame, decoded as far as it goes. kind is 'runt', 'test', 'arp',
    'ipv4', 'icmp', 'udp', 'ipv4 protocol N' or 'ethertype 0xNNNN'; problem
    says what is wrong with it ('' if nothing). Fields of layers the frame
    does not reach stay None."""
    frame: bytes
    kind: str = 'runt'
    problem: str = ''
    dst: bytes = None
    src: bytes = None
    ethertype: int = None
    op: int = None                   # ARP
    sha: bytes = None
    spa: bytes = None
    tha: bytes = None
    tpa: bytes = None
    ip_src: bytes = None             # IPv4
    ip_dst: bytes = None
    proto: int = None
    icmp_type: int = None            # ICMP echo
    icmp_id: int = None
    icmp_seq: int = None
    sport: int = None                # UDP
    dport: int = None
    payload: bytes = None            # ICMP echo data or UDP data


def flag(pkt, problem):
    """Records the first thing wrong with pkt."""
    if not pkt.problem:
        pkt.problem = problem


def parse(frame):
    pkt = Packet(frame)
    if len(frame) < ETH_HEADER:
        flag(pkt, 'runt')
        return pkt
    pkt.dst, pkt.src = frame[0:6], frame[6:12]
    pkt.ethertype = struct.unpack_from('!H', frame, 12)[0]
    body = frame[ETH_HEADER:]
    if pkt.ethertype == TEST_ETHERTYPE:
        pkt.kind = 'test'
    elif pkt.ethertype == ETH_ARP:
        parse_arp(pkt, body)
    elif pkt.ethertype == ETH_IPV4:
        parse_ipv4(pkt, body)
    else:
        pkt.kind = f'ethertype {pkt.ethertype:#06x}'
    return pkt


def parse_arp(pkt, body):
    pkt.kind = 'arp'
    if len(body) < 28:
        flag(pkt, 'short ARP')
        return
    htype, ptype, hlen, plen, pkt.op, pkt.sha, pkt.spa, pkt.tha, pkt.tpa = \
        struct.unpack_from('!HHBBH6s4s6s4s', body)
    if (htype, ptype, hlen, plen) != (1, ETH_IPV4, 6, 4):
        flag(pkt, 'ARP not Ethernet/IPv4')
    elif pkt.op not in (ARP_REQUEST, ARP_REPLY):
        flag(pkt, 'ARP op')


def parse_ipv4(pkt, body):
    pkt.kind = 'ipv4'
    if len(body) < 20:
        flag(pkt, 'short IPv4')
        return
    ver_ihl, _, total, _, frag, _, pkt.proto, _, pkt.ip_src, pkt.ip_dst = \
        struct.unpack_from('!BBHHHBBH4s4s', body)
    ihl = (ver_ihl & 15) * 4
    if ver_ihl >> 4 != 4 or ihl < 20 or ihl > len(body):
        flag(pkt, 'IPv4 version or IHL')
        return
    if not ihl <= total <= len(body):
        flag(pkt, 'IPv4 total length')
        return
    if checksum(body[:ihl]):
        flag(pkt, 'IPv4 header checksum')
    if frag & 0x3FFF:
        flag(pkt, 'IPv4 fragment')
    data = body[ihl:total]
    if pkt.proto == PROTO_ICMP:
        parse_icmp(pkt, data)
    elif pkt.proto == PROTO_UDP:
        parse_udp(pkt, data)
    else:
        pkt.kind = f'ipv4 protocol {pkt.proto}'


def parse_icmp(pkt, data):
    pkt.kind = 'icmp'
    if len(data) < 8:
        flag(pkt, 'short ICMP')
        return
    pkt.icmp_type, _, _, pkt.icmp_id, pkt.icmp_seq = struct.unpack_from('!BBHHH', data)
    pkt.payload = data[8:]
    if checksum(data):
        flag(pkt, 'ICMP checksum')


def parse_udp(pkt, data):
    pkt.kind = 'udp'
    if len(data) < 8:
        flag(pkt, 'short UDP')
        return
    pkt.sport, pkt.dport, length, sent = struct.unpack_from('!HHHH', data)
    if not 8 <= length <= len(data):
        flag(pkt, 'UDP length')
        return
    pkt.payload = data[8:length]
    pseudo = pkt.ip_src + pkt.ip_dst + struct.pack('!BBH', 0, PROTO_UDP, length)
    if sent and checksum(pseudo + data[:length]):
        flag(pkt, 'UDP checksum')


DHCP_TYPES = {1: 'discover', 3: 'request', 4: 'decline', 7: 'release', 8: 'inform'}


def dhcp_type(payload):
    """The DHCP message type (option 53) of a client's BOOTP payload."""
    if payload is None or len(payload) < 240 or payload[236:240] != b'\x63\x82\x53\x63':
        return 'not DHCP'
    i = 240
    while i + 2 < len(payload) and payload[i] != 255:     # 255: end; 0: pad
        code, length = payload[i], payload[i + 1]
        if code == 53 and length == 1:
            return DHCP_TYPES.get(payload[i + 2], f'type {payload[i + 2]}')
        i += 1 if code == 0 else 2 + length
    return 'without a type'


# --------------------------------------------------------------------------
# Malformed frames: what the stack campaign's step 4 sends.
# --------------------------------------------------------------------------


def marker_ip(k):
    return bytes([10, 0, 2, MARKER_HOST + k])


def mal_udp(k, mac, dst_ip=GUEST_IP, size=None):
    """The well-formed UDP frame that malformed frame k starts from: to port
    7 from MALFORMED_PORT + k, payload b'MAL<k>' (padded to size bytes of frame)."""
    payload = b'MAL%d' % k
    if size:
        payload = payload.ljust(size - ETH_HEADER - 28, b'.')
    return udp_frame(mac, dst_ip, MALFORMED_PORT + k, ECHO_PORT, payload)


def mal_arp(k, **fields):
    """An ARP request for 10.0.2.15 from marker_ip(k)."""
    return arp_frame(BROADCAST_MAC, fields.pop('op', ARP_REQUEST), bytes(6), GUEST_IP, spa=marker_ip(k), **fields)


def put(frame, offset, fmt, value):
    """frame with value packed (struct fmt) at offset."""
    size = struct.calcsize(fmt)
    return frame[:offset] + struct.pack(fmt, value) + frame[offset + size:]


def wrong_word(frame, offset):
    """frame with the checksum at offset replaced by a wrong, nonzero one."""
    right = struct.unpack_from('!H', frame, offset)[0]
    return put(frame, offset, '!H', 0x1234 if right != 0x1234 else 0x4321)


def ip_put(frame, offset, fmt, value):
    """frame with a field of its IPv4 header changed, the header checksum right."""
    changed = put(frame, offset, fmt, value)
    return changed[:ETH_HEADER] + with_ip_checksum(changed[ETH_HEADER:])


IP_TOTAL_LENGTH, IP_FRAG, IP_CHECKSUM = 16, 20, 24       # offsets in the frame
UDP_LENGTH, UDP_CHECKSUM, ICMP_CHECKSUM = 38, 40, 36


def ip_length(frame):
    return struct.unpack_from('!H', frame, IP_TOTAL_LENGTH)[0]


def udp_length(frame):
    return struct.unpack_from('!H', frame, UDP_LENGTH)[0]


# (kind, make(k, guest MAC) -> frame), in the order they are sent.
MALFORMED = [
    ('runt-10', lambda k, mac: mal_udp(k, mac)[:10]),
    ('runt-13', lambda k, mac: mal_udp(k, mac)[:13]),
    ('runt-20', lambda k, mac: mal_udp(k, mac)[:20]),
    ('ip-checksum', lambda k, mac: wrong_word(mal_udp(k, mac), IP_CHECKSUM)),
    ('ip-ihl-4', lambda k, mac: ip_put(mal_udp(k, mac), ETH_HEADER, 'B', 0x44)),
    ('ip-version-6', lambda k, mac: ip_put(mal_udp(k, mac), ETH_HEADER, 'B', 0x65)),
    ('ip-length-past-frame', lambda k, mac: ip_put(mal_udp(k, mac), IP_TOTAL_LENGTH, '!H',
                                                   ip_length(mal_udp(k, mac)) + 200)),
    ('ip-length-under-header', lambda k, mac: ip_put(mal_udp(k, mac), IP_TOTAL_LENGTH, '!H', 19)),
    ('fragment-more', lambda k, mac: ip_put(mal_udp(k, mac), IP_FRAG, '!H', 0x2000)),
    ('fragment-offset', lambda k, mac: ip_put(mal_udp(k, mac), IP_FRAG, '!H', 0x0001)),
    ('udp-length-under-8', lambda k, mac: put(put(mal_udp(k, mac), UDP_LENGTH, '!H', 7), UDP_CHECKSUM, '!H', 0)),
    ('udp-length-past-ip', lambda k, mac: put(put(mal_udp(k, mac), UDP_LENGTH, '!H', udp_length(mal_udp(k, mac)) + 10),
                                              UDP_CHECKSUM, '!H', 0)),
    ('udp-checksum', lambda k, mac: wrong_word(mal_udp(k, mac), UDP_CHECKSUM)),
    ('icmp-checksum', lambda k, mac: wrong_word(icmp_frame(mac, GUEST_IP, ICMP_ECHO_REQUEST, BAD_ICMP_ID + k, k,
                                                           b'MAL%d' % k), ICMP_CHECKSUM)),
    ('ip-other-destination', lambda k, mac: mal_udp(k, mac, dst_ip=socket.inet_aton('10.0.2.99'))),
    ('arp-hlen-5', lambda k, mac: mal_arp(k, hlen=5)),
    ('arp-plen-3', lambda k, mac: mal_arp(k, plen=3)),
    ('arp-htype-7', lambda k, mac: mal_arp(k, htype=7)),
    ('arp-op-9', lambda k, mac: mal_arp(k, op=9)),
    ('ethertype-0x1234', lambda k, mac: ethernet(mac, PEER_MAC, 0x1234, mal_udp(k, mac)[ETH_HEADER:])),
    ('ipv6-garbage', lambda k, mac: ethernet(mac, PEER_MAC, ETH_IPV6, b'\x60' + bytes(range(1, 80)))),
    ('oversize-1600', lambda k, mac: mal_udp(k, mac, size=1600)),
    ('oversize-4000', lambda k, mac: mal_udp(k, mac, size=4000)),
    ('udp-header-truncated', lambda k, mac: ethernet(mac, PEER_MAC, ETH_IPV4, ipv4(
        PEER_IP, GUEST_IP, PROTO_UDP, struct.pack('!HH', MALFORMED_PORT + k, ECHO_PORT)))),
]


def malformed_frames(mac):
    """(kind, frame) for every malformed frame, frame k made so that a guest
    (at mac) that accepted it would answer recognisably (malformed_answer)."""
    return [(kind, make(k, mac)) for k, (kind, make) in enumerate(MALFORMED)]


def malformed_answer(pkt):
    """The k of the malformed frame pkt (from the guest) answers, or None."""
    count = len(MALFORMED)
    found = []
    if pkt.kind == 'udp' and pkt.payload is not None:
        m = re.match(rb'MAL(\d+)', pkt.payload)
        found += [int(m[1])] if m else []
    if pkt.dport is not None:
        found.append(pkt.dport - MALFORMED_PORT)
    if pkt.icmp_type == ICMP_ECHO_REPLY:
        found.append(pkt.icmp_id - BAD_ICMP_ID)
    for address in (pkt.tpa, pkt.ip_dst):
        if address is not None and address[:3] == GUEST_IP[:3]:
            found.append(address[3] - MARKER_HOST)
    if pkt.ethertype == ETH_IPV6:
        found.append([kind for kind, _ in MALFORMED].index('ipv6-garbage'))
    return next((k for k in found if 0 <= k < count), None)


# --------------------------------------------------------------------------
# Campaigns.
# --------------------------------------------------------------------------


class Aborted(Exception):
    """The peer is stopping (QEMU exited) while a campaign runs."""


class StepFailed(Exception):
    """A step of a campaign failed; the message says which and why."""


class Campaign:
    """A test the guest asked for with RUN <name> <id>, run on its own
    thread: it sends through the peer, takes what the guest sends from its
    inbox (the frames wants() accepts), fills self.keys and reports a
    RESULT until the guest says GOT."""
    name = ''
    KEYS = ()

    def __init__(self, peer, ident, reply_to):
        self.peer, self.id = peer, ident
        self.reply_to = reply_to            # (MAC, IP, port) of the RUN
        self.keys = dict.fromkeys(self.KEYS, '-')
        self.inbox = queue.Queue()
        self.stop_requested = threading.Event()
        self.got = threading.Event()
        self.result = None                  # set once, when it ends
        self.finished = None
        self.thread = threading.Thread(target=self.run, name=f'campaign {self.name} {ident}', daemon=True)

    def wants(self, pkt):
        """Whether a frame from the guest goes to this campaign's inbox."""
        return False

    def screen(self, pkt):
        """Looks at every frame the campaign takes from its inbox."""

    def body(self):
        """Runs the campaign: (ok, reason)."""
        raise NotImplementedError

    def send(self, frame):
        self.peer.send(frame)

    def receive(self, deadline):
        """The next frame from the guest before deadline (monotonic), or None."""
        while True:
            if self.peer.stopping.is_set():
                raise Aborted('the peer stopped (QEMU exited) before the campaign ended')
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            try:
                pkt = self.inbox.get(timeout=min(left, 0.1))
            except queue.Empty:
                continue
            self.screen(pkt)
            return pkt

    def wait_for(self, is_answer, timeout):
        """The first frame within timeout seconds that is_answer(), or None."""
        deadline = time.monotonic() + timeout
        while (pkt := self.receive(deadline)) is not None:
            if is_answer(pkt):
                return pkt
        return None

    def drain(self, seconds):
        """Takes (and screens) whatever arrives for seconds."""
        self.wait_for(lambda pkt: False, seconds)

    def exchange(self, frame, is_answer, timeout=1.0, tries=3):
        """Sends frame until an answer comes: (answer or None, sends)."""
        for sends in range(1, tries + 1):
            self.send(frame)
            answer = self.wait_for(is_answer, timeout)
            if answer is not None:
                return answer, sends
        return None, tries

    def run(self):
        try:
            ok, reason = self.body()
        except Aborted as e:
            ok, reason = False, str(e)
        except Exception as e:              # a bug here: the guest still gets a RESULT
            traceback.print_exc()
            ok, reason = False, f'the peer failed: {e!r}'
        self.peer.record(self, {'id': self.id, 'ok': ok, 'keys': dict(self.keys), 'reason': reason})
        self.report(result_line(self.name, self.id, ok, self.keys, reason))

    def report(self, line):
        mac, ip, port = self.reply_to
        frame = udp_frame(mac, ip, CONTROL_PORT, port, line, self.peer.ident())
        for _ in range(RESULT_SENDS):
            if self.peer.stopping.is_set():
                return
            self.send(frame)
            if self.got.wait(RESULT_INTERVAL):
                return


def reply_problem(pkt, payload):
    """What is wrong with the guest's echo (ICMP or UDP) of payload ('' if nothing)."""
    if pkt.problem:
        return pkt.problem
    if pkt.ip_src != GUEST_IP:
        return f'it came from {ntoa(pkt.ip_src)}'
    if pkt.ip_dst != PEER_IP or pkt.dst != PEER_MAC:
        return f'it went to {ntoa(pkt.ip_dst)} at {mac_text(pkt.dst)}'
    if len(pkt.payload) != len(payload):
        return f'{len(pkt.payload)} bytes came back'
    if pkt.payload != payload:
        first = next(i for i, (a, b) in enumerate(zip(pkt.payload, payload)) if a != b)
        return f'the payload differs from byte {first}'
    return ''


def arp_reply_problem(pkt):
    """What is wrong with the guest's answer to the peer's ARP request."""
    if pkt.problem:
        return pkt.problem
    if pkt.op != ARP_REPLY:
        return f'op {pkt.op}, not a reply'
    if not is_unicast(pkt.sha):
        return f'the sender MAC {mac_text(pkt.sha)} is not unicast'
    if pkt.tha != PEER_MAC or pkt.dst != PEER_MAC:
        return f'it went to {mac_text(pkt.dst)} (target {mac_text(pkt.tha)})'
    return ''


class StackCampaign(Campaign):
    """Host-driven tests of the guest's stack, in steps; every wait times
    out and the first step that fails ends the campaign (its reason names
    the step):
      1 arp        "who has 10.0.2.15": an ARP reply with a unicast MAC,
                   used from here on
      2 icmp       echoes of ICMP_SIZES bytes: same id, seq and data
      3 udp        UDP_ECHOES datagrams of 1..1472 bytes to port 7
      4 malformed  MALFORMED frames, then 500 ms: no answer to any of them
                   (at any time during the campaign)
      5 flood      FLOOD_FRAMES frames as fast as they go, replies drained
      6 after      AFTER_ECHOES UDP echoes, then ARP again
    Echoes: 1 s per try, 3 tries, a wrong answer fails at once."""
    name = 'stack'
    KEYS = ('arp', 'icmp', 'udp', 'retries', 'malformed', 'malformed_answered', 'flood', 'flood_echoes',
            'after', 'gratuitous', 'dhcp_seen', 'seed', 'icmp_retries', 'after_retries', 'arp_after')
    ICMP_SIZES = (0, 1, 7, 56, 100, 500, 1000, 1400, 1472)
    UDP_ECHOES, FLOOD_FRAMES, AFTER_ECHOES = 1000, 10000, 50

    def __init__(self, peer, ident, reply_to):
        super().__init__(peer, ident, reply_to)
        self.seed = random.getrandbits(32)
        self.rng = random.Random(self.seed)
        self.mac = peer.guest_mac
        self.answered = []                  # 'kind (k)' of answered malformed frames
        self.flood_echoes = 0
        self.keys['seed'] = self.seed

    def wants(self, pkt):
        return not (pkt.kind == 'udp' and pkt.dport == STREAM_PORT)

    def screen(self, pkt):
        if pkt.kind == 'udp' and pkt.dport == FLOOD_PORT and (pkt.payload or b'').startswith(b'FLD'):
            self.flood_echoes += 1
        k = malformed_answer(pkt)
        if k is not None and self.keys['malformed'] != '-':
            answer = f'{MALFORMED[k][0]} ({pkt.kind}{", " + pkt.problem if pkt.problem else ""})'
            if answer not in self.answered:
                self.answered.append(answer)

    def body(self):
        try:
            for step in (self.arp_step, self.icmp_step, self.udp_step, self.malformed_step,
                         self.flood_step, self.after_step):
                step()
            if self.answered:
                raise StepFailed('malformed: answered later: ' + ', '.join(self.answered))
            ok, reason = True, ''
        except StepFailed as e:
            ok, reason = False, str(e)
        if self.keys['malformed'] != '-':
            self.keys['malformed_answered'] = len(self.answered)
        if self.keys['flood'] != '-':
            self.keys['flood_echoes'] = self.flood_echoes
        self.keys['gratuitous'], self.keys['dhcp_seen'] = self.peer.broadcasts_seen()
        return ok, reason

    def resolve(self, step):
        """The guest's MAC from its answer to "who has 10.0.2.15"."""
        request = arp_frame(BROADCAST_MAC, ARP_REQUEST, bytes(6), GUEST_IP)
        answer, _ = self.exchange(request, lambda p: p.kind == 'arp' and p.spa == GUEST_IP and p.tpa == PEER_IP
                                  and p.op != ARP_REQUEST)
        if answer is None:
            raise StepFailed(f'{step}: no ARP reply for 10.0.2.15 in 3 tries of 1 s')
        problem = arp_reply_problem(answer)
        if problem:
            raise StepFailed(f'{step}: the ARP reply: {problem}')
        return answer.sha

    def arp_step(self):
        self.mac = self.resolve('arp')
        self.keys['arp'] = 'ok'

    def icmp_step(self):
        self.keys['icmp_retries'] = 0
        for seq, size in enumerate(self.ICMP_SIZES, 1):
            self.keys['icmp'] = f'{seq - 1}/{len(self.ICMP_SIZES)}'
            payload = self.rng.randbytes(size)
            frame = icmp_frame(self.mac, GUEST_IP, ICMP_ECHO_REQUEST, STACK_ICMP_ID, seq, payload, self.peer.ident())
            answer, sends = self.exchange(frame, lambda p: p.kind == 'icmp' and p.icmp_type == ICMP_ECHO_REPLY
                                          and p.icmp_id == STACK_ICMP_ID and p.icmp_seq == seq)
            self.keys['icmp_retries'] += sends - 1
            if answer is None:
                raise StepFailed(f'icmp: no echo reply to {size} bytes (seq {seq}) in 3 tries of 1 s')
            problem = reply_problem(answer, payload)
            if problem:
                raise StepFailed(f'icmp: the echo reply to {size} bytes (seq {seq}): {problem}')
        self.keys['icmp'] = f'{len(self.ICMP_SIZES)}/{len(self.ICMP_SIZES)}'

    def udp_echo(self, step, port, size):
        """One UDP echo of size random bytes from port: the retries it took."""
        payload = self.rng.randbytes(size)
        frame = udp_frame(self.mac, GUEST_IP, port, ECHO_PORT, payload, self.peer.ident())
        answer, sends = self.exchange(frame, lambda p: p.kind == 'udp' and p.sport == ECHO_PORT and p.dport == port)
        if answer is None:
            raise StepFailed(f'{step}: no echo of {size} bytes from port {port} in 3 tries of 1 s')
        problem = reply_problem(answer, payload)
        if problem:
            raise StepFailed(f'{step}: the echo of {size} bytes from port {port}: {problem}')
        return sends - 1

    def echoes(self, step, retries, count, port_of):
        """count UDP echoes of random sizes (1 and 1472 among them), from
        port_of(k): progress in keys[step], retries in keys[retries]."""
        sizes = [1, MAX_UDP_PAYLOAD] + [self.rng.randint(1, MAX_UDP_PAYLOAD) for _ in range(count - 2)]
        self.rng.shuffle(sizes)
        self.keys[retries] = 0
        for k, size in enumerate(sizes):
            self.keys[step] = f'{k}/{count}'
            self.keys[retries] += self.udp_echo(step, port_of(k), size)
        self.keys[step] = f'{count}/{count}'

    def udp_step(self):
        self.echoes('udp', 'retries', self.UDP_ECHOES, lambda k: UDP_PORT + k % 1000)

    def malformed_step(self):
        frames = malformed_frames(self.mac)
        self.keys['malformed'] = len(frames)
        for _, frame in frames:
            self.send(frame)
        self.drain(0.5)
        if self.answered:
            raise StepFailed('malformed: the guest answered ' + ', '.join(self.answered))

    def flood_frame(self, i):
        if i % 3 == 0:
            return udp_frame(self.mac, GUEST_IP, FLOOD_PORT, ECHO_PORT, b'FLD' + struct.pack('<I', i))
        if i % 3 == 1:
            ethertype = self.rng.choice((ETH_IPV4, ETH_ARP, self.rng.getrandbits(16)))
            return ethernet(self.mac, PEER_MAC, ethertype, self.rng.randbytes(self.rng.randint(0, 1500)))
        return arp_frame(BROADCAST_MAC, ARP_REQUEST, bytes(6), bytes([10, 0, 2, self.rng.randint(1, 254)]))

    def flood_step(self):
        frames = [self.flood_frame(i) for i in range(self.FLOOD_FRAMES)]
        for i, frame in enumerate(frames):
            if i % 500 == 0 and self.peer.stopping.is_set():
                raise Aborted('the peer stopped (QEMU exited) during the flood')
            self.send(frame)
        self.keys['flood'] = len(frames)
        self.drain(1.0)
        self.keys['flood_echoes'] = self.flood_echoes

    def after_step(self):
        self.echoes('after', 'after_retries', self.AFTER_ECHOES, lambda k: AFTER_PORT + k)
        mac = self.resolve('arp after')
        if mac != self.mac:
            raise StepFailed(f'arp after: the guest is at {mac_text(mac)} now, was at {mac_text(self.mac)}')
        self.keys['arp_after'] = 'ok'


def stream_payload(seq):
    """b'STRM', seq (little-endian u32), then pattern bytes: 64..512 bytes in all."""
    size = 64 + seq * 97 % 449
    return b'STRM' + struct.pack('<I', seq) + bytes((seq + i) & 0xFF for i in range(size - 8))


class StreamCampaign(Campaign):
    """UDP datagrams to 10.0.2.15:7 one at a time (stream_payload), each
    waited for ECHO_WAIT, from RUN until STOP (or LIMIT). An echo of an
    older sequence is late, one with the wrong content bad; a sequence not
    echoed in time is lost. ok iff no bad echo, at least MIN_ECHOED good
    ones and MIN_AFTER_GAP good ones after the longest gap between two."""
    name = 'stream'
    KEYS = ('sent', 'echoed', 'lost', 'bad', 'late', 'longest_gap_ms', 'echoed_after_gap', 'ended')
    ECHO_WAIT, LIMIT = 0.040, 120.0
    MIN_ECHOED, MIN_AFTER_GAP = 200, 50

    def __init__(self, peer, ident, reply_to):
        super().__init__(peer, ident, reply_to)
        self.keys.update(dict.fromkeys(self.KEYS[:-1], 0))
        self.last_good = None
        self.longest_gap = 0.0

    def wants(self, pkt):
        return pkt.kind == 'udp' and pkt.dport == STREAM_PORT

    def body(self):
        mac, seq = self.peer.guest_mac, 0
        end = time.monotonic() + self.LIMIT
        while not self.stop_requested.is_set() and time.monotonic() < end:
            self.send(udp_frame(mac, GUEST_IP, STREAM_PORT, ECHO_PORT, stream_payload(seq), self.peer.ident()))
            self.keys['sent'] += 1
            if not self.wait_for(lambda p: self.classify(p, seq), self.ECHO_WAIT):
                self.keys['lost'] += 1
            seq += 1
        self.keys['ended'] = 'stop' if self.stop_requested.is_set() else 'time'
        self.keys['longest_gap_ms'] = round(self.longest_gap * 1000)
        return self.verdict()

    def classify(self, pkt, seq):
        """Counts one echo while seq is outstanding: whether it is seq's, right."""
        payload = pkt.payload or b''
        echo_seq = struct.unpack_from('<I', payload, 4)[0] if len(payload) >= 8 else None
        if (pkt.problem or pkt.sport != ECHO_PORT or pkt.ip_src != GUEST_IP or echo_seq is None
                or echo_seq > seq or payload != stream_payload(echo_seq)):
            self.keys['bad'] += 1
            return False
        if echo_seq < seq:
            self.keys['late'] += 1
            return False
        self.good_echo()
        return True

    def good_echo(self):
        now = time.monotonic()
        self.keys['echoed'] += 1
        if self.last_good is not None and now - self.last_good > self.longest_gap:
            self.longest_gap = now - self.last_good
            self.keys['echoed_after_gap'] = 0
        else:
            self.keys['echoed_after_gap'] += 1
        self.last_good = now

    def verdict(self):
        k = self.keys
        problems = [f'{k["bad"]} bad echoes'] if k['bad'] else []
        if k['echoed'] < self.MIN_ECHOED:
            problems.append(f'only {k["echoed"]} good echoes (at least {self.MIN_ECHOED} needed)')
        if k['echoed_after_gap'] < self.MIN_AFTER_GAP:
            problems.append(f'only {k["echoed_after_gap"]} good echoes after the longest gap '
                            f'(at least {self.MIN_AFTER_GAP} needed)')
        return not problems, 'stream: ' + '; '.join(problems) if problems else ''


CAMPAIGNS = {c.name: c for c in (StackCampaign, StreamCampaign)}


def describe_result(result):
    """One line for a campaign's result dict (HostPeer.campaigns)."""
    words = ['ok' if result['ok'] else 'fail'] + [f'{k}={v}' for k, v in result['keys'].items()]
    words += [result['reason']] if result['reason'] else []
    words += [] if result['got'] else ['(the guest never sent GOT)']
    return ' '.join(words)


# --------------------------------------------------------------------------
# The peers.
# --------------------------------------------------------------------------


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


# --------------------------------------------------------------------------
# Self-test (offline: no QEMU, no thread of the peer's).
# --------------------------------------------------------------------------

CLASSIC_HEADER = bytes.fromhex('4500 0073 0000 4000 4011 b861 c0a8 0001 c0a8 00c7')


def guest_frame(ethertype, payload, dst=PEER_MAC):
    return ethernet(dst, DEFAULT_GUEST_MAC, ethertype, payload)


def guest_udp(sport, dport, payload, dst_ip=PEER_IP, src_ip=GUEST_IP):
    return guest_frame(ETH_IPV4, ipv4(src_ip, dst_ip, PROTO_UDP, udp(src_ip, dst_ip, sport, dport, payload)))


def guest_arp(op, spa, tpa, tha=bytes(6)):
    return guest_frame(ETH_ARP, arp(op, DEFAULT_GUEST_MAC, spa, tha, tpa), dst=BROADCAST_MAC)


def test_frame(seq, length, corrupt=False):
    body = bytearray(((seq * 7 + k) & 0xFF) for k in range(length - HEADER))
    if corrupt:
        body[-1] ^= 1
    return (PEER_MAC + DEFAULT_GUEST_MAC + struct.pack('>H', TEST_ETHERTYPE) + MAGIC +
            struct.pack('<IH', seq, length) + bytes(body))


def text_of(frames):
    """The UDP payloads of the peer's frames, as text."""
    return [parse(f).payload.decode() for f in frames]


def checksum_cases():
    header = CLASSIC_HEADER[:10] + b'\0\0' + CLASSIC_HEADER[12:]
    built = ipv4(socket.inet_aton('192.168.0.1'), socket.inet_aton('192.168.0.199'), PROTO_UDP, bytes(0x73 - 20))
    segment = udp(PEER_IP, GUEST_IP, 40000, 7, b'hi')
    # The sum with a zero payload word is 0xFFFF - its checksum; the payload
    # word that tops it up to 0xFFFF makes the checksum zero, sent as 0xFFFF.
    partial = 0xFFFF - struct.unpack('!H', udp(PEER_IP, GUEST_IP, 1, 2, b'\0\0')[6:8])[0]
    zero_sum = udp(PEER_IP, GUEST_IP, 1, 2, struct.pack('!H', 0xFFFF - partial))
    good = parse(guest_udp(5000, 5555, b'RUN x 1'))
    bad = parse(wrong_word(guest_udp(5000, 5555, b'RUN x 1'), UDP_CHECKSUM))
    unchecked = parse(put(guest_udp(5000, 5555, b'RUN x 1'), UDP_CHECKSUM, '!H', 0))
    return [
        ('IPv4 checksum of the classic header is 0xb861', checksum(header) == 0xB861
         and checksum(CLASSIC_HEADER) == 0),
        ('ipv4() builds the classic header', built[:20] == CLASSIC_HEADER),
        ('UDP checksum over the pseudo-header (worked by hand: 0xe318)', segment[6:8] == b'\xe3\x18'),
        ('a UDP checksum that sums to zero is sent as 0xFFFF', zero_sum[6:8] == b'\xff\xff'),
        ('parse: a good UDP datagram', (good.kind, good.problem, good.sport, good.dport, good.payload)
         == ('udp', '', 5000, 5555, b'RUN x 1')),
        ('parse: a wrong UDP checksum is caught', bad.problem == 'UDP checksum'),
        ('parse: a zero UDP checksum is no checksum', unchecked.problem == ''),
    ]


def malformed_cases():
    frames = malformed_frames(DEFAULT_GUEST_MAC)
    sizes = dict((kind, len(frame)) for kind, frame in frames)

    def guest_would_take(frame):
        pkt = parse(frame)
        to_guest = GUEST_IP in (pkt.tpa, pkt.ip_dst)
        return not pkt.problem and len(frame) <= ETH_MAX and pkt.kind in ('arp', 'icmp', 'udp') and to_guest

    def answer(frame):
        return malformed_answer(parse(frame))
    index = {kind: k for k, (kind, _) in enumerate(MALFORMED)}
    echo = ethernet(PEER_MAC, DEFAULT_GUEST_MAC, ETH_IPV4,
                    ipv4(GUEST_IP, PEER_IP, PROTO_UDP, udp(GUEST_IP, PEER_IP, 7, 40001, b'MAL5')))
    return [
        ('malformed: every kind is made', [kind for kind, _ in frames] == [kind for kind, _ in MALFORMED]
         and len(frames) >= 20),
        ('malformed: runts of 10, 13, 20 bytes; oversize of 1600, 4000',
         [sizes[k] for k in ('runt-10', 'runt-13', 'runt-20', 'oversize-1600', 'oversize-4000')]
         == [10, 13, 20, 1600, 4000]),
        ('malformed: a strict stack takes none of them', not any(guest_would_take(f) for _, f in frames)),
        ('malformed: their well-formed originals it would take',
         guest_would_take(mal_udp(3, DEFAULT_GUEST_MAC)) and guest_would_take(mal_arp(15))),
        ('malformed: answers are recognised (payload, port, ICMP id, ARP target, IPv6)',
         answer(echo) == 5 and answer(guest_udp(7, MALFORMED_PORT + 11, b'')) == 11
         and answer(icmp_frame(PEER_MAC, PEER_IP, 0, BAD_ICMP_ID + 13, 0, b'')) == 13
         and answer(guest_arp(ARP_REPLY, GUEST_IP, marker_ip(16))) == 16
         and answer(guest_frame(ETH_IPV6, bytes(40))) == index['ipv6-garbage']),
        ('malformed: ordinary echoes are not answers',
         answer(guest_udp(7, UDP_PORT + 1, b'MAX1')) is None
         and answer(guest_arp(ARP_REPLY, GUEST_IP, PEER_IP)) is None),
    ]


def peer_cases():
    """The dispatcher on frames a guest would send (its sockets bound, no thread)."""
    peer = HostPeer()
    try:
        request = guest_arp(ARP_REQUEST, GUEST_IP, PEER_IP)
        arp_answer = peer.handle(request)
        ping = guest_frame(ETH_IPV4, ipv4(GUEST_IP, PEER_IP, PROTO_ICMP, icmp_echo(8, 0x1234, 9, b'ping!')))
        pong = [parse(f) for f in peer.handle(ping)]
        mirrored = peer.handle(test_frame(5, 100))
        cases = [
            ('mirror: a good frame is mirrored', mirrored == [DEFAULT_GUEST_MAC + PEER_MAC + test_frame(5, 100)[12:]]),
            ('mirror: a wrong pattern is counted bad, not mirrored', peer.handle(test_frame(6, 100, True)) == []),
            ('mirror: a runt gets nothing', peer.handle(b'\0' * 10) == []),
            ('mirror: counts', (peer.good, peer.bad) == (1, 1)),
            ('ARP reply built for a request', arp_answer == [bytes.fromhex(
                '525400123456 020000000002 0806 0001 0800 06 04 0002 020000000002 0a000202 525400123456 0a00020f')
                + bytes(18)]),
            ('ICMP echo to 10.0.2.2 answered', len(pong) == 1 and pong[0].problem == '' and
             (pong[0].icmp_type, pong[0].icmp_id, pong[0].icmp_seq, pong[0].payload, pong[0].ip_src,
              pong[0].dst) == (0, 0x1234, 9, b'ping!', PEER_IP, DEFAULT_GUEST_MAC)),
            ('ARP for another host not answered', peer.handle(guest_arp(ARP_REQUEST, GUEST_IP,
                                                                        socket.inet_aton('10.0.2.77'))) == []),
            ('a gratuitous ARP is counted, not answered',
             peer.handle(guest_arp(ARP_REQUEST, GUEST_IP, GUEST_IP)) == [] and peer.gratuitous_seen == 1),
        ]
        dhcp = bytes(236) + b'\x63\x82\x53\x63' + bytes([53, 1, 1, 255])
        broadcast = socket.inet_aton('255.255.255.255')
        cases.append(('DHCP discover counted, never answered',
                      peer.handle(guest_udp(68, 67, dhcp, broadcast, bytes(4))) == [] and peer.dhcp_seen == 1
                      and peer.kinds['dhcp discover'] == 1))
        cases += control_cases(peer)
    finally:
        peer.stop()
    stream = peer.campaigns.get('stream', {})
    cases.append(('a campaign running when the peer stops fails, saying so',
                  stream.get('ok') is False and 'peer stopped' in stream.get('reason', '')))
    return cases


def control_cases(peer):
    def control(text):
        return text_of(peer.handle(guest_udp(5000, CONTROL_PORT, text.encode())))
    first = control('RUN stream 7'), peer.runs.get('7')
    again = control('RUN stream 7'), peer.runs.get('7')
    return [
        ('control: RUN is ACKed and starts once', first[0] == again[0] == ['ACK stream 7']
         and first[1] is not None and again[1] is first[1] and list(peer.runs) == ['7']),
        ('control: RUN of an unknown campaign is refused', control('RUN bogus 8') == ['NAK bogus 8 unknown campaign']
         and '8' not in peer.runs),
        ('control: STOP is ACKed', control('STOP stream 9') == ['ACK STOP 9']),
        ('control: GOT and nonsense get nothing', control('GOT 7') == [] and control('RUN  stack 1') == []
         and first[1] is not None and first[1].got.is_set()),
        ('RESULT line: keys, then the reason without =',
         result_line('stack', '7', False, {'arp': 'ok', 'icmp': '3/9'}, 'icmp: a = b\n c')
         == b'RESULT stack 7 fail arp=ok icmp=3/9 icmp: a : b c'),
    ]


def selftest():
    """(name, ok) pairs for the harness's --selftest."""
    return checksum_cases() + malformed_cases() + peer_cases()
