#!/usr/bin/env python3
"""Warden boot-test harness: runs on the host, boots the test ISO in QEMU.

This file owns:
  * CONFIGS     - the table of QEMU configurations the test ISO is booted
                  under (machine size, devices, kernel command line) and what
                  each run must print / how it must exit.  Add a config by
                  appending a dict; see the key list above the table.
  * judge()     - a pure function that turns one run's log + exit status into
                  a list of failure reasons (empty list = pass).
  * the runner  - starts QEMU, enforces total and no-output timeouts, saves
                  each log to <logdir>/<config>.log, prints one block per
                  config (configs run in parallel, blocks never interleave).
                  For a config with a 'disk' it writes the image first and
                  checks what the guest wrote after (tests/disk_pattern.py);
                  for one with a 'peer' it runs the host side of the network
                  tests on 127.0.0.1 (tests/netpeer/: the peer on a dgram
                  link with its campaigns, or the peer through user-mode
                  networking's hostfwd) and checks what it saw.
  * --unit      - runs the host unit-test binary and adds its counts.
  * --selftest  - table-driven checks of judge() on synthetic logs, of the
                  network safety of every command line, of the disk
                  plumbing (command line, image check) and of the shell's
                  console driver (tests/shellconsole_selftest.py) without
                  QEMU.

The last line printed is always exactly "N passed, M failed".  Exit status is
0 only if nothing failed and at least one thing passed.

Usage:
  python3 tests/harness.py --iso build/warden-test.iso [--unit PATH]
      [--selftest] [--jobs N] [--only NAME ...] [--list]
      [--logdir build/test-logs] [--qemu qemu-system-x86_64]

Environment:
  QEMU_EXTRA            extra QEMU arguments (shell-split), added to every run
  HARNESS_TIMEOUT       total seconds per QEMU run (default 120)
  HARNESS_IDLE_TIMEOUT  seconds without output before giving up (default 30)
  HARNESS_BLKSEED       disk seed for configs with a 'disk' (default random;
                        each such run prints the seed to replay it)

Python 3.11 standard library only.
"""

import argparse
import concurrent.futures
import os
import random
import re
import selectors
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import types
from dataclasses import dataclass, field

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                '..', 'tools'))
from qemu_netsafety import network_problems  # noqa: E402
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import disk_pattern  # noqa: E402
import netpeer  # noqa: E402
import soak_trace  # noqa: E402
import netrelay  # noqa: E402  (tools/: make run's host side)
import shell_scenarios  # noqa: E402
import shellconsole  # noqa: E402

# --------------------------------------------------------------------------
# Exit-code contract.  The guest writes a value to isa-debug-exit (port 0xf4);
# QEMU then exits with status (value << 1) | 1.
# --------------------------------------------------------------------------

EXIT_PASS = 33          # all tests passed
EXIT_TESTS_FAILED = 35  # tests ran and some failed
EXIT_PANIC = 37         # kernel panic / unhandled exception
EXIT_NO_CPU = 39        # CPU unsupported (no long mode / missing feature)

EXIT_MEANINGS = {
    EXIT_PASS: 'pass',
    EXIT_TESTS_FAILED: 'some tests failed',
    EXIT_PANIC: 'kernel panic',
    EXIT_NO_CPU: 'CPU unsupported',
    0: 'QEMU exited normally: with -no-reboot that usually means a '
       'triple fault',
    1: 'QEMU error, or the guest wrote 0 to isa-debug-exit',
}

DEFAULT_TIMEOUT = 120.0       # seconds, whole run
DEFAULT_IDLE_TIMEOUT = 30.0   # seconds without output
UNIT_TIMEOUT = 120.0
TAIL_LINES = 40

# --------------------------------------------------------------------------
# Configurations.  Keys:
#   name         unique name (used by --only and for the log file name)
#   desc         one line for --list
#   args         QEMU arguments appended after the base arguments
#   cmdline      optional kernel command line, passed via fw_cfg
#                (opt/warden/cmdline)
#   ktap         True (default): the log must contain a complete, passing
#                KTAP report followed by "warden-test: PASS"
#   exit         expected QEMU exit status (default 33 = pass)
#   expect       regexes (re.MULTILINE) that must match the cleaned log
#   reject       regexes that must NOT match the cleaned log
#   require_ok   KTAP test names that must be "ok" and not skipped
#   expect_skip  KTAP test names that must be "ok ... # SKIP"
#   disk         optional NVMe disk the host prepares and checks, a dict:
#                  size_mib         image size; the runner writes it with
#                                   tests/disk_pattern.py's pattern for a
#                                   fresh random seed (or HARNESS_BLKSEED)
#                  seed_flag        the seed reaches the guest as
#                                   "<seed_flag>=<seed>" (decimal) added
#                                   to the fw_cfg command line (default
#                                   'blkseed')
#                  check_range_mib  optional (start, end) in MiB: after
#                                   QEMU exits this range must hold the
#                                   pattern for seed ^ write_seed_xor
#                  write_seed_xor   required with check_range_mib
#                  device           QEMU args attaching drive nvm0
#                                   (default DISK_DEVICE)
#                The image is <logdir>/<config>-disk.img, deleted after a
#                passing run.
#   peer         optional host peer on 127.0.0.1 (tests/netpeer/), a PEERS
#                key: 'host' (HostPeer, on -netdev dgram) or 'hostfwd'
#                (HostfwdPeer, on -netdev user with hostfwd); the NIC is the
#                config's 'nic' device (default NET_DEVICE) on its netdev n0
#   peer_min_good    the peer's good count must reach this (test frames
#                mirrored, or echoes through hostfwd); its bad count is 0
#   peer_campaigns   HostPeer campaigns that must have finished with ok
#   console      True: the serial port is a unix socket the harness drives
#                as a user would (tests/shellconsole.py): it waits for the
#                shell's prompt and plays tests/shell_scenarios.py's
#                SCENARIOS, each command with its own timeout; QEMU's
#                vtd_dmar_fault trace and the disk image are checked after
# --------------------------------------------------------------------------

IOMMU = ['-device', 'intel-iommu,intremap=on', '-device', 'edu']
# edu with a 64-bit DMA mask (its default is 28 bits): hostile_driver_escapes
# aims its writes at the interrupt window and beyond the IOMMU's address width.
EDU_WIDE = 'edu,dma_mask=0xffffffffffffffff'
# q35's e1000e (for the MSI-X test), on user-mode networking that cannot
# reach the real network (DESIGN.md §12): the guest drives no traffic.
E1000E_RESTRICTED = ['-netdev', 'user,id=n0,restrict=on',
                     '-device', 'e1000e,netdev=n0']

DISK_DEVICE = ['-device', 'nvme,serial=warden0,drive=nvm0']
# The e1000e of a config with a 'peer', on the peer's netdev n0 (no option ROM).
NET_DEVICE = 'e1000e,netdev=n0,romfile=,mac=52:54:00:12:34:56'
E1000E_READY = r'e1000e: 00:0[0-9a-f]\.0 ready: MAC 52:54:00:12:34:56, link up, .*interrupts: MSI-X'


def checked_disk(device=None):
    """The NVMe disk nvme_blk_integrity expects: 64 MiB of the host's pattern,
    [32, 48) MiB checked afterwards for the pattern of seed ^ 0xFFFF."""
    disk = {'size_mib': 64, 'check_range_mib': (32, 48), 'write_seed_xor': 0xFFFF}
    if device:
        disk['device'] = device
    return disk


# The normal boot is up when both of make run's drivers say they are ready.
BOTH_DRIVERS_READY = r'(?s)(?=.*^edu: [^\n]* ready: )(?=.*^nvme: [^\n]* ready: )'

