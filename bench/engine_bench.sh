#!/bin/sh
# The engine's side-by-side benchmark (issue 15), in one run:
#   ping-pong 32 connections, 64 B and 4 KiB, through HAProxy 2.6 (nbthread
#   1 and 2) and examples/engine_relay.c (1 and 2 engine threads, and as uid
#   65534 past pipe-user-pages-soft);
#   iperf3 -P 8 through HAProxy (splice forced, and splice-auto) and the
#   engine (the same variants);
#   10 000 relays held with 1% active, as root and as uid 65534 (also past
#   pipe-user-pages-soft).
# Run from the repository root on a quiet machine (uptime load below 1.5):
#   sh bench/engine_bench.sh [PEERS_DIR] > bench/results/engine-run.txt
# Needs: apt-get install -y haproxy iperf3 gcc python3 (and setpriv, util-linux)
set -e
# The peer programs: bench/peers/ (written here), or a directory given.
A=${1:-$(cd "$(dirname "$0")" && pwd)/peers}
R=${ROUNDS:-3}
cargo build --release
OUT=target/release/bench-engine
mkdir -p "$OUT"
LIB="-Iinclude -Ltarget/release -lzcopy -Wl,-rpath,$PWD/target/release -pthread"
cc -std=c99 -O2 examples/engine_relay.c $LIB -o "$OUT/engine_relay"
cc -std=c99 -O2 bench/engine_hold.c $LIB -o "$OUT/engine_hold"
E="$OUT/engine_relay"
NOBODY="setpriv --reuid=65534 --regid=65534 --clear-groups"
echo "# $(date -u) $(uname -r) $(nproc) CPUs; load: $(cat /proc/loadavg)"

# uid 65534's pipe-user-pages-soft is used up by a holder process for the
# "past-soft" variants, so every pipe the engine gets there is 2 pages.
$NOBODY /usr/bin/python3 -c '
import fcntl, os, time
held = []
while len(held) < 1000:
    r, w = os.pipe(); held.append((r, w))
    try: fcntl.fcntl(w, 1031, 1 << 20)   # F_SETPIPE_SZ
    except OSError: break
r, w = os.pipe()
print("# uid 65534 holds %d pipes; a new one gets %d bytes" % (len(held), fcntl.fcntl(w, 1032)), flush=True)
time.sleep(100000)' &
HOLDER=$!
trap 'kill $HOLDER 2>/dev/null' EXIT
sleep 1

for size in 64 4096; do
  python3 "$A/pingbench.py" -n 32 -s $size -t 4 -r "$R" \
    "haproxy-nbthread1=$A/haproxy.sh {listen} {target} 1 auto" \
    "haproxy-nbthread2=$A/haproxy.sh {listen} {target} 2 auto" \
    "engine-1-thread=$E {listen_port} {target_port} 1" \
    "engine-2-threads=$E {listen_port} {target_port} 2" \
    "engine-1-thread-past-soft=$NOBODY $E {listen_port} {target_port} 1"
done
python3 "$A/relaybench.py" -P 8 -t 5 -r "$R" \
  "haproxy-force-nbthread1=$A/haproxy.sh {listen} {target} 1 force" \
  "haproxy-force-nbthread2=$A/haproxy.sh {listen} {target} 2 force" \
  "haproxy-auto-nbthread1=$A/haproxy.sh {listen} {target} 1 auto" \
  "engine-1-thread=$E {listen_port} {target_port} 1" \
  "engine-2-threads=$E {listen_port} {target_port} 2" \
  "engine-2-threads-64k-pipes=$E {listen_port} {target_port} 2 65536" \
  "engine-2-threads-past-soft=$NOBODY $E {listen_port} {target_port} 2"
kill $HOLDER || true
"$OUT/engine_hold" 10000 100 65536 10 2
"$OUT/engine_hold" 10000 100 65536 10 2 65534
"$OUT/engine_hold" 10000 100 65536 10 2 65534 1
echo "# load at the end: $(cat /proc/loadavg)"
