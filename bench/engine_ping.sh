#!/bin/sh
# The engine's ping-pong figures against HAProxy (issue 15's first target),
# alone, in one run: 32 connections, 64 B and 4 KiB, medians of interleaved
# rounds, through HAProxy 2.6 (nbthread 1 and 2, splice-auto) and
# examples/engine_relay.c (1 and 2 engine threads); then system calls per
# round trip of the engine with 1 thread (strace -f -c, 64 B and 4 KiB).
# Run from the repository root on a quiet machine:
#   flock /tmp/zcopy-bench.lock sh bench/engine_ping.sh [PEERS_DIR]
# BEFORE=DIR adds a peer "engine-1-thread-before" run from DIR/engine_relay
# (e.g. built against an older libzcopy.so), so old and new are compared in
# the same run. Needs: apt-get install -y haproxy gcc python3 strace.
set -e
# The peer programs: bench/peers/ (written here), or a directory given.
A=${1:-$(cd "$(dirname "$0")" && pwd)/peers}
R=${ROUNDS:-3}
T=${SECONDS_PER_ROUND:-4}
cargo build --release --lib
OUT=target/release/bench-engine
mkdir -p "$OUT"
cc -std=c99 -O2 examples/engine_relay.c -Iinclude -Ltarget/release -lzcopy \
   -Wl,-rpath,"$PWD/target/release" -pthread -o "$OUT/engine_relay"
E="$OUT/engine_relay"
echo "# $(date -u) $(uname -r) $(nproc) CPUs; uptime: $(uptime)"
for size in 64 4096; do
  set -- "haproxy-nbthread1=$A/haproxy.sh {listen} {target} 1 auto" \
    "haproxy-nbthread2=$A/haproxy.sh {listen} {target} 2 auto" \
    "engine-1-thread=$E {listen_port} {target_port} 1" \
    "engine-2-threads=$E {listen_port} {target_port} 2"
  [ -n "$BEFORE" ] && set -- "$@" "engine-1-thread-before=$BEFORE/engine_relay {listen_port} {target_port} 1"
  python3 "$A/pingbench.py" -n 32 -s $size -t "$T" -r "$R" "$@"
done
# System calls per round trip (the engine, 1 thread, under strace: slower,
# so only the counts mean anything).
PP=$(mktemp -d)
gcc -O2 -o "$PP/client" "$A/pingpong_client.c"
gcc -O2 -o "$PP/server" "$A/pingpong_server.c"
for size in 64 4096; do
  for bin in "$E" ${BEFORE:+"$BEFORE/engine_relay"}; do
    "$PP/server" 19311 & S=$!
    sleep 0.2
    strace -f -c -o "$PP/strace.txt" "$bin" 19312 19311 1 2>/dev/null & P=$!
    sleep 0.5
    rt=$(timeout 30 "$PP/client" 19312 32 $size 3 | cut -d' ' -f1)
    # SIGTERM to the traced relay (it stops cleanly, and strace writes its
    # summary): a background strace of a script ignores SIGINT.
    kill $(pgrep -P $P) 2>/dev/null || true; wait $P || true
    kill $S; wait $S 2>/dev/null || true
    echo "# strace $bin, $size B: $rt round trips; calls per round trip:"
    awk -v rt="$rt" '$NF ~ /^(splice|read|write|recvfrom|sendto|epoll_wait|epoll_ctl)$/ {
        printf "#   %-10s %6.2f\n", $NF, $4 / rt }' "$PP/strace.txt"
  done
done
rm -rf "$PP"
echo "# uptime at the end: $(uptime)"