CONFIGS = [
    {
        'name': 'default',
        'desc': '512 MiB, Intel IOMMU + edu device (64-bit DMA mask); full test suite',
        'args': ['-m', '512M', '-device', 'intel-iommu,intremap=on', '-device', EDU_WIDE] + E1000E_RESTRICTED,
        'require_ok': ['iommu_translation_on', 'dma_roundtrip', 'dma_unmapped_iova_blocked',
                       'dma_readonly_blocked', 'dma_after_unmap_faults', 'dma_after_detach_faults',
                       'device_ownership', 'dma_fault_flood_quiesces',
                       'irq_msi_message', 'irq_coalesces', 'irq_ack_semantics', 'irq_pending_before_bind',
                       'irq_dma_done', 'irq_intx', 'irq_rights_and_errors', 'irq_owner_death_unhooks',
                       'irq_msix', 'kernel.isa_serial_irq',
                       'supervisor_restarts_driver', 'supervisor_gives_up_crash_loop',
                       'supervisor_cycles_no_leak', 'supervisor_refuses_bad_requests',
                       'revoke_kill_mid_dma', 'revoke_old_iova_faults', 'revoke_frames_after_flush',
                       'revoke_every_death_cause', 'revoke_live_device_cap', 'revoke_live_unmaps_bars',
                       'revoke_flooding_owner', 'ipc_endpoint_closes_with_last_receiver',
                       'notify_coalesces', 'notify_signal_never_blocks', 'notify_badges_select_bits',
                       'notify_wakes_other_process', 'notify_bound_to_endpoint', 'notify_bound_with_irq',
                       'notify_rights_and_errors', 'notify_dead_waiters', 'ipc_signal_recv',
                       'cap_watch_fires_on_revoke_not_delete', 'cap_watch_endpoint_closes',
                       'cap_watch_replace_and_remove', 'cap_watch_errors',
                       'cap_watch_process_and_holder_death', 'notify_revoked_waiter_wakes_dead',
                       'ipc_revoked_receiver_wakes_dead',
                       'lease_rights_and_errors', 'lease_ends_its_mappings', 'lease_revoke_under_dma',
                       'lease_client_death_ends_it', 'lease_large_region_2m_pages',
                       'ring_signal_race_processes', 'datapath_edu_roundtrip', 'datapath_lease_rights',
                       'datapath_revoke_mid_transfer', 'datapath_hostile_client',
                       'datapath_refuses_bad_sessions', 'datapath_unbadged_signal', 'datapath_reopen_keeps_order',
                       'hostile_driver_escapes'],
        'expect': [r'IOMMU: \d+ remapping unit', r'IOMMU: vtd0 at 0x[0-9a-f]+ ACTIVE: translation on',
                   r'interrupt remapping on \(256 entries, requester-checked, compatibility format blocked\)'],
    },
    {
        'name': 'mem48m',
        'desc': 'the smallest machine the README claims: 48 MiB, Intel IOMMU + edu device '
                '(the runner gives each test a 24 MiB pool; the leak check keeps it available)',
        'args': ['-m', '48M'] + IOMMU,
        'require_ok': ['dma_roundtrip', 'revoke_live_unmaps_bars', 'supervisor_cycles_no_leak',
                       'lease_large_region_2m_pages', 'datapath_edu_roundtrip', 'datapath_unbadged_signal'],
    },
    {
        'name': 'mem6g',
        'desc': '6 GiB, so physical memory exists above 4 GiB',
        'args': ['-m', '6G'] + IOMMU,
        'require_ok': ['kernel.frames_above_4g', 'syscall_fuzzer', 'ipc_call_reply_words', 'dma_roundtrip'],
        'expect': [r'above 4 GiB: [1-9]\d* MiB'],
    },
    {
        'name': 'smp2',
        'desc': 'two CPUs; the MADT must report both',
        'args': ['-m', '512M', '-smp', '2'] + IOMMU,
        'expect': [r'MADT: 2 CPUs'],
    },
    {
        'name': 'caching-mode',
        'desc': 'IOMMU with caching mode: the kernel must invalidate after map too',
        'args': ['-m', '512M', '-device', 'intel-iommu,intremap=on,caching-mode=on', '-device', 'edu'],
        'expect': [r'caching mode on'],
        'require_ok': ['dma_roundtrip', 'dma_after_unmap_faults', 'iommu_translation_on', 'irq_msi_message'],
    },
    {
        'name': 'aw48',
        'desc': 'IOMMU with 48-bit address width: 4-level I/O page tables',
        'args': ['-m', '512M', '-device', 'intel-iommu,intremap=on,aw-bits=48', '-device', EDU_WIDE],
        'expect': [r'4-level tables \(48-bit IOVA\)'],
        'require_ok': ['dma_roundtrip', 'dma_map_errors', 'iommu_translation_on', 'hostile_driver_escapes'],
    },
    {
        'name': 'bridge',
        'desc': 'edu behind pcie-root-port + pcie-pci-bridge: requester ID is the bridge alias',
        'args': ['-m', '512M', '-device', 'intel-iommu,intremap=on',
                 '-device', 'pcie-root-port,id=rp1,bus=pcie.0,chassis=1',
                 '-device', 'pcie-pci-bridge,id=br1,bus=rp1',
                 '-device', EDU_WIDE + ',bus=br1,addr=1'],
        'expect': [r'pci: 02:01\.0 1234:11e8 .*requester 02:00\.0 \(bridge alias\)'],
        'require_ok': ['dma_roundtrip', 'dma_unmapped_iova_blocked', 'dma_after_detach_faults',
                       'device_config_mediation', 'irq_msi_message', 'irq_intx',
                       'supervisor_restarts_driver', 'hostile_driver_escapes'],
    },
    {
        'name': 'no-intremap',
        'desc': 'IOMMU translating DMA but not remapping interrupts: MSI refused, edu driver falls back to INTx',
        'args': ['-m', '512M', '-device', 'intel-iommu,intremap=off', '-device', EDU_WIDE],
        'expect': [r'interrupt remapping off', r'interrupts: INTx \(MSI: E_NO_IOMMU\)'],
        'expect_skip': ['irq_msi_message', 'irq_owner_death_unhooks'],
        'require_ok': ['dma_roundtrip', 'irq_intx', 'edu_driver_serves', 'kernel.isa_serial_irq',
                       'supervisor_restarts_driver', 'hostile_driver_escapes'],
    },
    {
        'name': 'no-iommu',
        'desc': 'no intel-iommu device; IOMMU tests must skip, not fail',
        'args': ['-m', '512M', '-device', 'edu'],
        'expect': [r'no IOMMU'],
        'expect_skip': ['kernel.iommu_units', 'iommu_translation_on', 'dma_map_errors', 'irq_msi_message',
                        'supervisor_restarts_driver', 'lease_revoke_under_dma', 'datapath_edu_roundtrip'],
        'require_ok': ['irq_intx', 'kernel.isa_serial_irq'],       # legacy lines work without remapping
    },
    {
        'name': 'nvme',
        'desc': 'an NVMe disk the host filled with a seeded pattern: the block service reads and '
                'checks 16 MiB, writes [32, 48) MiB, and the host checks the image afterwards',
        'args': ['-m', '512M'] + IOMMU,
        'disk': checked_disk(),
        'require_ok': ['nvme_blk_integrity', 'nvme_blk_roundtrip_and_errors', 'nvme_blk_partitions_isolated',
                       'nvme_blk_zeroes_and_deallocate', 'nvme_blk_queue_depth', 'nvme_blk_hostile_ring',
                       'nvme_client_dies_in_flight', 'nvme_revoke_resets_controller', 'nvme_driver_crash_mid_io',
                       'nvme_supervised_restart', 'nvme_intx_fallback', 'datapath_edu_roundtrip',
                       'nvme_queues_per_session', 'nvme_controller_fatal_recovered',
                       'nvme_command_timeout_recovered', 'nvme_device_revoked_fails_fast'],
        # The driver's own reading of CSTS after the injected fault: exactly CFS (facts sheet §0.3).
        'expect': [r'nvme: the controller reports a fatal status \(CSTS 0x2\): resetting the controller',
                   r'nvme: a command took longer than 400 ms \(CSTS 0x1\): resetting the controller',
                   r'nvme: 00:03\.0 ready: .* 8 I/O queue pair\(s\), interrupts: MSI-X \(9 vector\(s\)\)'],
    },
    {
        'name': 'nvme-one-queue',
        'desc': 'the NVMe controller with max_ioqpairs=1: every session shares I/O queue pair 1',
        'args': ['-m', '512M'] + IOMMU,
        'disk': checked_disk(['-device', 'nvme,serial=warden3,drive=nvm0,max_ioqpairs=1']),
        'expect': [r'nvme: 00:03\.0 ready: .* 1 I/O queue pair\(s\), interrupts: MSI-X \(2 vector\(s\)\)'],
        'require_ok': ['nvme_blk_integrity', 'nvme_blk_roundtrip_and_errors', 'nvme_blk_queue_depth',
                       'nvme_queues_per_session', 'nvme_controller_fatal_recovered', 'nvme_driver_crash_mid_io'],
    },
    {
        'name': 'nvme-msix2',
        'desc': 'the NVMe controller with msix_qsize=2: the admin queue on MSI-X entry 0, all 8 I/O '
                'completion queues sharing entry 1',
        'args': ['-m', '512M'] + IOMMU,
        'disk': checked_disk(['-device', 'nvme,serial=warden4,drive=nvm0,msix_qsize=2']),
        'expect': [r'nvme: 00:03\.0 ready: .* 8 I/O queue pair\(s\), interrupts: MSI-X \(2 vector\(s\)\)'],
        'require_ok': ['nvme_blk_integrity', 'nvme_blk_queue_depth', 'nvme_queues_per_session',
                       'nvme_controller_fatal_recovered', 'nvme_command_timeout_recovered',
                       'nvme_client_dies_in_flight'],
    },
    {
        'name': 'nvme-4k-mdts1',
        'desc': 'the NVMe disk with 4 KiB logical blocks and mdts=1 (8 KiB per command: every '
                'request split)',
        'args': ['-m', '512M'] + IOMMU,
        'disk': checked_disk(['-device', 'nvme,serial=warden1,drive=nvm0,mdts=1,'
                              'logical_block_size=4096,physical_block_size=4096']),
        'require_ok': ['nvme_blk_integrity', 'nvme_blk_roundtrip_and_errors', 'nvme_blk_partitions_isolated',
                       'nvme_blk_zeroes_and_deallocate', 'nvme_blk_queue_depth', 'nvme_blk_hostile_ring',
                       'nvme_client_dies_in_flight', 'nvme_driver_crash_mid_io', 'nvme_queues_per_session',
                       'nvme_controller_fatal_recovered'],
    },
    {
        'name': 'nvme-root-port',
        'desc': 'the NVMe controller behind a PCIe root port (its own bus, requester ID 01:00.0)',
        'args': ['-m', '512M'] + IOMMU + ['-device', 'pcie-root-port,id=rp1,bus=pcie.0,chassis=1'],
        'disk': checked_disk(['-device', 'nvme,serial=warden2,drive=nvm0,bus=rp1']),
        'expect': [r'nvme: 01:00\.0 ready: '],
        'require_ok': ['nvme_blk_integrity', 'nvme_blk_roundtrip_and_errors', 'nvme_blk_queue_depth',
                       'nvme_revoke_resets_controller', 'nvme_driver_crash_mid_io', 'nvme_controller_fatal_recovered'],
    },
    {
        'name': 'net',
        'desc': 'an e1000e on -netdev dgram to a host peer at 10.0.2.2 on 127.0.0.1: it mirrors test '
                'frames (checked on the host, the mirrored ones in the guest), answers ARP and ping, '
                'and runs the stack and stream campaigns the guest asks for',
        'args': ['-m', '512M'] + IOMMU,
        'peer': 'host',
        'cmdline': 'netpeer=host',
        'peer_min_good': 1000,
        'peer_campaigns': ['stack', 'stream'],
        'expect': [E1000E_READY],
        'require_ok': ['net_frames_mirrored', 'net_hostile_requests', 'net_killed_under_traffic',
                       'net_interrupt_fallbacks', 'net_stack_host_driven', 'net_udp_stream_driver_killed',
                       'net_port_grants', 'net_arp_expiry'],
    },
    {
        'name': 'net-user',
        'desc': 'an e1000e on QEMU\'s user-mode network (restrict=on): the guest takes its address '
                'by DHCP, pings slirp and receives (and checks) a host socket\'s datagrams through hostfwd '
                'on 127.0.0.1 (answers cannot come back: libslirp drops guest UDP under restrict=on)',
        'args': ['-m', '512M'] + IOMMU,
        'peer': 'hostfwd',
        'cmdline': 'netpeer=user',
        'expect': [E1000E_READY],
        'require_ok': ['net_dhcp_and_hostfwd'],
    },
    {
        'name': 'soak',
        'desc': 'driver crash/restart cycles under load (make soak runs 1,000): edu, the NVMe driver and the e1000e '
                'driver each serve a client, one is killed mid-I/O every cycle and restarted, the clients recover and '
                'check their data, the footprint is checked every cycle, and QEMU\'s IOTLB trace shows no '
                'translation for a dead driver\'s domain after its revocation',
        'args': ['-m', '512M'] + IOMMU + soak_trace.QEMU_TRACE_ARGS,
        'peer': 'host',
        'cmdline': 'netpeer=host only=soak_crash_cycles+hostile_clients+hostile_devmgr soakcycles=30 testpool=64',
        'disk': {'size_mib': 64},
        'peer_min_good': 30 * 64,
        'require_ok': ['soak_crash_cycles', 'hostile_clients', 'hostile_devmgr'],
        'expect': [r'^# soak: 30 cycles \(10 edu, 10 nvme, 10 e1000e killed and restarted\)'],
        'trace_check': soak_trace.dma_after_death_reasons,
    },
    {
        'name': 'nvme-no-iommu',
        'desc': 'the NVMe controller without an IOMMU: its driver refuses DMA without isolation and says so',
        'args': ['-m', '512M', '-device', 'edu'],
        'disk': {'size_mib': 16},
        'expect': [r'nvme: no IOMMU translates this controller: refusing to let it DMA without isolation'],
        'require_ok': ['nvme_refuses_without_iommu'],
        'expect_skip': ['nvme_blk_integrity', 'nvme_blk_roundtrip_and_errors', 'nvme_blk_partitions_isolated',
                        'nvme_blk_queue_depth', 'nvme_client_dies_in_flight', 'nvme_driver_crash_mid_io',
                        'nvme_queues_per_session', 'nvme_controller_fatal_recovered'],
    },
    {
        'name': 'bench',
        'desc': 'the benchmarks run under -icount and print every measure '
                '(numbers are checked by make bench, not here)',
        'args': ['-m', '512M', '-cpu', 'qemu64', '-icount', 'shift=0,sleep=off'] + IOMMU,
        'disk': {'size_mib': 64},
        'cmdline': 'bench',
        'ktap': False,
        'expect': [r'^BENCH %s min=\d+ median=\d+ p90=\d+ insns' % name
                   for name in ('null_syscall', 'ipc_call_reply_0w', 'ipc_call_reply_8w',
                                'ipc_cap_transfer', 'yield_2proc', 'vm_map_unmap_4k')] +
                  [r'^BENCH %s min=\d+ median=\d+ p90=\d+ insns inv=\d+$' % name
                   for name in ('dma_map_unmap_4k', 'dma_map_unmap_1m', 'dma_map_unmap_2m')] +
                  [r'^BENCH irq_to_driver min=\d+ median=\d+ p90=\d+ insns irqs=\d+$',
                   r'^BENCH revoke_device min=\d+ median=\d+ p90=\d+ insns samples=\d+$'] +
                  [r'^BENCH %s min=\d+ median=\d+ p90=\d+ insns' % name
                   for name in ('notify_wakeup', 'ring_item_single', 'grant_map_revoke')] +
                  [r'^BENCH ring_item min=\d+ median=\d+ p90=\d+ insns batch=32$'] +
                  [r'^BENCH ring_pingpong_b%d min=\d+ median=\d+ p90=\d+ insns per_item '
                   r'kernel_entries_per_item=\d+\.\d{3}$' % batch for batch in (1, 32)] +
                  [r'^BENCH %s cpu_insns=\d+ ios=\d+ kernel_entries_per_io=\d+\.\d{3} '
                   r'doorbells_per_io=\d+\.\d{3} iommu_ops_per_io=0\.000 interrupts_per_io=\d+\.\d{3} failed=0$' % name
                   for name in ('blk_read_4k_qd1', 'blk_write_4k_qd1', 'blk_read_4k_qd32', 'blk_read_128k_per_mib')],
    },
    {
        'name': 'run-net',
        'desc': 'what `make run` does for the network: the normal boot (devmgr starts the e1000e driver, the '
                'network service and the echo service) with the NIC on -netdev dgram to tools/netrelay.py, '
                'whose DHCP leases 10.0.2.15; a host client\'s lines to 127.0.0.1:PORT come back through '
                'Warden\'s echo service; stopped once 20 did',
        'args': ['-m', '512M'] + IOMMU,
        'cmdline': 'devmgr',
        'ktap': False,
        'exit': None,
        'peer': 'relay',
        'peer_min_good': 20,
        'stop_with_peer': True,
        'expect': [r'devmgr: 00:0[0-9a-f]\.0: driver "e1000e" handed to init\'s supervisor as "eth0"',
                   r'devmgr: service "net net eth=eth0" handed to init\'s supervisor',
                   r'net: address 10\.0\.2\.15/24, gateway 10\.0\.2\.2 \(leased by DHCP\)',
                   r'echo: echoing UDP port 7 through "net"'],
    },
    {
        'name': 'shell',
        'desc': 'the normal boot ends at the shell: the harness types every command on the serial console and '
                'checks the answers against the boot log, each other, QEMU\'s fault trace and the disk image',
        'args': ['-m', '512M', '-device', 'intel-iommu,intremap=on', '-device', 'edu,dma_mask=0xffffffff'] +
                E1000E_RESTRICTED,
        'cmdline': 'devmgr',
        'ktap': False,
        'exit': None,
        'disk': {'size_mib': 64},
        'console': True,
        'expect': [r'shell: \d+ driver\(s\) and service\(s\) up'],
    },
    {
        'name': 'normal-boot',
        'desc': 'what `make run` boots: devmgr hands edu and the NVMe controller to init\'s '
                'supervisor, the drivers register; stopped once both are ready',
        'args': ['-m', '512M'] + IOMMU,
        'cmdline': 'devmgr',
        'ktap': False,
        'exit': None,
        'disk': {'size_mib': 64},
        'stop_at': BOTH_DRIVERS_READY,
        'expect': [r'devmgr: 00:0[0-9a-f]\.0: driver "edu" handed to init\'s supervisor as "edu"',
                   r'devmgr: 00:0[0-9a-f]\.0: driver "nvme" handed to init\'s supervisor as "blk0"',
                   r'nvme: .* ready: "QEMU NVMe Ctrl" serial "warden0", namespace 1: 131072 blocks of 512 bytes \(64 MiB\).*registered as "blk0"',
                   r'init: supervising driver edu \(module edu, process \d+\)',
                   r'init: registered "edu" \(generation 1\)',
                   r'interrupts: MSI, self-test passed'],
    },
    {
        'name': 'normal-boot-48m',
        'desc': 'the normal system on the smallest machine the README claims (48 MiB): '
                'init sizes devmgr\'s pool to what there is',
        'args': ['-m', '48M'] + IOMMU,
        'cmdline': 'devmgr',
        'ktap': False,
        'exit': None,
        'disk': {'size_mib': 64},
        'stop_at': BOTH_DRIVERS_READY,
        'expect': [r'init: a small machine: devmgr gets a pool of \d+ KiB',
                   r'init: registered "blk0" \(generation 1\)',
                   r'init: registered "edu" \(generation 1\)'],
    },
    {
        'name': 'exception-dump',
        'desc': 'a kernel page fault prints vector, error code, RIP, CR2 '
                'and a stack trace, then stops',
        'args': ['-m', '512M'] + IOMMU,
        'cmdline': 'crash=pagefault',
        'ktap': False,
        'exit': EXIT_PANIC,
        'expect': [
            r'unhandled exception #PF \(vector 14\)',
            r'error code 0x[0-9a-f]+',
            r'RIP 0xffffffff8[0-9a-f]+',
            r'CR2 0x0+dea000\b',
            r'stack trace:',
            r'#1 0xffffffff8[0-9a-f]+',
        ],
    },
    {
        'name': 'no-long-mode',
        'desc': 'a CPU without long mode gets a clear message, '
                'not a triple fault',
        'args': ['-m', '128M', '-cpu', 'qemu32'],
        'ktap': False,
        'exit': EXIT_NO_CPU,
        'expect': [r'long mode'],
    },
]

