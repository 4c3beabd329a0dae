#!/bin/sh
# tools/run.sh - `make run`: boots Warden with its e1000e NIC on
# -netdev dgram to tools/netrelay.py, a host on 127.0.0.1 that stands at
# 10.0.2.2 (ARP, DHCP, pings) and relays UDP between 127.0.0.1:NET_PORT
# and the guest's echo service on port 7 (docs/network.md: QEMU's user
# network cannot carry the guest's UDP back under restrict=on). Nothing
# leaves this machine; QEMU's command line goes through qemu_netsafety.py.
# Usage: tools/run.sh NET_PORT QEMU-ARGUMENTS...
set -eu
port=$1
shift
set -- $(python3 tools/netrelay.py --free-ports) "$@"
qemu_port=$1 relay_port=$2
shift 2
python3 tools/netrelay.py --port "$port" --qemu-port "$qemu_port" --relay-port "$relay_port" &
relay=$!
trap 'kill $relay 2>/dev/null || true' EXIT INT TERM
sleep 0.3
if ! kill -0 $relay 2>/dev/null; then
    echo "make run: the network relay did not start (is 127.0.0.1:$port taken? make run NET_PORT=...)" >&2
    exit 1
fi
echo "Warden's UDP echo: nc -u 127.0.0.1 $port (from another terminal)"
python3 tools/qemu_netsafety.py qemu-system-x86_64 "$@" \
    -netdev dgram,id=n0,local.type=inet,local.host=127.0.0.1,local.port=$qemu_port,remote.type=inet,remote.host=127.0.0.1,remote.port=$relay_port \
    -device e1000e,netdev=n0,romfile=,mac=52:54:00:12:34:56
