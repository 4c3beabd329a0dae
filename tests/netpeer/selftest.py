"""The package's self-test: offline, no QEMU, no thread of the peer's.

This module owns selftest(), the (name, ok) pairs the harness's --selftest
counts: checksums and the parser on known frames, the malformed frames
(made, refused by a strict stack, answers recognised), and HostPeer's
dispatcher and control protocol on frames a guest would send, and the
fuzzed frames (seeded, never empty, never speaking for the peer).
"""

import random
import socket
import struct

from .campaigns import UDP_PORT, result_line
from .frames import (ARP_REPLY, ARP_REQUEST, BROADCAST_MAC, CONTROL_PORT, DEFAULT_GUEST_MAC, ETH_ARP, ETH_IPV4,
                     ETH_IPV6, ETH_MAX, GUEST_IP, HEADER, MAGIC, PEER_IP, PEER_MAC, PROTO_ICMP, PROTO_UDP,
                     TEST_ETHERTYPE, arp, checksum, ethernet, icmp_echo, icmp_frame, ipv4, parse, udp)
from .fuzzed import fuzzed_frame
from .malformed import (BAD_ICMP_ID, MALFORMED, MALFORMED_PORT, MARKER_HOST, UDP_CHECKSUM, mal_arp, mal_udp,
                        malformed_answer, malformed_frames, marker_ip, put, wrong_word)
from .peers import HostPeer

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


def fuzzed_cases():
    rng_a, rng_b = random.Random(11), random.Random(11)
    run_a = [fuzzed_frame(rng_a, DEFAULT_GUEST_MAC, i) for i in range(3000)]
    run_b = [fuzzed_frame(rng_b, DEFAULT_GUEST_MAC, i) for i in range(3000)]
    kinds = {parse(f).kind for f in run_a}
    arp_for_peer = [f for f in run_a if f[12:14] == b'\x08\x06' and f[28:32] == PEER_IP]
    markers = [f for f in run_a for at in ((26,) if f[12:14] == b'\x08\x00' else (28,) if f[12:14] == b'\x08\x06'
                                           else ())
               if len(f) >= at + 4 and f[at:at + 3] == b'\x0a\x00\x02'
               and MARKER_HOST <= f[at + 3] < MARKER_HOST + len(MALFORMED)]
    return [
        ('fuzzed: a seed draws the same frames again', run_a == run_b),
        ('fuzzed: never an empty frame (QEMU dgram would take it for EOF)', all(run_a)),
        ('fuzzed: ARP, IPv4, UDP, ICMP, runts and other ethertypes among them',
         {'arp', 'ipv4', 'udp', 'icmp', 'runt'} <= kinds),
        ('fuzzed: oversized frames among them', max(len(f) for f in run_a) > ETH_MAX),
        ('fuzzed: no ARP packet speaks for the peer', not arp_for_peer),
        ("fuzzed: no IPv4 or ARP sender is one of malformed.py's markers", not markers),
    ]


def selftest():
    """(name, ok) pairs for the harness's --selftest."""
    return checksum_cases() + malformed_cases() + fuzzed_cases() + peer_cases()
