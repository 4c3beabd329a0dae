"""Fuzzed frames: what the stack campaign's step 5 (fuzz) sends.

This module owns fuzzed_frame(rng, mac, i): frame i of a seeded run, made
from a well-formed template (ARP request or reply, ICMP echo request, UDP
to the echo port or another, an IPv4 fragment, a frame of another
ethertype) by one to three mutations:
  - bytes flipped at random places (headers most of the time);
  - a field set to a random or boundary value: IPv4 version/IHL, total
    length, flags and fragment offset, TTL, protocol, header checksum,
    addresses; UDP length and checksum; ICMP type and checksum; ARP
    hardware/protocol types and sizes, operation;
  - truncated anywhere (down to one byte: QEMU 7.2's -netdev dgram takes
    an empty datagram for the end of the connection and stops receiving
    for good, so nothing could reach the guest after one), or extended
    with random bytes (oversized frames up to 9,000 bytes among them);
  - the IPv4 header grown with random options (IHL up to 15).
Fuzzed frames never use the markers the malformed step recognises answers
by (malformed.py), and come from FUZZ_PORT (UDP) or FUZZ_ICMP_ID, so an
answer to one is told apart. ARP templates speak for strangers
(10.0.2.100-149), never for the peer: an ARP packet that claims the peer's
address from another MAC is ARP spoofing, which an ARP stack takes by
design (RFC 826 merges the sender), and honest traffic to the peer would
go to the wrong MAC until the entry expires (seen: a flipped bit in the
sender MAC of a request from 10.0.2.2). An answer is allowed (a flip may leave a
frame valid); what must hold is that the guest keeps answering honest
traffic between and after them.
"""

import struct

from .frames import (ARP_REPLY, ARP_REQUEST, BROADCAST_MAC, ECHO_PORT, ETH_ARP, ETH_HEADER, ETH_IPV4, GUEST_IP,
                     ICMP_ECHO_REQUEST, PEER_IP, PEER_MAC, PROTO_UDP, arp, ethernet, icmp_frame, ipv4, udp_frame,
                     with_ip_checksum)
from .malformed import MALFORMED, MARKER_HOST

FUZZ_PORT = 46000                # UDP templates come from FUZZ_PORT + i % 1000
FUZZ_ICMP_ID = 0xF022
FUZZ_HOSTS = 100                 # ARP templates come from 10.0.2.100-149 (never the peer, 10.0.2.2)
MAX_FRAME = 9000                 # the largest (oversized) frame sent

# Offsets in the frame of the fields set_field changes: (offset, struct format).
IPV4_FIELDS = [(ETH_HEADER + 0, 'B'), (ETH_HEADER + 2, '!H'), (ETH_HEADER + 4, '!H'), (ETH_HEADER + 6, '!H'),
               (ETH_HEADER + 8, 'B'), (ETH_HEADER + 9, 'B'), (ETH_HEADER + 10, '!H'), (ETH_HEADER + 12, '!I'),
               (ETH_HEADER + 16, '!I')]
UDP_FIELDS = [(ETH_HEADER + 20 + 4, '!H'), (ETH_HEADER + 20 + 6, '!H'), (ETH_HEADER + 20 + 2, '!H')]
ICMP_FIELDS = [(ETH_HEADER + 20 + 0, 'B'), (ETH_HEADER + 20 + 1, 'B'), (ETH_HEADER + 20 + 2, '!H')]
ARP_FIELDS = [(ETH_HEADER + 0, '!H'), (ETH_HEADER + 2, '!H'), (ETH_HEADER + 4, 'B'), (ETH_HEADER + 5, 'B'),
              (ETH_HEADER + 6, '!H')]
ETHERTYPE = (12, '!H')


def template(rng, mac, i):
    """A well-formed frame to start from, and the fields worth setting."""
    kind = rng.randrange(7)
    if kind <= 1:                                   # a request or a reply from a stranger
        spa, sha = bytes([10, 0, 2, FUZZ_HOSTS + rng.randrange(50)]), b'\x02\xfe' + rng.randbytes(4)
        if kind == 0:
            return ethernet(BROADCAST_MAC, sha, ETH_ARP, arp(ARP_REQUEST, sha, spa, bytes(6), GUEST_IP)), ARP_FIELDS
        return ethernet(mac, sha, ETH_ARP, arp(ARP_REPLY, sha, spa, mac, GUEST_IP)), ARP_FIELDS
    if kind == 2:
        payload = rng.randbytes(rng.randrange(0, 200))
        return icmp_frame(mac, GUEST_IP, ICMP_ECHO_REQUEST, FUZZ_ICMP_ID, i & 0xFFFF, payload), IPV4_FIELDS + ICMP_FIELDS
    if kind == 3:
        port = ECHO_PORT if rng.random() < 0.7 else rng.randrange(1, 65536)
        payload = b'FUZ' + rng.randbytes(rng.randrange(0, 300))
        return udp_frame(mac, GUEST_IP, FUZZ_PORT + i % 1000, port, payload), IPV4_FIELDS + UDP_FIELDS
    if kind == 4:                                   # a fragment: MF set or an offset
        frag = rng.choice((0x2000, 0x2000 | rng.randrange(1, 0x2000), rng.randrange(1, 0x2000)))
        body = struct.pack('!HHHH', FUZZ_PORT + i % 1000, ECHO_PORT, 8 + 64, 0) + rng.randbytes(64)
        return ethernet(mac, PEER_MAC, ETH_IPV4, ipv4(PEER_IP, GUEST_IP, PROTO_UDP, body, ident=i & 0xFFFF,
                                                       frag=frag)), IPV4_FIELDS
    if kind == 5:                                   # another protocol over IPv4
        proto = rng.choice((2, 6, 41, 47, 50, 132, rng.randrange(256)))
        return ethernet(mac, PEER_MAC, ETH_IPV4, ipv4(PEER_IP, GUEST_IP, proto, rng.randbytes(rng.randrange(64)))), \
            IPV4_FIELDS
    ethertype = rng.choice((0x86DD, 0x8100, 0x88CC, 0x0806, 0x0800, rng.randrange(0x10000)))
    return ethernet(rng.choice((mac, BROADCAST_MAC)), PEER_MAC, ethertype, rng.randbytes(rng.randrange(0, 1500))), \
        IPV4_FIELDS