# --------------------------------------------------------------------------
# Log cleaning.
# --------------------------------------------------------------------------

ANSI_RE = re.compile(
    r'\x1b\[[0-9;?]*[ -/]*[@-~]'            # CSI: colours, cursor moves, ...
    r'|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)'   # OSC ... BEL / ST
    r'|\x1b[()*+][0-9A-Za-z]'               # character-set selection
    r'|\x1b[@-Z\\^_=>78]'                    # other two-byte escapes
)
# C0 control characters other than tab and newline (after ANSI removal).
CONTROL_RE = re.compile(r'[\x00-\x08\x0b-\x1f\x7f]')


def clean_log(text):
    """Remove terminal noise so that line-anchored regexes work."""
    text = text.replace('\r\n', '\n').replace('\r', '\n')
    text = ANSI_RE.sub('', text)
    return CONTROL_RE.sub('', text)


# --------------------------------------------------------------------------
# KTAP parsing and judging.  judge() is pure: no I/O, no globals changed.
# --------------------------------------------------------------------------

KTAP_HEADER = 'KTAP version 1'
PLAN_RE = re.compile(r'^1\.\.(\d+)$')
RESULT_RE = re.compile(r'^(ok|not ok) (\d+) (\S+)( # (SKIP|TODO)\b.*)?$')
PASS_LINE = 'warden-test: PASS'
FAIL_LINE = 'warden-test: FAIL'


