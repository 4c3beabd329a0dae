"""The host side of Warden's network tests: real peers outside the guest.

This package owns the host ends of the networks the harness gives a guest,
the frames they build and parse, and the campaigns they run. The harness
starts a peer on a thread before QEMU and asks it afterwards what it saw,
so the checks do not trust the guest. Nothing leaves this machine: every
address is 127.0.0.1 (tools/qemu_netsafety.py checks QEMU's command line).

  * HostPeer (config `net`): 10.0.2.2 at the far end of QEMU's `-netdev
    dgram`; mirrors test frames, answers ARP and pings, and runs the
    campaigns the guest asks for over UDP (peers.py has the protocol).
  * HostfwdPeer (config `net-user`): checkable datagrams to the guest's
    UDP port 7 through QEMU's user network (hostfwd, restrict=on).

Modules: frames (constants, builders, the parser), malformed (the malformed
frame kinds), campaigns (StackCampaign, StreamCampaign, result lines),
peers (HostPeer, HostfwdPeer, free_udp_port), selftest (the offline
checks). tools/netrelay.py (`make run`'s host at 10.0.2.2) uses frames.

Python 3.11 standard library only.
"""

from .campaigns import CAMPAIGNS, StackCampaign, StreamCampaign, describe_result
from .peers import HostfwdPeer, HostPeer, free_udp_port
from .selftest import selftest

__all__ = ['CAMPAIGNS', 'HostPeer', 'HostfwdPeer', 'StackCampaign', 'StreamCampaign', 'describe_result',
           'free_udp_port', 'selftest']
