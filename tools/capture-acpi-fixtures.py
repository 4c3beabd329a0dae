#!/usr/bin/env python3
"""capture-acpi-fixtures.py - boots Warden under QEMU with `acpidump` and
writes the machine's real ACPI tables as unit-test fixtures.

For each machine configuration below, tests/unit/fixtures/acpi-<name>/ gets
one binary file per table (RSDP.bin, RSDT.bin, DMAR.bin, ...) and
layout.txt ("SIG PHYS_HEX FILE" per line) so the unit tests can rebuild the
physical memory the tables lived in. Run after `make`:

    python3 tools/capture-acpi-fixtures.py [--iso build/warden-test.iso]
"""
import argparse
import os
import re
import subprocess
import sys

MACHINES = {
    "q35-iommu": ["-m", "512M", "-device", "intel-iommu,intremap=on", "-device", "edu"],
    "q35-iommu-aw48": ["-m", "512M", "-device", "intel-iommu,intremap=on,aw-bits=48", "-device", "edu"],
    "q35-iommu-bridge": ["-m", "512M", "-device", "intel-iommu,intremap=on",
                         "-device", "pcie-root-port,id=rp1,bus=pcie.0,chassis=1",
                         "-device", "pcie-pci-bridge,id=br1,bus=rp1",
                         "-device", "edu,bus=br1,addr=1"],
    "q35-no-iommu": ["-m", "512M", "-device", "edu"],
}

TABLE = re.compile(r"^acpidump: table (\S{4}) (0x[0-9a-f]+) (\d+)$")
DATA = re.compile(r"^acpidump: data ([0-9a-f]+)$")


def capture(iso, name, args):
    cmd = ["qemu-system-x86_64", "-machine", "q35", "-accel", "tcg", "-display", "none",
           "-no-reboot", "-serial", "stdio", "-monitor", "none",
           "-device", "isa-debug-exit,iobase=0xf4,iosize=4", "-cdrom", iso,
           "-fw_cfg", "name=opt/warden/cmdline,string=acpidump"] + args
    out = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                         timeout=120, check=False).stdout.decode("utf-8", "replace")
    tables, current = [], None
    for line in out.replace("\r", "").split("\n"):
        if m := TABLE.match(line):
            current = [m.group(1), int(m.group(2), 16), int(m.group(3)), bytearray()]
            tables.append(current)
        elif (m := DATA.match(line)) and current:
            current[3] += bytes.fromhex(m.group(1))
        elif line == "acpidump: end":
            break
    if not tables:
        sys.exit(f"{name}: no acpidump output; is the ISO built?\n{out[-2000:]}")
    directory = os.path.join("tests", "unit", "fixtures", f"acpi-{name}")
    os.makedirs(directory, exist_ok=True)
    with open(os.path.join(directory, "layout.txt"), "w") as layout:
        layout.write(f"# captured by tools/capture-acpi-fixtures.py from QEMU: {' '.join(args)}\n")
        for sig, phys, length, data in tables:
            if len(data) != length:
                sys.exit(f"{name}: {sig} has {len(data)} bytes, expected {length}")
            with open(os.path.join(directory, f"{sig}.bin"), "wb") as f:
                f.write(data)
            layout.write(f"{sig} 0x{phys:x} {sig}.bin\n")
    print(f"{name}: {', '.join(t[0] for t in tables)} -> {directory}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--iso", default="build/warden-test.iso")
    args = parser.parse_args()
    for name, qemu_args in MACHINES.items():
        capture(args.iso, name, qemu_args)


if __name__ == "__main__":
    main()