@dataclass
class Result:
    ok: bool
    num: int
    name: str
    directive: str  # '', 'SKIP' or 'TODO'
    line: int       # index into the list of log lines


@dataclass
class Ktap:
    headers: list = field(default_factory=list)    # line indexes
    plan: int | None = None
    plan_line: int | None = None
    results: list = field(default_factory=list)    # Result, after the header
    pass_lines: list = field(default_factory=list)
    fail_lines: list = field(default_factory=list)


def parse_ktap(lines):
    """Collect KTAP structure from cleaned log lines; other lines ignored."""
    k = Ktap()
    for i, raw in enumerate(lines):
        line = raw.rstrip()
        if line == KTAP_HEADER:
            k.headers.append(i)
        elif line == PASS_LINE:
            k.pass_lines.append(i)
        elif line.startswith(FAIL_LINE):
            k.fail_lines.append(i)
    start = k.headers[0] if k.headers else 0
    for i in range(start, len(lines)):
        line = lines[i].rstrip()
        m = PLAN_RE.match(line)
        if m and k.plan is None:
            k.plan, k.plan_line = int(m.group(1)), i
            continue
        m = RESULT_RE.match(line)
        if m:
            k.results.append(Result(m.group(1) == 'ok', int(m.group(2)),
                                    m.group(3), m.group(5) or '', i))
    return k


def numbering_reasons(plan, nums):
    """Check that result numbers are exactly 1..plan, in order."""
    reasons = []
    if len(nums) != plan:
        reasons.append(f'plan says {plan} tests but {len(nums)} results found')
    seen, dups = set(), []
    for n in nums:
        if n in seen and n not in dups:
            dups.append(n)
        seen.add(n)
    if dups:
        reasons.append('duplicate result numbers: '
                       + ', '.join(map(str, dups)))
    missing = sorted(set(range(1, plan + 1)) - seen)
    if missing:
        reasons.append('missing results for tests: '
                       + ', '.join(map(str, missing)))
    extra = sorted(n for n in seen if n < 1 or n > plan)
    if extra:
        reasons.append(f'result numbers outside plan 1..{plan}: '
                       + ', '.join(map(str, extra)))
    if not dups and nums != sorted(nums):
        reasons.append('results out of order: ' + ', '.join(map(str, nums)))
    return reasons


def ktap_reasons(k):
    """Everything that makes a KTAP report incomplete or failing."""
    reasons = []
    if not k.headers:
        reasons.append(f"missing '{KTAP_HEADER}' line")
    elif len(k.headers) > 1:
        reasons.append(f"'{KTAP_HEADER}' appears {len(k.headers)} times "
                       '(did the guest reboot?)')
    if k.plan is None:
        reasons.append('missing KTAP plan line 1..N')
    elif k.plan < 1:
        reasons.append(f'KTAP plan 1..{k.plan} runs no tests')
    else:
        early = [r.num for r in k.results if r.line < k.plan_line]
        if early:
            reasons.append('results before the plan line: '
                           + ', '.join(map(str, early)))
        reasons += numbering_reasons(k.plan, [r.num for r in k.results])
    for r in k.results:
        if not r.ok:
            reasons.append(f'test failed: not ok {r.num} {r.name}')
    if k.fail_lines:
        reasons.append(f"'{FAIL_LINE}' present")
    last = max([r.line for r in k.results] + [k.plan_line or 0]
               + k.headers[:1])
    if not any(i > last for i in k.pass_lines):
        reasons.append(f"missing success line '{PASS_LINE}' after the results")
    return reasons


def exit_meaning(code):
    if code is None:
        return 'none (QEMU did not exit by itself)'
    if code < 0:
        return f'{code} (killed by signal {-code})'
    if code in EXIT_MEANINGS:
        return f'{code} ({EXIT_MEANINGS[code]})'
    if code % 2 == 1:
        return f'{code} (guest wrote {code >> 1} to isa-debug-exit)'
    return f'{code} (unknown)'


def named_result_reasons(config, results):
    """require_ok / expect_skip checks on KTAP test names."""
    reasons = []
    by_name = {}
    for r in results:
        by_name.setdefault(r.name, r)
    for name in config.get('require_ok', []):
        r = by_name.get(name)
        if r is None:
            reasons.append(f'required test {name} has no result')
        elif not r.ok:
            reasons.append(f'required test {name} failed (not ok)')
        elif r.directive == 'SKIP':
            reasons.append(f'required test {name} was skipped, must run')
    for name in config.get('expect_skip', []):
        r = by_name.get(name)
        if r is None:
            reasons.append(f'expected skip of {name}, but it has no result')
        elif not r.ok:
            reasons.append(f'expected skip of {name}, but it failed (not ok)')
        elif r.directive != 'SKIP':
            reasons.append(f'expected skip of {name}, but it ran (ok, '
                           'no # SKIP)')
    return reasons


