"""Frames on the guest's link: the constants, building and parsing.

This module owns the addresses, MACs, EtherTypes and ports of the test
network (the peer is PEER_IP 10.0.2.2 at PEER_MAC, the guest GUEST_IP
10.0.2.15), the Internet checksum, the builders of Ethernet, ARP, IPv4,
ICMP echo and UDP (whole frames from the peer: udp_frame, icmp_frame,
arp_frame and the answers arp_reply, echo_reply), and parse(), which
decodes one frame into a Packet and says what is wrong with it.
Test frames (EtherType TEST_ETHERTYPE) start with MAGIC; HEADER is the
length of their header (peers.py checks their pattern).
"""

import dataclasses
import socket
import struct

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
