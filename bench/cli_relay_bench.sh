#!/bin/sh
# `zcopy relay` (the CLI port forwarder) beside socat and HAProxy 2.6, in one
# run (issue 15, "Python and the CLI"): iperf3 with 1 and 8 streams, and
# ping-pong of 64 B messages over 32 connections, relays interleaved A B C ...
# Run from the repository root on a quiet machine (uptime load below 1.5):
#   sh bench/cli_relay_bench.sh [PEERS_DIR] > bench/results/cli-relay-run.txt
# Needs: apt-get install -y haproxy iperf3 socat gcc python3
set -e
# The peer programs: bench/peers/ (written here), or a directory given.
A=${1:-$(cd "$(dirname "$0")" && pwd)/peers}
R=${ROUNDS:-3}
cargo build --release -p zcopy-cli
Z="$PWD/target/release/zcopy"
SOCAT="socat TCP-LISTEN:{listen_port},bind=127.0.0.1,reuseaddr,fork TCP:{target}"
echo "# $(date -u) $(uname -r) $(nproc) CPUs; load: $(cat /proc/loadavg)"
echo "# $(socat -V | sed -n 2p); $(haproxy -v | head -1)"
for P in 1 8; do
  python3 "$A/relaybench.py" -P $P -t 5 -r "$R" \
    "zcopy-relay-thread-per-conn=$Z relay {listen} {target}" \
    "zcopy-relay-threads1=$Z relay --threads 1 {listen} {target}" \
    "zcopy-relay-threads2=$Z relay --threads 2 {listen} {target}" \
    "socat=$SOCAT" \
    "haproxy-force-nbthread2=$A/haproxy.sh {listen} {target} 2 force"
done
python3 "$A/pingbench.py" -n 32 -s 64 -t 4 -r "$R" \
  "zcopy-relay-thread-per-conn=$Z relay {listen} {target}" \
  "zcopy-relay-threads1=$Z relay --threads 1 {listen} {target}" \
  "zcopy-relay-threads2=$Z relay --threads 2 {listen} {target}" \
  "socat=$SOCAT" \
  "haproxy-nbthread1=$A/haproxy.sh {listen} {target} 1 auto"
echo "# load at the end: $(cat /proc/loadavg)"