def judge(config, log_text, exit_code, timed_out_reason):
    """Return the list of failure reasons for one run (empty = pass).

    log_text may be raw (ANSI escapes, CRLF); it is cleaned here.
    exit_code is QEMU's exit status, or None if the harness killed it.
    """
    reasons = []
    if timed_out_reason:
        reasons.append(timed_out_reason)
    want = config.get('exit', EXIT_PASS)
    if exit_code != want:
        reasons.append(f'exit code {exit_meaning(exit_code)}, '
                       f'expected {exit_meaning(want)}')
    text = clean_log(log_text)
    lines = text.split('\n')
    k = parse_ktap(lines)
    if config.get('ktap', True):
        reasons += ktap_reasons(k)
    for rx in config.get('expect', []):
        if not re.search(rx, text, re.MULTILINE):
            reasons.append(f'missing expected output: /{rx}/')
    for rx in config.get('reject', []):
        m = re.search(rx, text, re.MULTILINE)
        if m:
            reasons.append(f'rejected output present: /{rx}/ '
                           f'matched {m.group(0)!r}')
    reasons += named_result_reasons(config, k.results)
    return reasons


# --------------------------------------------------------------------------
# Running QEMU.
# --------------------------------------------------------------------------

# -nic none: no default NIC (a config that wants one names its network).
BASE_ARGS = ['-machine', 'q35', '-accel', 'tcg', '-display', 'none',
             '-no-reboot', '-serial', 'stdio', '-monitor', 'none',
             '-nic', 'none',
             '-device', 'isa-debug-exit,iobase=0xf4,iosize=4']


def qemu_command(qemu, iso, config, disk=None, peer=None):
    """QEMU's argument list for config.  disk is (image path, seed) for a
    config with a 'disk': the drive is attached and the seed flag added to
    the fw_cfg command line (after the config's own cmdline, if any).  peer
    is the host peer of a config with a 'peer': its netdev (dgram on
    127.0.0.1, or user with hostfwd from 127.0.0.1) and the config's 'nic'
    device on it."""
    cmd = [qemu] + BASE_ARGS + ['-cdrom', iso, '-boot', 'd'] + config['args']
    if peer:
        cmd += peer.netdev_args() + ['-device', config.get('nic', NET_DEVICE)]
    flags = [config['cmdline']] if config.get('cmdline') else []
    if disk:
        img, seed = disk
        cmd += ['-drive', f'file={img.replace(",", ",,")},if=none,id=nvm0,'
                'format=raw,cache=writeback']
        cmd += config['disk'].get('device', DISK_DEVICE)
        flags.append(f'{config["disk"].get("seed_flag", "blkseed")}={seed}')
    if flags:
        cmd += ['-fw_cfg', 'name=opt/warden/cmdline,string=' + ' '.join(flags)]
    return cmd + shlex.split(os.environ.get('QEMU_EXTRA', ''))


def disk_reasons(config, img, seed):
    """Failure reasons from the image after the run: check_range_mib must
    hold the pattern for seed ^ write_seed_xor."""
    disk = config['disk']
    if not disk.get('check_range_mib'):
        return []
    start, end = (mib << 20 for mib in disk['check_range_mib'])
    problems = disk_pattern.check_range(img, seed ^ disk['write_seed_xor'],
                                        start, end)
    reasons = [f'disk {start >> 20}-{end >> 20} MiB: {p}' for p in problems]
    if problems and not disk_pattern.check_range(img, seed, start, end):
        reasons.append(f'disk {start >> 20}-{end >> 20} MiB still holds the '
                       "host's pattern: the guest wrote nothing there")
    return reasons


PEERS = {'host': netpeer.HostPeer, 'hostfwd': netpeer.HostfwdPeer, 'relay': netrelay.RelayPeer}


def make_peer(config):
    """The host peer a config names (sockets bound, not started), or None."""
    return PEERS[config['peer']]() if config.get('peer') else None


def peer_reasons(config, peer):
    """Failure reasons from what the host peer saw: at least peer_min_good
    good, none bad, and every one of peer_campaigns finished with ok."""
    reasons = []
    want = config.get('peer_min_good', 0)
    if peer.good < want:
        reasons.append(f'host peer: {peer.good} {peer.good_noun}, expected at least {want}')
    if peer.bad:
        reasons.append(f'host peer: {peer.bad} {peer.bad_noun}')
    results = getattr(peer, 'campaigns', {})
    for name in config.get('peer_campaigns', []):
        result = results.get(name)
        if result is None:
            reasons.append(f'host peer: campaign {name} never finished (not asked for, or QEMU exited first)')
        elif not result['ok']:
            reasons.append(f'host peer: campaign {name} {result["id"]}: '
                           + netpeer.describe_result(result))
    return reasons


# Processes still running.  run_configs() kills them on Ctrl-C: they run in
# their own session, so the terminal's SIGINT does not reach them.
LIVE = set()


def kill_group(proc):
    """Kill the process and anything it started (own session, see Popen)."""
    if proc.poll() is None:  # never signal a pid that was already reaped
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    proc.wait()
    LIVE.discard(proc)


def run_with_timeouts(cmd, total, idle, stop_at=None, stop_when=None):
    """Run cmd with stdout+stderr captured and both timeouts enforced.

    Returns (output bytes, exit status, reason).  reason is None for a
    normal exit; otherwise it says why the harness stopped (or could not
    start) the process, and the exit status is None.  With stop_at (a
    regex), the harness stops the process as soon as its output matches:
    a normal end for a system that never exits by itself (exit status
    None, reason None).  stop_when (a threading.Event, e.g. a host peer's
    done) does the same when it is set.
    """
    try:
        proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL,
                                stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT,
                                start_new_session=True)
    except OSError as e:
        return b'', None, f'cannot start {cmd[0]}: {e}'
    LIVE.add(proc)
    chunks, reason, stopped = [], None, False
    fd = proc.stdout.fileno()
    start = last = time.monotonic()
    try:
        with selectors.DefaultSelector() as sel:
            sel.register(fd, selectors.EVENT_READ)
            while True:
                now = time.monotonic()
                if now >= start + total:
                    reason = f'timeout (total {total:g}s)'
                    break
                if now >= last + idle:
                    reason = f'no output for {idle:g}s'
                    break
                if stop_when is not None and stop_when.is_set():
                    stopped = True
                    break
                wait = min(start + total, last + idle) - now
                if sel.select(min(wait, 0.2) if stop_when is not None else wait):
                    data = os.read(fd, 65536)
                    if not data:
                        break  # EOF: QEMU closed its output
                    chunks.append(data)
                    last = time.monotonic()
                    if stop_at and re.search(stop_at, b''.join(chunks).decode('utf-8', 'replace'), re.MULTILINE):
                        stopped = True
                        break
        if reason is None and not stopped:
            try:
                proc.wait(timeout=max(0.1, start + total - time.monotonic()))
            except subprocess.TimeoutExpired:
                reason = f'timeout (total {total:g}s)'
    finally:
        if reason is not None or stopped or proc.returncode is None:
            kill_group(proc)
        LIVE.discard(proc)
        proc.stdout.close()
    code = None if reason or stopped else proc.returncode
    return b''.join(chunks), code, reason


def env_seconds(name, default):
    value = os.environ.get(name)
    if not value:
        return default
    try:
        return float(value)
    except ValueError:
        sys.exit(f'harness: {name}={value!r} is not a number of seconds')


def tail(text, n=TAIL_LINES):
    return text.rstrip('\n').split('\n')[-n:]


def env_seed(name):
    """A 64-bit seed from the environment, or None if it is not set."""
    value = os.environ.get(name)
    if not value:
        return None
    try:
        seed = int(value, 0)
    except ValueError:
        seed = -1
    if not 0 <= seed <= disk_pattern.MASK64:
        sys.exit(f'harness: {name}={value!r} is not a 64-bit seed')
    return seed


