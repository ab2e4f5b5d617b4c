#!/bin/sh
# The pool past pipe-user-pages-soft, before and after (bench/results/pipesoft.md).
#
# Builds libzcopy at OLD_REV (default f01beb9: the pool that closed every
# pipe the kernel refused to grow, 1 MiB for every pipe) and at the working
# tree, and examples/engine_relay.c and bench/engine_hold.c against each,
# then runs, old and new interleaved in one run:
#   iperf3 -P 8 through the engine (2 threads) as uid 65534, with that
#   user's pipe pages free, and used up by a holder process (so every pipe
#   the engine gets is 8 KiB: "past-soft");
#   engine_hold 10 000 relays, 1% active, 64 KiB each way: as root, as uid
#   65534, as uid 65534 past the soft limit;
#   engine_hold 10 000 relays with 1 000 active x 256 KiB as uid 65534, and
#   2 000 relays with 1 000 active x 1 MiB and a slow reader (destinations
#   fill up, so directions hold pipes with bytes in flight);
#   iperf3 -P 128 through the engine as uid 65534 (up to 256 busy
#   directions).
# Run from the repository root, under the benchmark lock, on a quiet machine:
#   flock /tmp/zcopy-bench.lock sh bench/pipesoft_bench.sh [PEERS_DIR] > bench/results/pipesoft-run.txt
# Needs: iperf3, python3 (/usr/bin/python3 for the uid 65534 holder), cc,
# setpriv (util-linux), git.
set -e
# The peer programs: bench/peers/ (written here), or a directory given.
A=${1:-$(cd "$(dirname "$0")" && pwd)/peers}
R=${ROUNDS:-3}
OLD_REV=${OLD_REV:-f01beb9}
OUT=$PWD/target/release/bench-pipesoft
OLD=$OUT/old-$OLD_REV
mkdir -p "$OUT"
if [ ! -f "$OLD/target/release/libzcopy.so" ]; then
  rm -rf "$OLD" && mkdir -p "$OLD"
  git archive "$OLD_REV" | tar -x -C "$OLD"
  (cd "$OLD" && CARGO_TARGET_DIR="$OLD/target" cargo build --release -p zcopy --lib >&2)
fi
cargo build --release -p libzcopy --lib >&2
for v in old new; do
  if [ $v = old ]; then L=$OLD/target/release; I=$OLD/include; else L=$PWD/target/release; I=$PWD/include; fi
  ln -sf libzcopy.so "$L/libzcopy.so.0"
  cc -std=c99 -O2 examples/engine_relay.c -I"$I" -L"$L" -lzcopy -Wl,-rpath,"$L" -pthread -o "$OUT/engine_relay-$v"
  cc -std=c99 -O2 bench/engine_hold.c -I"$I" -L"$L" -lzcopy -Wl,-rpath,"$L" -pthread -o "$OUT/engine_hold-$v"
done
chmod 755 "$OUT" "$OUT"/* 2>/dev/null || true
NOBODY="setpriv --reuid=65534 --regid=65534 --clear-groups"
echo "# $(date -u) $(uname -r) $(nproc) CPUs; uptime: $(uptime)"
echo "# old: $OLD_REV; new: $(git rev-parse --short HEAD)$(git diff --quiet HEAD -- src || echo ' + uncommitted changes')"

hold() { # past-soft holder as uid 65534; prints what a new pipe then gets
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
  sleep 1
}
HOLDER=
trap '[ -n "$HOLDER" ] && kill $HOLDER 2>/dev/null' EXIT

echo "## iperf3 -P 8 through the engine (2 threads), uid 65534, pipe pages free"
python3 "$A/relaybench.py" -P 8 -t 5 -r "$R" \
  "old-uid65534=$NOBODY $OUT/engine_relay-old {listen_port} {target_port} 2" \
  "new-uid65534=$NOBODY $OUT/engine_relay-new {listen_port} {target_port} 2"
echo "## iperf3 -P 8 through the engine (2 threads), uid 65534, past pipe-user-pages-soft"
hold
python3 "$A/relaybench.py" -P 8 -t 5 -r "$R" \
  "old-uid65534-past-soft=$NOBODY $OUT/engine_relay-old {listen_port} {target_port} 2" \
  "new-uid65534-past-soft=$NOBODY $OUT/engine_relay-new {listen_port} {target_port} 2"
kill $HOLDER; wait $HOLDER 2>/dev/null || true; HOLDER=
echo "## iperf3 -P 128 through the engine (2 threads), uid 65534, pipe pages free"
python3 "$A/relaybench.py" -P 128 -t 5 -r "$R" \
  "old-uid65534-P128=$NOBODY $OUT/engine_relay-old {listen_port} {target_port} 2" \
  "new-uid65534-P128=$NOBODY $OUT/engine_relay-new {listen_port} {target_port} 2"

for args in "" "65534" "65534 1"; do
  for v in old new; do
    echo "## engine_hold-$v 10000 100 65536 10 2 $args"
    "$OUT/engine_hold-$v" 10000 100 65536 10 2 $args || echo "# exit status $?"
  done
done
for v in old new; do
  echo "## engine_hold-$v 10000 1000 262144 10 2 65534"
  "$OUT/engine_hold-$v" 10000 1000 262144 10 2 65534 || echo "# exit status $?"
done
for v in old new; do
  echo "## engine_hold-$v 2000 1000 1048576 6 2 65534 0 2048   (slow reader: 2 KiB per connection per turn)"
  "$OUT/engine_hold-$v" 2000 1000 1048576 6 2 65534 0 2048 || echo "# exit status $?"
done
echo "# uptime at the end: $(uptime)"
