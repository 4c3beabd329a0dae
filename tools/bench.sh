#!/bin/sh
# tools/bench.sh - boots Warden with `bench` under -icount shift=0,sleep=off
# (the guest TSC counts guest instructions; see docs/performance.md) with two
# e1000e NICs on one QEMU hub (nothing else on it: no traffic leaves QEMU),
# shows the serial log in build/bench.log and prints the BENCH lines.
# Usage: [BENCH_ONLY=net] tools/bench.sh ISO [extra QEMU arguments...]
# (BENCH_ONLY=net runs only the network measures)
set -eu
iso=$1
shift
log=build/bench.log
disk=build/bench-disk.img
[ -f $disk ] || truncate -s 64M $disk          # the NVMe disk the block measures read and write
status=0
timeout 600 python3 tools/qemu_netsafety.py qemu-system-x86_64 -machine q35 -accel tcg -cpu qemu64 -m 512M \
    -nic none \
    -icount shift=0,sleep=off \
    -device intel-iommu,intremap=on -device edu \
    -drive file=$disk,if=none,id=nvm0,format=raw -device nvme,serial=bench0,drive=nvm0 \
    -netdev hubport,id=h0,hubid=0 -device e1000e,netdev=h0,romfile=,mac=52:54:00:00:03:01 \
    -netdev hubport,id=h1,hubid=0 -device e1000e,netdev=h1,romfile=,mac=52:54:00:00:03:02 \
    -device isa-debug-exit,iobase=0xf4,iosize=0x04 \
    -display none -serial file:$log -no-reboot \
    -fw_cfg name=opt/warden/cmdline,string="bench ${BENCH_ONLY:+only=$BENCH_ONLY}" \
    -cdrom "$iso" "$@" || status=$?
grep '^BENCH ' $log || true
if [ "$status" -ne 33 ]; then
    echo "bench: QEMU exited with status $status (33 = the bench program finished); see $log" >&2
    exit 1
fi
