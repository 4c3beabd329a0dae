#!/bin/sh
# tools/iotlb.sh - what 2 MiB IOMMU pages save: boots the benchmarks twice
# with iotlb=4k and iotlb=2m (a 64 MiB sequential NVMe read into a client
# region the NVMe driver maps with 4 KiB, then 2 MiB IOMMU pages), counts
# QEMU's own vtd_iotlb_page_update (a miss filled) and vtd_iotlb_page_hit
# trace events, and prints both and the ratio of misses.
# Usage: tools/iotlb.sh ISO
set -eu
iso=$1
disk=build/bench-disk.img
[ -f $disk ] || truncate -s 64M $disk
for pages in 4k 2m; do
    log=build/iotlb-$pages.log
    trace=build/iotlb-$pages.trace
    status=0
    timeout 600 python3 tools/qemu_netsafety.py qemu-system-x86_64 -machine q35 -accel tcg -cpu qemu64 -m 512M \
        -nic none \
        -device intel-iommu,intremap=on -device edu \
        -drive file=$disk,if=none,id=nvm0,format=raw -device nvme,serial=bench0,drive=nvm0 \
        -device isa-debug-exit,iobase=0xf4,iosize=0x04 \
        -display none -serial file:$log -no-reboot \
        -fw_cfg name=opt/warden/cmdline,string="bench iotlb=$pages" \
        -trace vtd_iotlb_page_update -trace vtd_iotlb_page_hit -D $trace \
        -cdrom "$iso" || status=$?
    if [ "$status" -ne 33 ] || ! grep -q "^BENCH blk_iotlb_$pages .*failed=0" $log; then
        echo "iotlb: the $pages run failed (QEMU status $status); see $log" >&2
        exit 1
    fi
    misses=$(grep -c 'vtd_iotlb_page_update' $trace || true)
    hits=$(grep -c 'vtd_iotlb_page_hit' $trace || true)
    echo "IOTLB $pages pages: misses=$misses hits=$hits" | tee build/iotlb-$pages.count
    rm -f $trace
done
m4=$(sed 's/.*misses=\([0-9]*\).*/\1/' build/iotlb-4k.count)
m2=$(sed 's/.*misses=\([0-9]*\).*/\1/' build/iotlb-2m.count)
echo "IOTLB misses for a 64 MiB read: $m4 with 4 KiB pages, $m2 with 2 MiB pages ($((m4 / (m2 > 0 ? m2 : 1)))x fewer)"