def run_config(config, qemu, iso, logdir, total, idle, blkseed=None):
    """Boot one config; return (passed, printable block)."""
    disk, notes = None, []
    if 'disk' in config:
        seed = random.getrandbits(63) if blkseed is None else blkseed
        img = os.path.abspath(os.path.join(logdir,
                                           config['name'] + '-disk.img'))
        disk = (img, seed)
        notes.append(f'    disk seed {seed:#x}: replay with '
                     f'HARNESS_BLKSEED={seed:#x} --only {config["name"]}')
    peer = make_peer(config)
    cmd = qemu_command(qemu, iso, config, disk, peer)
    unsafe = network_problems(cmd[1:])
    if unsafe:
        out = [f'FAIL {config["name"]} (not started: its QEMU command line '
               'could send traffic off this machine)']
        out += ['    ' + r for r in unsafe]
        out.append('--- refused: ' + shlex.join(cmd))
        if peer:
            peer.stop()
        return False, '\n'.join(out)
    if disk:
        try:
            disk_pattern.make_image(img, config['disk']['size_mib'] << 20,
                                    seed)
        except OSError as e:
            return False, (f'FAIL {config["name"]} (not started: cannot '
                           f'write its disk image: {e})')
    if peer:
        peer.start()
    t0 = time.monotonic()
    if config.get('console'):
        return run_console_config(config, cmd, logdir, total, disk, notes, t0)
    raw, code, reason = run_with_timeouts(cmd, total, idle, config.get('stop_at'),
                                          getattr(peer, 'done', None) if config.get('stop_with_peer') else None)
    secs = time.monotonic() - t0
    if peer:
        peer.stop()
        notes.append('    host peer: ' + peer.summary().replace('\n', '\n        '))
    text = raw.decode('utf-8', errors='replace')
    trace_reasons = []
    if config.get('trace_check'):       # QEMU's trace records cut out of the serial text, and judged
        text, trace_reasons, trace_summary = config['trace_check'](text)
        notes.append('    ' + trace_summary)
    cleaned = clean_log(text)
    logpath = os.path.join(logdir, config['name'] + '.log')
    with open(logpath, 'w', encoding='utf-8') as f:
        f.write(cleaned)
    reasons = judge(config, text, code, reason) + trace_reasons
    if peer:
        reasons += peer_reasons(config, peer)
    if disk:
        reasons += disk_reasons(config, img, seed)  # even if judge() failed
        if reasons:
            notes.append(f'    disk image kept: {img} (the guest may have '
                         'written to it; a replay writes a fresh one)')
        else:
            os.remove(img)
    if not reasons:
        return True, '\n'.join([f'PASS {config["name"]} ({secs:.1f}s)']
                                + notes)
    out = [f'FAIL {config["name"]} ({secs:.1f}s)']
    out += ['    ' + r for r in reasons] + notes
    out.append(f'--- last {TAIL_LINES} lines of {logpath} ---')
    out += tail(cleaned)
    out.append('--- rerun: ' + shlex.join(cmd))
    return False, '\n'.join(out)


def run_console_config(config, cmd, logdir, total, disk, notes, t0):
    """Boot config with its serial port on a socket, play the shell scenarios, stop QEMU, judge."""
    name = config['name']
    sock_dir = tempfile.mkdtemp(prefix='warden-con-')
    con = shellconsole.ShellConsole(os.path.join(sock_dir, 'con.sock'))
    serial = cmd.index('-serial')
    cmd = cmd[:serial] + cmd[serial + 2:] + con.qemu_args() + ['-trace', 'vtd_dmar_fault']
    unsafe = network_problems(cmd[1:])
    if unsafe:
        return False, '\n'.join([f'FAIL {name} (not started: its QEMU command line could send traffic off '
                                  'this machine)'] + ['    ' + r for r in unsafe])
    qemu_log = os.path.join(logdir, name + '-qemu.log')
    reasons, ctx = [], {}
    with open(qemu_log, 'wb') as out:
        proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                                start_new_session=True)
    LIVE.add(proc)
    try:
        con.connect(timeout=30, proc=proc)
        con.wait_prompt(timeout=min(total, 120))
        facts = shell_scenarios.Facts(con.transcript())
        for scenario in shell_scenarios.SCENARIOS:
            if time.monotonic() - t0 > total:
                reasons.append(f'timeout (total {total:g}s) before {scenario.__name__}')
                break
            try:
                scenario(con, facts, ctx)
            except Exception as e:      # a check, a timeout, or a table that did not parse
                reasons.append(f'{scenario.__name__}: {type(e).__name__}: {e}')
    except (AssertionError, OSError) as e:
        reasons.append(f'console: {e}')
    finally:
        kill_group(proc)
        con.close()
        shutil.rmtree(sock_dir, ignore_errors=True)
    secs = time.monotonic() - t0
    text = con.transcript()
    cleaned = clean_log(text)
    logpath = os.path.join(logdir, name + '.log')
    with open(logpath, 'w', encoding='utf-8') as f:
        f.write(cleaned)
    with open(qemu_log, encoding='utf-8', errors='replace') as f:
        qemu_output = f.read()
    reasons = judge(config, text, None, None) + reasons
    reasons += shell_scenarios.after_run(ctx, qemu_output, disk[0] if disk else None)
    if disk and not reasons:
        os.remove(disk[0])
    if not reasons:
        return True, '\n'.join([f'PASS {name} ({secs:.1f}s)'] + notes)
    out = [f'FAIL {name} ({secs:.1f}s)'] + ['    ' + r for r in reasons] + notes
    out.append(f'--- last {TAIL_LINES} lines of {logpath} (QEMU\'s own output: {qemu_log}) ---')
    out += tail(cleaned)
    out.append('--- rerun: ' + shlex.join(cmd))
    return False, '\n'.join(out)


def run_configs(configs, args):
    """Run configs on a thread pool; print each block as it finishes."""
    total = env_seconds('HARNESS_TIMEOUT', DEFAULT_TIMEOUT)
    idle = env_seconds('HARNESS_IDLE_TIMEOUT', DEFAULT_IDLE_TIMEOUT)
    blkseed = env_seed('HARNESS_BLKSEED')
    os.makedirs(args.logdir, exist_ok=True)
    passed = failed = 0
    pool = concurrent.futures.ThreadPoolExecutor(max_workers=args.jobs)
    try:
        futures = [pool.submit(run_config, c, args.qemu, args.iso,
                               args.logdir, total, idle, blkseed)
                   for c in configs]
        for fut in concurrent.futures.as_completed(futures):
            ok, block = fut.result()
            print(block, flush=True)
            passed, failed = passed + ok, failed + (not ok)
    except KeyboardInterrupt:
        pool.shutdown(wait=False, cancel_futures=True)
        for proc in list(LIVE):
            kill_group(proc)
        raise
    pool.shutdown()
    return passed, failed


# --------------------------------------------------------------------------
# Host unit-test binary.
# --------------------------------------------------------------------------

UNIT_SUMMARY_RE = re.compile(r'^unit: (\d+) passed, (\d+) failed$')


def not_ok_blocks(lines):
    """'not ok' lines of a unit run, each with the '#' lines after it."""
    out, inside = [], False
    for line in lines:
        if line.startswith('not ok'):
            out.append(line)
            inside = True
        elif inside and line.startswith('#'):
            out.append(line)
        else:
            inside = False
    return out


def run_unit(path):
    """Run the unit binary; print its failures; return (passed, failed)."""
    text, code, problem = run_with_timeouts([path], UNIT_TIMEOUT, UNIT_TIMEOUT)
    lines = text.decode('utf-8', errors='replace').replace('\r', '')
    lines = lines.split('\n')
    for line in not_ok_blocks(lines):
        print(line)
    summary = [m for m in map(UNIT_SUMMARY_RE.match, lines) if m]
    passed, failed = (int(summary[-1][1]), int(summary[-1][2])) if summary \
        else (0, 0)
    status = f'exit status {code}' if code is None or code >= 0 \
        else f'killed by signal {-code}'
    if problem is None and not summary:
        problem = f"no 'unit: P passed, F failed' summary line ({status})"
    if problem is None and code != 0 and failed == 0:
        problem = f'{status} but no failures reported (crash or sanitizer?)'
    print(f'unit: {passed} passed, {failed} failed')
    if problem:
        print(f'FAIL unit-tests: {problem}')
        if any(lines):
            print(f'--- last {TAIL_LINES} lines of {path} output ---')
            print('\n'.join(tail('\n'.join(lines))))
        failed += 1
    return passed, failed


# --------------------------------------------------------------------------
# Self-test of judge().
# --------------------------------------------------------------------------

GOOD_LOG = '''\
GRUB loading.
Warden: booting
IOMMU: 1 remapping unit
KTAP version 1
1..3
ok 1 boot_info
# frames: 128 MiB usable
ok 2 frames_above_4g
ok 3 iommu_units # SKIP no IOMMU
warden-test: PASS
'''
KTAP_CFG = {'name': 'selftest'}
CRASH_CFG = {'name': 'selftest-crash', 'ktap': False, 'exit': EXIT_PANIC,
             'expect': [r'unhandled exception #PF \(vector 14\)']}
NOISY_LOG = ('\x1b[2J\x1b[H\x1b[0;30;47mGRUB\x1b[0m\r\n\x1b[?25l'
             + GOOD_LOG.replace('KTAP', '\x1b[0mKTAP').replace('\n', '\r\n'))


def edit(old, new):
    return GOOD_LOG.replace(old, new)


