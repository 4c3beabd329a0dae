"""Campaigns: the tests the guest asks the host peer for, and their results.

This module owns Campaign (one run on its own thread: it sends through the
peer, takes the guest's frames from its inbox, fills its keys and reports
a RESULT line until the guest says GOT), the two campaigns StackCampaign
('stack') and StreamCampaign ('stream'), CAMPAIGNS (name -> class), and
the result lines: result_line() (the RESULT datagram) and
describe_result() (the harness's line for a finished run).
"""

import os
import queue
import random
import struct
import threading
import time
import traceback

from .frames import (ARP_REPLY, ARP_REQUEST, BROADCAST_MAC, CONTROL_PORT, ECHO_PORT, ETH_ARP, ETH_IPV4,
                     GUEST_IP, ICMP_ECHO_REPLY, ICMP_ECHO_REQUEST, MAX_UDP_PAYLOAD, PEER_IP, PEER_MAC, PROTO_UDP,
                     arp, arp_frame, ethernet, icmp_frame, ipv4, is_unicast, mac_text, ntoa, udp, udp_frame)
from .fuzzed import FUZZ_HOSTS, fuzzed_frame
from .malformed import MALFORMED, malformed_answer, malformed_frames

RESULT_MAX = 500                 # the guest receives at most 511 bytes
RESULT_SENDS, RESULT_INTERVAL = 30, 0.3

# The campaigns' own ports and ICMP id (answers are told apart by them).
UDP_PORT = 40000                 # step 3: port UDP_PORT + k % 1000
AFTER_PORT = 41000               # step 6: port AFTER_PORT + k
STREAM_PORT = 42000              # the stream campaign
FLOOD_PORT = 43000
SPOOF_PORT = 45000               # step 5: stranger k sends from SPOOF_PORT + k
ARP_STRANGERS = 48               # step 5: ARP requests from 10.0.2.100-147 first (the guest's cache holds 32)
FUZZ_HONEST_PORT = 47000
FUZZ_BATCH, FUZZ_PAUSE = 100, 0.005  # step 6 pauses 5 ms after every 100 fuzzed frames         # step 5: the honest echo after every FUZZ_HONEST_EVERY fuzzed frames
STACK_ICMP_ID = 0x5743


