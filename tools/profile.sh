#!/bin/sh
# tools/profile.sh - where the guest's instructions go in one block
# measure: boots the bench ISO twice under -icount with the insn_profile
# TCG plugin (tools/profile/insn_profile.c, built here) and bench's
# only=WHICH:N (qd1: blk_read_4k_qd1, qd32: blk_read_4k_qd32), once with
# 1,000 and once with 3,000 I/Os. The difference between the two runs is
# the cost of 2,000 I/Os without boot and set-up; it prints the functions
# that ran the most of it, per I/O, from the kernel's and the programs'
# symbols. Every user program is linked at 0x400000, so a user
# address is named in every program ("bench:f | nvme:g | net:h ...");
# the context says which one ran. net1 and net32 profile the network
# measures (per echo; two e1000e NICs on one QEMU hub, as tools/bench.sh).
# Usage: tools/profile.sh ISO [qd1|qd32|net1|net32] [top N]
set -eu
iso=$1
which=${2:-qd1}
top=${3:-40}
mkdir -p build/profile
plugin=build/profile/insn_profile.so
cc -O2 -shared -fPIC -o $plugin tools/profile/insn_profile.c
disk=build/bench-disk.img
[ -f $disk ] || truncate -s 64M $disk
run() {     # run IOS: the profile in build/profile/$which-IOS.txt
    out=build/profile/$which-$1
    timeout 900 python3 tools/qemu_netsafety.py qemu-system-x86_64 -machine q35 -accel tcg -cpu qemu64 -m 512M \
        -nic none -icount shift=0,sleep=off \
        -plugin $plugin,out=$out.txt \
        -device intel-iommu,intremap=on \
        -drive file=$disk,if=none,id=nvm0,format=raw -device nvme,serial=bench0,drive=nvm0 \
        -netdev hubport,id=h0,hubid=0 -device e1000e,netdev=h0,romfile=,mac=52:54:00:00:03:01 \
        -netdev hubport,id=h1,hubid=0 -device e1000e,netdev=h1,romfile=,mac=52:54:00:00:03:02 \
        -device isa-debug-exit,iobase=0xf4,iosize=0x04 \
        -display none -serial file:$out.log -no-reboot \
        -fw_cfg name=opt/warden/cmdline,string="bench only=$which:$1" \
        -cdrom "$iso" || true
    grep '^BENCH ' $out.log || { echo "profile: no BENCH line; see $out.log" >&2; exit 1; }
}
run 1000
run 3000
python3 - build/profile/$which-1000.txt build/profile/$which-3000.txt 2000 "$top" \
    build/kernel.elf build/user/bench.elf build/user/nvme.elf build/user/e1000e.elf build/user/net.elf \
    build/user/echo.elf <<'PY'
import bisect, subprocess, sys
short, long_, ios, top, elves = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5:]
tables = []
for elf in elves:
    syms = []
    for line in subprocess.run(['nm', '-n', elf], capture_output=True, text=True).stdout.splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[1] in 'tTwW':
            syms.append((int(parts[0], 16), parts[2]))
    tables.append((elf.split('/')[-1].replace('.elf', ''), [a for a, _ in syms], [n for _, n in syms]))
def name(addr):
    names = []
    for tag, addrs, labels in tables:
        i = bisect.bisect_right(addrs, addr) - 1
        if i >= 0 and addr - addrs[i] < 0x10000:
            names.append(f'{tag}:{labels[i]}')
    return ' | '.join(names) or hex(addr)
def load(path):
    totals = {}
    for line in open(path):
        addr, count = line.split()
        key = name(int(addr, 16))
        totals[key] = totals.get(key, 0) + int(count)
    return totals
a, b = load(short), load(long_)
diff = {k: b.get(k, 0) - a.get(k, 0) for k in set(a) | set(b)}
grand = sum(diff.values())
print(f'{grand / ios:.0f} instructions per I/O (the difference of the two runs over {ios} I/Os)')
for key, count in sorted(diff.items(), key=lambda kv: -kv[1])[:top]:
    print(f'{count / ios:>9.1f} {100 * count / grand:5.1f}%  {key}')
PY