# (name, config, log, exit code, timeout reason, reason substring or None)
# A None substring means the run must pass; otherwise it must fail with a
# reason containing that substring.
SELFTEST_CASES = [
    ('good log passes', KTAP_CFG, GOOD_LOG, 33, None, None),
    ('missing KTAP header', KTAP_CFG, edit('KTAP version 1\n', ''), 33, None,
     'KTAP version 1'),
    ('missing plan', KTAP_CFG, edit('1..3\n', ''), 33, None, 'plan'),
    ('plan 3 but 2 results', KTAP_CFG, edit('ok 2 frames_above_4g\n', ''),
     33, None, 'plan says 3 tests but 2 results'),
    ('not ok fails', KTAP_CFG, edit('ok 1 boot_info', 'not ok 1 boot_info'),
     33, None, 'not ok 1 boot_info'),
    ('out of order', KTAP_CFG,
     edit('ok 1 boot_info', 'ok 2 boot_info').replace(
         'ok 2 frames_above_4g', 'ok 1 frames_above_4g'),
     33, None, 'out of order'),
    ('duplicate number', KTAP_CFG, edit('ok 3 iommu', 'ok 2 iommu'), 33, None,
     'duplicate'),
    ('missing success line', KTAP_CFG, edit('warden-test: PASS\n', ''), 33,
     None, 'warden-test: PASS'),
    ('FAIL line present', KTAP_CFG, GOOD_LOG + 'warden-test: FAIL\n', 33,
     None, 'warden-test: FAIL'),
    ('wrong exit code', KTAP_CFG, GOOD_LOG, 37, None,
     'exit code 37 (kernel panic), expected 33 (pass)'),
    ('exit 0 is a triple fault', KTAP_CFG, GOOD_LOG, 0, None, 'triple fault'),
    ('timeout is a failure', KTAP_CFG, GOOD_LOG, None, 'no output for 30s',
     'no output for 30s'),
    ('require_ok but skipped', dict(KTAP_CFG, require_ok=['iommu_units']),
     GOOD_LOG, 33, None, 'iommu_units was skipped'),
    ('require_ok and ran', dict(KTAP_CFG, require_ok=['frames_above_4g']),
     GOOD_LOG, 33, None, None),
    ('expect_skip but ran', dict(KTAP_CFG, expect_skip=['frames_above_4g']),
     GOOD_LOG, 33, None, 'expected skip of frames_above_4g'),
    ('expect_skip and skipped', dict(KTAP_CFG, expect_skip=['iommu_units']),
     GOOD_LOG, 33, None, None),
    ('missing expect regex', dict(KTAP_CFG, expect=[r'MADT: 2 CPUs']),
     GOOD_LOG, 33, None, 'missing expected output: /MADT: 2 CPUs/'),
    ('reject regex present', dict(KTAP_CFG, reject=[r'GRUB loading']),
     GOOD_LOG, 33, None, 'GRUB loading'),
    ('ANSI noise and CRLF pass', dict(KTAP_CFG, expect=[r'^IOMMU: 1 rem']),
     NOISY_LOG, 33, None, None),
    ('non-ktap config passes', CRASH_CFG,
     'panic: unhandled exception #PF (vector 14)\n', 37, None, None),
    ('non-ktap wrong exit', CRASH_CFG,
     'panic: unhandled exception #PF (vector 14)\n', 33, None,
     'expected 37 (kernel panic)'),
]


# (name, QEMU arguments, reason substring or None): network_problems() must
# accept the argument list (None) or refuse it with a reason containing it.
NETSAFETY_CASES = [
    ('-nic none is safe', ['-m', '512M', '-nic', 'none'], None),
    ('no network named', ['-m', '512M'], 'default NIC'),
    ('-nodefaults is safe', ['-nodefaults'], None),
    ('user without restrict', ['-nic', 'user,model=e1000e'], 'restrict=on'),
    ('user restrict=off', ['-netdev', 'user,id=n,restrict=off'],
     'restrict=on'),
    ('user restrict=on', ['-netdev', 'user,id=n,restrict=on',
                          '-device', 'e1000e,netdev=n'], None),
    ('hostfwd on loopback', ['-nic', 'user,model=e1000e,restrict=on,'
                             'hostfwd=udp:127.0.0.1:5555-:7'], None),
    ('netdev user hostfwd on loopback', ['-netdev', 'user,id=n0,restrict=on,'
                                         'hostfwd=udp:127.0.0.1:40007-:7',
                                         '-device', 'e1000e,netdev=n0'], None),
    ('netdev user hostfwd without restrict', ['-netdev', 'user,id=n0,'
                                              'hostfwd=udp:127.0.0.1:40007-:7'],
     'restrict=on'),
    ('hostfwd on every address', ['-nic', 'user,restrict=on,'
                                  'hostfwd=udp::5555-:7'], 'every address'),
    ('guestfwd refused', ['-nic', 'user,restrict=on,guestfwd=tcp:10.0.2.100:'
                          '80-cmd:nc x 80'], 'guestfwd'),
    ('tap refused', ['-netdev', 'tap,id=t0'], '"tap" is not allowed'),
    ('dgram on loopback', ['-netdev', 'dgram,id=d,local.type=inet,'
                           'local.host=127.0.0.1,local.port=1,'
                           'remote.type=inet,remote.host=127.0.0.1,'
                           'remote.port=2'], None),
    ('dgram to another host', ['-netdev', 'dgram,id=d,remote.type=inet,'
                               'remote.host=10.1.1.1,remote.port=2'],
     'not 127.0.0.1'),
    ('socket on loopback', ['-netdev', 'socket,id=s,udp=127.0.0.1:2,'
                            'localaddr=127.0.0.1:1'], None),
    ('socket multicast', ['-netdev', 'socket,id=s,mcast=230.0.0.1:1234'],
     'multicast'),
    ('socket listen anywhere', ['-netdev', 'socket,id=s,listen=:1234'],
     'not 127.0.0.1'),
    ('one bad among good', ['-nic', 'none', '-nic', 'user'], 'restrict=on'),
]


def run_netsafety_selftest():
    passed = failed = 0
    for name, args, want in NETSAFETY_CASES:
        problems = network_problems(args)
        ok = not problems if want is None else any(want in p
                                                   for p in problems)
        if ok:
            passed += 1
        else:
            failed += 1
            print(f'FAIL selftest: network safety: {name}: got '
                  + ('; '.join(problems) or 'accepted'))
    for config in CONFIGS:              # every configuration is safe as run
        disk = ('x-disk.img', 1) if 'disk' in config else None
        peer = make_peer(config)        # its netdev, on real ports
        try:
            problems = network_problems(qemu_command('qemu', 'x.iso', config,
                                                     disk, peer)[1:])
        finally:
            if peer:
                peer.stop()
        if problems:
            failed += 1
            print(f'FAIL selftest: config {config["name"]} is not network '
                  'safe: ' + '; '.join(problems))
        else:
            passed += 1
    return passed, failed


DISK_CFG = {'name': 'selftest-disk', 'args': ['-m', '512M'],
            'disk': {'size_mib': 4, 'seed_flag': 'blkseed',
                     'write_seed_xor': 0xFFFF, 'check_range_mib': (1, 2)}}
DISK_DRIVE = ['-drive', 'file=/l/d.img,if=none,id=nvm0,format=raw,'
              'cache=writeback']
DISK_SEED = 0x1234_5678_9ABC_DEF0


def fw_cfg_strings(cmd):
    return [a for i, a in enumerate(cmd) if i and cmd[i - 1] == '-fw_cfg']


def write_pattern(img, seed, start, end):
    """Do what a guest would: write seed's pattern over [start, end)."""
    with open(img, 'r+b') as f:
        f.seek(start)
        f.write(disk_pattern.pattern_bytes(seed, start, end - start))


def disk_command_cases():
    """(name, ok) pairs: how a 'disk' config's QEMU command is built."""
    disk = ('/l/d.img', DISK_SEED)
    cmd = qemu_command('qemu', 'x.iso', DISK_CFG, disk)
    flag = f'name=opt/warden/cmdline,string=blkseed={DISK_SEED}'
    with_cmdline = qemu_command('qemu', 'x.iso',
                                dict(DISK_CFG, cmdline='devmgr'), disk)
    device = ['-device', 'nvme,drive=nvm0,serial=x']
    other = dict(DISK_CFG, disk=dict(DISK_CFG['disk'], seed_flag='s',
                                     device=device))
    other_cmd = qemu_command('qemu', 'x.iso', other, ('/l/a,b.img', 7))
    plain = qemu_command('qemu', 'x.iso', dict(KTAP_CFG, args=[]))

    def follows(cmd, args):
        return any(cmd[i:i + len(args)] == args for i in range(len(cmd)))
    return [
        ('disk: -drive then the default nvme device',
         follows(cmd, DISK_DRIVE + ['-device',
                                    'nvme,serial=warden0,drive=nvm0'])),
        ('disk: seed flag alone is the fw_cfg command line',
         fw_cfg_strings(cmd) == [flag]),
        ('disk: seed flag after the config\'s cmdline',
         fw_cfg_strings(with_cmdline)
         == [f'name=opt/warden/cmdline,string=devmgr blkseed={DISK_SEED}']),
        ('disk: seed_flag and device from the config, comma escaped',
         follows(other_cmd, ['-drive', 'file=/l/a,,b.img,if=none,id=nvm0,'
                             'format=raw,cache=writeback'] + device)
         and fw_cfg_strings(other_cmd)
         == ['name=opt/warden/cmdline,string=s=7']),
        ('disk: the command line is network safe',
         not network_problems(cmd[1:])
         and not network_problems(other_cmd[1:])),
        ('no disk: no -drive, no fw_cfg without a cmdline',
         '-drive' not in plain and not fw_cfg_strings(plain)),
    ]