def boundary(rng, fmt):
    bits = 8 * struct.calcsize(fmt)
    return rng.choice((0, 1, (1 << bits) - 1, 1 << (bits - 1), rng.randrange(1 << bits)))


def set_field(rng, frame, fields):
    offset, fmt = rng.choice(fields + [ETHERTYPE])
    if offset + struct.calcsize(fmt) > len(frame):
        return frame
    changed = frame[:offset] + struct.pack(fmt, boundary(rng, fmt)) + frame[offset + struct.calcsize(fmt):]
    if rng.random() < 0.5 and len(changed) >= ETH_HEADER + 20 and changed[12:14] == b'\x08\x00' \
            and (changed[ETH_HEADER] & 0x0F) >= 5 and offset != ETH_HEADER + 10:
        ihl = 4 * (changed[ETH_HEADER] & 0x0F)
        if len(changed) >= ETH_HEADER + ihl:         # the header checksum right, so the field itself is judged
            changed = changed[:ETH_HEADER] + with_ip_checksum(changed[ETH_HEADER:])
    return changed


def flip(rng, frame):
    if not frame:
        return frame
    data = bytearray(frame)
    for _ in range(rng.randint(1, 8)):
        at = rng.randrange(min(len(data), 64)) if rng.random() < 0.8 else rng.randrange(len(data))
        data[at] ^= 1 << rng.randrange(8)
    return bytes(data)


def resize(rng, frame):
    if rng.random() < 0.6:
        return frame[:rng.randrange(1, len(frame) + 1)]        # never empty: see the module docstring
    target = rng.choice((1515, 1518, 1600, 4096, MAX_FRAME, len(frame) + rng.randrange(1, 64)))
    return frame + rng.randbytes(max(0, min(target, MAX_FRAME) - len(frame)))


def with_options(rng, frame):
    if len(frame) < ETH_HEADER + 20 or frame[12:14] != b'\x08\x00':
        return frame
    words = rng.randint(1, 10)
    header = bytearray(frame[ETH_HEADER:ETH_HEADER + 20])
    header[0] = 0x40 | (5 + words)
    total = struct.unpack_from('!H', header, 2)[0] + 4 * words
    struct.pack_into('!H', header, 2, total & 0xFFFF)
    packet = bytes(header) + rng.randbytes(4 * words) + frame[ETH_HEADER + 20:]
    return frame[:ETH_HEADER] + with_ip_checksum(packet)


def fuzzed_frame(rng, mac, i):
    """Frame i of the run rng draws (see the module docstring)."""
    frame, fields = template(rng, mac, i)
    for _ in range(rng.randint(1, 3)):
        what = rng.random()
        if what < 0.35:
            frame = flip(rng, frame)
        elif what < 0.7:
            frame = set_field(rng, frame, fields)
        elif what < 0.9:
            frame = resize(rng, frame)
        else:
            frame = with_options(rng, frame)
    if frame[12:14] == b'\x08\x06' and frame[ETH_HEADER + 14:ETH_HEADER + 18] == PEER_IP:
        frame = frame[:ETH_HEADER + 17] + bytes([FUZZ_HOSTS]) + frame[ETH_HEADER + 18:]    # a flip made it the peer
    # A sender among malformed.py's markers: the guest's ARP for it, or its
    # answer to it, would look like an answer to a malformed frame.
    sender = {b'\x08\x00': ETH_HEADER + 12, b'\x08\x06': ETH_HEADER + 14}.get(frame[12:14])
    if sender and len(frame) >= sender + 4 and frame[sender:sender + 3] == b'\x0a\x00\x02' \
            and MARKER_HOST <= frame[sender + 3] < MARKER_HOST + len(MALFORMED):
        frame = frame[:sender + 3] + bytes([FUZZ_HOSTS]) + frame[sender + 4:]
    return frame
