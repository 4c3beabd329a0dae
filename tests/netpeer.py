#!/usr/bin/env python3
"""The host side of Warden's network tests: a real peer outside the guest.

QEMU's `-netdev dgram` (7.2) carries one raw Ethernet frame (no FCS) per
UDP datagram between the guest's NIC and 127.0.0.1:ports on this machine;
nothing leaves it (tools/qemu_netsafety.py checks the command line). The
harness starts a peer on a thread before QEMU and asks it afterwards what
it saw, so the check does not trust the guest.

MirrorPeer answers every frame with EtherType TEST_ETHERTYPE by sending it
back with the MAC addresses swapped, after checking its test pattern:
  bytes 0-13   Ethernet header (destination PEER_MAC)
  bytes 14-17  b'WRDN'
  bytes 18-21  sequence number (little-endian u32)
  bytes 22-23  frame length (little-endian u16)
  bytes 24-    byte k is (seq * 7 + k) & 0xFF
It counts good, bad (the pattern is wrong) and other frames.

Python 3.11 standard library only.
"""

import socket
import struct
import threading

TEST_ETHERTYPE = 0x88B5          # IEEE local experimental
PEER_MAC = bytes.fromhex('020000000002')
MAGIC = b'WRDN'
HEADER = 24


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


class MirrorPeer:
    """Mirrors test frames back to the guest; see the module docstring."""

    def __init__(self):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(('127.0.0.1', 0))
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]       # QEMU's remote.port
        self.qemu_port = free_udp_port()             # QEMU's local.port
        self.good = self.bad = self.other = 0
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)

    def netdev_args(self, netdev_id='n0'):
        return ['-netdev', f'dgram,id={netdev_id},local.type=inet,local.host=127.0.0.1,'
                f'local.port={self.qemu_port},remote.type=inet,remote.host=127.0.0.1,'
                f'remote.port={self.port}']

    def start(self):
        self.thread.start()

    def handle(self, frame):
        """The reply to one frame from the guest, or None."""
        if len(frame) < 14 or struct.unpack_from('>H', frame, 12)[0] != TEST_ETHERTYPE:
            self.other += 1
            return None
        if frame[0:6] != PEER_MAC or not pattern_ok(frame):
            self.bad += 1
            return None
        self.good += 1
        return frame[6:12] + frame[0:6] + frame[12:]

    def run(self):
        while not self.stopping.is_set():
            try:
                frame, _ = self.sock.recvfrom(65536)
            except socket.timeout:
                continue
            except OSError:
                return
            reply = self.handle(frame)
            if reply is not None:
                self.sock.sendto(reply, ('127.0.0.1', self.qemu_port))

    def stop(self):
        self.stopping.set()
        self.thread.join(timeout=2)
        self.sock.close()

    def summary(self):
        return f'{self.good} test frames mirrored, {self.bad} with a wrong pattern, {self.other} other frames'


def selftest():
    """(name, ok) pairs for the harness's --selftest."""
    peer = MirrorPeer.__new__(MirrorPeer)
    peer.good = peer.bad = peer.other = 0
    guest = bytes.fromhex('525400123456')

    def frame(seq, length, corrupt=False):
        body = bytearray(((seq * 7 + k) & 0xFF) for k in range(length - HEADER))
        if corrupt:
            body[-1] ^= 1
        return (PEER_MAC + guest + struct.pack('>H', TEST_ETHERTYPE) + MAGIC +
                struct.pack('<IH', seq, length) + bytes(body))

    good = peer.handle(frame(5, 100))
    cases = [('a good frame is mirrored', good is not None and good[:6] == guest and good[6:12] == PEER_MAC
              and good[12:] == frame(5, 100)[12:]),
             ('a wrong pattern is counted bad, not mirrored', peer.handle(frame(6, 100, True)) is None),
             ('another EtherType is counted other', peer.handle(guest + PEER_MAC + b'\x08\x00' + bytes(46)) is None),
             ('a runt is counted other', peer.handle(b'\x00' * 10) is None),
             ('counts', (peer.good, peer.bad, peer.other) == (1, 1, 2))]
    return cases