def disk_check_cases(tmp):
    """(name, ok) pairs: disk_reasons() on images a guest left behind."""
    img = os.path.join(tmp, 'selftest-disk.img')
    start, end = 1 << 20, 2 << 20
    wrote = DISK_SEED ^ 0xFFFF
    cases = []
    disk_pattern.make_image(img, 4 << 20, DISK_SEED)
    reasons = disk_reasons(DISK_CFG, img, DISK_SEED)
    cases.append(('disk: guest wrote nothing fails',
                  any('wrote nothing' in r for r in reasons)))
    write_pattern(img, wrote, start, end)
    reasons = disk_reasons(DISK_CFG, img, DISK_SEED)
    cases.append(('disk: guest wrote the pattern passes', reasons == []))
    write_pattern(img, DISK_SEED, end - 8, end)        # last word unwritten
    reasons = disk_reasons(DISK_CFG, img, DISK_SEED)
    cases.append(('disk: one wrong word fails',
                  any(f'word at byte {end - 8:#x}' in r for r in reasons)
                  and any('1 of 131072 words' in r for r in reasons)
                  and not any('wrote nothing' in r for r in reasons)))
    no_check = dict(DISK_CFG, disk=dict(DISK_CFG['disk'],
                                        check_range_mib=None))
    cases.append(('disk: no check_range_mib, no check',
                  disk_reasons(no_check, img, DISK_SEED) == []))
    cases.append(('disk: a missing image fails',
                  any('cannot read' in r for r in
                      disk_reasons(DISK_CFG, img + '.gone', DISK_SEED))))
    return cases


def run_disk_selftest():
    with tempfile.TemporaryDirectory() as tmp:
        cases = disk_command_cases() + disk_check_cases(tmp)
    for name, ok in cases:
        if not ok:
            print(f'FAIL selftest: {name}')
    passed = sum(ok for _, ok in cases)
    return passed, len(cases) - passed


def fake_peer(good=0, bad=0, campaigns=None):
    """What peer_reasons() reads of a peer, without sockets."""
    peer = types.SimpleNamespace(good=good, bad=bad, good_noun='good things',
                                 bad_noun='bad things')
    if campaigns is not None:
        peer.campaigns = campaigns
    return peer


def peer_check_cases():
    """(name, ok) pairs: peer_reasons() on what a peer could have seen."""
    cfg = {'peer_min_good': 100, 'peer_campaigns': ['stack', 'stream']}
    ok = {'id': '1', 'ok': True, 'keys': {'sent': 5}, 'reason': '', 'got': True}
    failed = dict(ok, ok=False, reason='stream: 1 bad echoes')
    both = {'stack': ok, 'stream': ok}

    def says(reasons, *words):
        return len(reasons) == 1 and all(w in reasons[0] for w in words)
    return [
        ('peer: enough good, campaigns ok, passes',
         peer_reasons(cfg, fake_peer(100, 0, both)) == []),
        ('peer: too few good fails', says(peer_reasons(cfg, fake_peer(99, 0, both)),
                                          '99 good things', 'at least 100')),
        ('peer: any bad fails', says(peer_reasons(cfg, fake_peer(100, 1, both)),
                                     '1 bad things')),
        ('peer: a campaign that never finished fails',
         says(peer_reasons(cfg, fake_peer(100, 0, {'stack': ok})),
              'campaign stream never finished')),
        ('peer: a failed campaign fails with its keys and reason',
         says(peer_reasons(cfg, fake_peer(100, 0, dict(both, stream=failed))),
              'campaign stream 1: fail sent=5 stream: 1 bad echoes')),
        ('peer: a peer without campaigns (hostfwd) is judged on its counts',
         peer_reasons({'peer_min_good': 100}, fake_peer(150)) == []),
    ]


def run_peer_selftest():
    passed = failed = 0
    relay_cases = netrelay.dhcp_cases() + netrelay.neighbour_cases() + netrelay.relay_cases() + netrelay.holding_cases()
    for name, ok in netpeer.selftest() + peer_check_cases() + [('netrelay: ' + n, ok) for n, ok in relay_cases]:
        if ok:
            passed += 1
        else:
            failed += 1
            print(f'FAIL selftest: netpeer: {name}')
    return passed, failed


def run_console_selftest():
    """tests/shellconsole_selftest.py's checks of the console driver against a fake shell."""
    import shellconsole_selftest
    passed = failed = 0
    for test in shellconsole_selftest.TESTS:
        try:
            test()
            passed += 1
        except Exception as e:  # noqa: BLE001 (report, keep going)
            failed += 1
            print(f'FAIL selftest: shellconsole {test.__name__}: {type(e).__name__}: {e}')
    return passed, failed


def run_selftest():
    passed, failed = run_netsafety_selftest()
    p, f = run_console_selftest()
    passed, failed = passed + p, failed + f
    p, f = run_peer_selftest()
    passed, failed = passed + p, failed + f
    p, f = run_disk_selftest()
    passed, failed = passed + p, failed + f
    trace_problems = soak_trace.selftest_problems()
    for problem in trace_problems:
        print(f'FAIL selftest: soak_trace {problem}')
    passed, failed = passed + (not trace_problems), failed + len(trace_problems)
    for name, config, log, code, timeout, want in SELFTEST_CASES:
        reasons = judge(config, log, code, timeout)
        if want is None:
            ok = not reasons
            problem = 'expected pass, got: ' + '; '.join(reasons)
        else:
            ok = any(want in r for r in reasons)
            problem = (f'expected a reason containing {want!r}, got: '
                       + ('; '.join(reasons) or 'pass'))
        if ok:
            passed += 1
        else:
            failed += 1
            print(f'FAIL selftest: {name}: {problem}')
    print(f'selftest: {passed} passed, {failed} failed')
    return passed, failed


# --------------------------------------------------------------------------
# Command line.
# --------------------------------------------------------------------------

def parse_args(argv):
    p = argparse.ArgumentParser(
        description='Boot the Warden test ISO under several QEMU '
                    'configurations and judge each run.')
    p.add_argument('--iso', help='test ISO (needed to run QEMU configs)')
    p.add_argument('--unit', metavar='PATH', help='host unit-test binary')
    p.add_argument('--selftest', action='store_true',
                   help='self-test the log judge')
    p.add_argument('--jobs', type=int, default=2,
                   help='QEMU runs in parallel (default 2)')
    p.add_argument('--only', nargs='+', metavar='NAME',
                   help='run only these configs')
    p.add_argument('--list', action='store_true',
                   help='list configs and exit')
    p.add_argument('--logdir', default='build/test-logs',
                   help='where <config>.log files go (default %(default)s)')
    p.add_argument('--qemu', default='qemu-system-x86_64',
                   help='QEMU binary (default %(default)s)')
    args = p.parse_args(argv)
    if args.jobs < 1:
        p.error('--jobs must be at least 1')
    names = [c['name'] for c in CONFIGS]
    unknown = [n for n in args.only or [] if n not in names]
    if unknown:
        p.error(f'unknown config(s) {", ".join(unknown)}; '
                f'valid: {", ".join(names)}')
    want_qemu = args.iso is not None or args.only or not (
        args.selftest or args.unit)
    if want_qemu and not args.list:
        if args.iso is None:
            p.error('--iso is required to run QEMU configs '
                    '(or use only --selftest / --unit)')
        if not os.path.isfile(args.iso):
            p.error(f'ISO not found: {args.iso} (build it first)')
        if shutil.which(args.qemu) is None:
            p.error(f'QEMU binary not found: {args.qemu}')
    args.run_qemu = bool(want_qemu)
    return args


def main(argv=None):
    args = parse_args(argv)
    if args.list:
        width = max(len(c['name']) for c in CONFIGS)
        for c in CONFIGS:
            print(f'{c["name"]:<{width}}  {c["desc"]}')
        return 0
    passed = failed = 0
    if args.unit:
        p, f = run_unit(args.unit)
        passed, failed = passed + p, failed + f
    if args.selftest:
        p, f = run_selftest()
        passed, failed = passed + p, failed + f
    if args.run_qemu:
        only = set(args.only or [c['name'] for c in CONFIGS])
        p, f = run_configs([c for c in CONFIGS if c['name'] in only], args)
        passed, failed = passed + p, failed + f
    sys.stdout.flush()
    print(f'{passed} passed, {failed} failed', flush=True)
    return 0 if failed == 0 and passed > 0 else 1


if __name__ == '__main__':
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        sys.exit('harness: interrupted')
