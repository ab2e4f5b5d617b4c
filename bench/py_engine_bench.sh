#!/bin/sh
# The Python proxy on the engine against the C program on the engine (issue
# 15, "Python and the CLI"): ping-pong, 32 connections, 64 B and 4 KiB,
# medians of interleaved rounds (A B A B ...), round trips/s and the relay
# process tree's CPU microseconds per round trip.
#   C:      examples/engine_relay.c                 LISTEN TARGET THREADS
#   Python: bindings/python/examples/engine_proxy.py LISTEN TARGET THREADS
# (an asyncio accept loop handing each pair to zcopy.Engine), both on the
# release libzcopy, each with 1 and 2 engine threads.
# Run from the repository root on a quiet machine (uptime load below 1.5),
# alone:
#   flock /tmp/zcopy-bench.lock sh bench/py_engine_bench.sh [PEERS_DIR]
# Needs: gcc, python3 (pingbench.py builds its own client and echo server).
set -e
# The peer programs: bench/peers/ (written here), or a directory given.
A=${1:-$(cd "$(dirname "$0")" && pwd)/peers}
R=${ROUNDS:-3}
T=${SECONDS_PER_ROUND:-4}
cargo build --release -p libzcopy
OUT=target/release/bench-py-engine
mkdir -p "$OUT"
cc -std=c99 -O2 examples/engine_relay.c -Iinclude -Ltarget/release -lzcopy \
  -Wl,-rpath,"$PWD/target/release" -pthread -o "$OUT/engine_relay"
C="$OUT/engine_relay"
PY="env ZCOPY_LIBRARY=$PWD/target/release/libzcopy.so PYTHONPATH=$PWD/bindings/python/src python3 $PWD/bindings/python/examples/engine_proxy.py"
echo "# $(date -u) $(uname -r) $(nproc) CPUs; $(python3 -V); load: $(cat /proc/loadavg)"
for size in 64 4096; do
  python3 "$A/pingbench.py" -n 32 -s $size -t "$T" -r "$R" \
    "c-engine-1-thread=$C {listen_port} {target_port} 1" \
    "py-engine-1-thread=$PY {listen_port} {target_port} 1" \
    "c-engine-2-threads=$C {listen_port} {target_port} 2" \
    "py-engine-2-threads=$PY {listen_port} {target_port} 2"
  echo "# load after: $(cat /proc/loadavg)"
done