def result_line(campaign, ident, ok, keys, reason=''):
    """A RESULT datagram: keys first (they must survive), then the reason,
    which never contains '=' (a key=value reader would take it for one)."""
    words = ['RESULT', campaign, ident, 'ok' if ok else 'fail'] + [f'{k}={v}' for k, v in keys.items()]
    if reason:
        words.append(' '.join(reason.replace('=', ':').split()))
    return ' '.join(words).encode('ascii', 'replace')[:RESULT_MAX]


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
      5 spoofed    ARP requests for the guest from ARP_STRANGERS strangers,
                   SPOOFED UDP echo requests from addresses of the subnet
                   nobody answers ARP for, then an honest echo; the guest
                   must not ask ARP for the peer meanwhile (neither the
                   strangers' requests nor its questions for the spoofed
                   sources may crowd the peer out of its ARP cache)
      6 fuzz       FUZZ_FRAMES seeded random mutations of ARP, ICMP, UDP,
                   fragments and other frames (fuzzed.py), 100 at a time
                   (5 ms apart), with an honest UDP echo that must come
                   back (6 tries of 1 s) after every FUZZ_HONEST_EVERY
      7 flood      FLOOD_FRAMES frames as fast as they go, replies drained
      8 after      AFTER_ECHOES UDP echoes, then ARP again
    Echoes: 1 s per try, 3 tries, a wrong answer fails at once."""
    name = 'stack'
    KEYS = ('arp', 'icmp', 'udp', 'retries', 'malformed', 'malformed_answered', 'spoofed', 'spoofed_tries', 'fuzz', 'fuzz_echoes', 'flood',
            'flood_echoes', 'after', 'gratuitous', 'dhcp_seen', 'seed', 'icmp_retries', 'after_retries', 'arp_after')
    ICMP_SIZES = (0, 1, 7, 56, 100, 500, 1000, 1400, 1472)
    UDP_ECHOES, FLOOD_FRAMES, AFTER_ECHOES, SPOOFED = 1000, 10000, 50, 200
    FUZZ_FRAMES = int(os.environ.get('NETPEER_FUZZ_FRAMES', '20000'))
    FUZZ_HONEST_EVERY = int(os.environ.get('NETPEER_FUZZ_HONEST_EVERY', '1000'))

    def __init__(self, peer, ident, reply_to):
        super().__init__(peer, ident, reply_to)
        given = os.environ.get('NETPEER_SEED')                 # replay a campaign's fuzz and sizes
        self.seed = int(given, 0) if given else random.getrandbits(32)
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
                         self.spoofed_step, self.fuzz_step, self.flood_step, self.after_step):
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

    def udp_echo(self, step, port, size, tries=3):
        """One UDP echo of size random bytes from port: the retries it took."""
        payload = self.rng.randbytes(size)
        frame = udp_frame(self.mac, GUEST_IP, port, ECHO_PORT, payload, self.peer.ident())
        answer, sends = self.exchange(frame, lambda p: p.kind == 'udp' and p.sport == ECHO_PORT and p.dport == port,
                                      tries=tries)
        if answer is None:
            raise StepFailed(f'{step}: no echo of {size} bytes from port {port} in {tries} tries of 1 s')
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

    def peer_arp_requests(self):
        """How many times the guest asked ARP for the peer so far (the peer answers those itself)."""
        with self.peer.lock:
            return self.peer.kinds['arp request for the peer']

    def spoofed_step(self):
        hosts = list(range(30, 100)) + list(range(150, 200))    # nobody; not the fuzz's or malformed.py's markers
        strangers = [bytes([10, 0, 2, hosts[k % len(hosts)]]) for k in range(self.SPOOFED)]
        asked_before = self.peer_arp_requests()
        for k in range(ARP_STRANGERS):         # more than its cache holds, each asking ARP for the guest
            sha, spa = bytes([2, 0xfe, 0, 0, 1, k]), bytes([10, 0, 2, FUZZ_HOSTS + k])
            self.send(ethernet(BROADCAST_MAC, sha, ETH_ARP, arp(ARP_REQUEST, sha, spa, bytes(6), GUEST_IP)))
        for k, src in enumerate(strangers):
            segment = udp(src, GUEST_IP, SPOOF_PORT + k, ECHO_PORT, b'SPF%d' % k)
            self.send(ethernet(self.mac, PEER_MAC, ETH_IPV4, ipv4(src, GUEST_IP, PROTO_UDP, segment)))
        payload = self.rng.randbytes(100)
        frame = udp_frame(self.mac, GUEST_IP, SPOOF_PORT + self.SPOOFED, ECHO_PORT, payload, self.peer.ident())
        answer, sends = self.exchange(frame, lambda p: p.kind == 'udp' and p.sport == ECHO_PORT and
                                      p.dport == SPOOF_PORT + self.SPOOFED)
        asked = self.peer_arp_requests() - asked_before
        if answer is None:
            raise StepFailed(f'spoofed: no echo in 3 tries of 1 s after {self.SPOOFED} datagrams from addresses '
                             'nobody answers for')
        problem = reply_problem(answer, payload)
        if problem:
            raise StepFailed(f'spoofed: the echo: {problem}')
        if asked:
            raise StepFailed(f'spoofed: the guest asked ARP for the peer {asked} time(s): the '
                             "strangers' questions crowded the peer out of its ARP cache")
        self.keys['spoofed'] = self.SPOOFED
        self.keys['spoofed_tries'] = sends

    def fuzz_step(self):
        rng = random.Random(self.seed ^ 0xF022)
        honest = 0
        for i in range(self.FUZZ_FRAMES):
            if i % 500 == 0 and self.peer.stopping.is_set():
                raise Aborted('the peer stopped (QEMU exited) during the fuzz')
            frame = fuzzed_frame(rng, self.mac, i)
            self.send(frame)
            if i % FUZZ_BATCH == FUZZ_BATCH - 1:
                time.sleep(FUZZ_PAUSE)          # fast, not line rate: the flood step is the flood
            if (i + 1) % self.FUZZ_HONEST_EVERY == 0 or i + 1 == self.FUZZ_FRAMES:
                self.keys['fuzz'] = f'{i + 1}/{self.FUZZ_FRAMES}'
                self.udp_echo(f'fuzz (after {i + 1} fuzzed frames, the last {len(frame)} bytes: {frame[:64].hex()})',
                              FUZZ_HONEST_PORT + honest % 1000, self.rng.randint(1, MAX_UDP_PAYLOAD), tries=6)
                honest += 1
                self.keys['fuzz_echoes'] = honest

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
