#!/bin/sh
# zcopy::tokio beside tokio's own relays (issue 21), in one run: a tokio
# TCP proxy (bench/src/bin/tokio_proxy.rs, the same program for every
# variant) on
#   tokio::io::copy_bidirectional                 (tokio, 8 KiB buffers)
#   tokio::io::copy_bidirectional_with_sizes 64K  (tokio64k)
#   zcopy::tokio::copy_bidirectional              (zcopy)
#   tokio_splice::zero_copy_bidirectional 0.2.1   (tokio-splice, crates.io)
#   zcopy on the streams taken out of the reactor (zcopy-std: what the
#   second registration of each fd costs, src/tokio/ready.rs)
# measured with iperf3 (1 stream, then -P 8: Gbit/s and the proxy's CPU
# s/GB) and ping-pong (32 connections, 64 B and 4 KiB: round trips/s and
# CPU us per round trip), variants interleaved A B C D A B C D ..., medians.
# Run from the repository root:
#   sh bench/tokio_bench.sh [PEERS_DIR] > bench/results/tokio-run.txt
# Needs: apt-get install -y iperf3 gcc python3; the drivers relaybench.py
# and pingbench.py from bench/peers (written here; PEERS_DIR overrides).
set -e
A=${1:-bench/peers}
R=${ROUNDS:-3}
T=${SECONDS_PER_ROUND:-4}
cargo build --release -p zcopy-bench --bin tokio-proxy
P="$PWD/target/release/tokio-proxy"
echo "# $(date -u) $(uname -r) $(nproc) CPUs; load: $(cat /proc/loadavg)"
set -- "tokio=$P tokio {listen} {target}" \
  "tokio64k=$P tokio64k {listen} {target}" \
  "zcopy=$P zcopy {listen} {target}" \
  "tokio-splice=$P tokio-splice {listen} {target}" \
  "zcopy-std=$P zcopy-std {listen} {target}"
echo "## iperf3, 1 stream"
python3 "$A/relaybench.py" -t "$T" -r "$R" -P 1 "$@"
echo "## iperf3 -P 8"
python3 "$A/relaybench.py" -t "$T" -r "$R" -P 8 "$@"
for size in 64 4096; do
  echo "## ping-pong, 32 connections, $size B"
  python3 "$A/pingbench.py" -n 32 -s $size -t "$T" -r "$R" "$@"
done
echo "# load at the end: $(cat /proc/loadavg)"
