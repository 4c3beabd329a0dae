"""Malformed frames: what the stack campaign's step 4 sends.

This module owns the malformed frame kinds (MALFORMED, in the order they
are sent), the frames made from them (malformed_frames) and the
recognition of an answer to one (malformed_answer): frame k is made so
that a guest that took it would answer recognisably (its payload, source
port, ICMP id or ARP sender names k). put() and wrong_word() change one
field of a frame.
"""

import re
import socket
import struct

from .frames import (ARP_REQUEST, BROADCAST_MAC, ECHO_PORT, ETH_HEADER, ETH_IPV4, ETH_IPV6, GUEST_IP,
                     ICMP_ECHO_REPLY, ICMP_ECHO_REQUEST, PEER_IP, PEER_MAC, PROTO_UDP, arp_frame, ethernet,
                     icmp_frame, ipv4, udp_frame, with_ip_checksum)

MALFORMED_PORT = 44000           # malformed frame k comes from MALFORMED_PORT + k
BAD_ICMP_ID = 0xBAD0             # malformed ICMP echo k has id BAD_ICMP_ID + k
MARKER_HOST = 200                # malformed ARP k comes from 10.0.2.(200 + k)


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
