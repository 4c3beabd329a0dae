#!/usr/bin/env bash
# deps.sh - makes sure the Debian packages Warden needs are installed.
#
# As root, installs what is missing with apt-get. Otherwise prints the
# exact command to run and exits 1. `make run`, `make test` and CI call
# this first; `tools/deps.sh --check` only reports.
set -euo pipefail

packages=(
    qemu-system-x86     # the emulated q35 machine with intel-iommu and edu
    grub-pc-bin         # BIOS GRUB modules for the ISO
    grub-common         # grub-mkrescue
    xorriso             # ISO writer used by grub-mkrescue
    mtools              # FAT image tools used by grub-mkrescue
    nasm                # boot and trap entry assembly
    gcc                 # kernel and host unit tests (with ASan/UBSan)
    make
    binutils            # ld, addr2line
    python3             # tests/harness.py
    bear                # make compdb
    gdb                 # make debug
)

missing=()
for p in "${packages[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        missing+=("$p")
    fi
done

[ ${#missing[@]} -eq 0 ] && exit 0

if [ "${1:-}" = "--check" ]; then
    echo "deps: missing: ${missing[*]}"
    exit 1
fi

if [ "$(id -u)" -ne 0 ]; then
    echo "deps: missing Debian packages: ${missing[*]}"
    echo "deps: install them with:"
    echo "    sudo apt-get update && sudo apt-get install -y ${missing[*]}"
    exit 1
fi

echo "deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}"
