#!/bin/bash
# Bulk throughput of the tokio proxy's relays (bench/src/bin/tokio_proxy.rs:
# tokio, tokio64k, zcopy, tokio-splice) on a machine with many cores, where
# iperf3's two ends and the proxy each get cores of their own (on the
# 2-core development machines iperf3 takes the CPU the proxy saves, which
# caps every variant alike). Variants interleaved A B C D A B C D ...;
# per run: Gbit/s (iperf3's receiver) and the proxy's CPU seconds per GB
# (utime + stime from /proc before and after).
#
#   bash bench/tokio_bulk_manycore.sh BUNDLE OUT
#
# BUNDLE holds a static tokio-proxy and iperf3 with its shared libraries
# and ld-linux-x86-64.so.2, so it runs on a machine with no packages;
# bench/tokio_bulk_bundle.sh makes one. OUT receives results.txt.
set -u
B=$(cd "$1" && pwd)
O=$2
R=${ROUNDS:-3}
T=${SECONDS_PER_ROUND:-5}
MODES=${MODES:-tokio tokio64k zcopy tokio-splice}   # PS: the stream counts (default "1 8")
mkdir -p "$O"
res="$O/results.txt"
# CPUs of their own for iperf3's server, its client and the proxy, with
# taskset on a machine of 8 CPUs or more (taskset execs: $! is the program).
on() { # on CPUS: the command prefix
    if [ "$(nproc)" -ge 8 ] && command -v taskset >/dev/null; then echo "taskset -c $1"; fi
}
IPERF=("$B/ld-linux-x86-64.so.2" --library-path "$B" "$B/iperf3")
ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
hz=$(getconf CLK_TCK 2>/dev/null || echo 100)
echo "# $(date -u) $(uname -r) $(nproc) CPUs; load $(cat /proc/loadavg)" | tee "$res"
echo "# mode streams round gbit_s proxy_cpu_s_per_gb" | tee -a "$res"
$(on 0-1) "${IPERF[@]}" -s -p 5301 >/dev/null 2>&1 &
server=$!
sleep 0.5
port=5400
for P in ${PS:-1 8}; do
  for r in $(seq 1 "$R"); do
    for m in $MODES; do
      port=$((port + 1))
      $(on 4-7) "$B/tokio-proxy" "$m" "127.0.0.1:$port" "127.0.0.1:5301" 2>/dev/null &
      proxy=$!
      sleep 0.3
      t0=$(ticks "$proxy")
      json=$($(on 2-3) "${IPERF[@]}" -c 127.0.0.1 -p "$port" -t "$T" -P "$P" -J 2>/dev/null | tr -d ' \t\n')
      t1=$(ticks "$proxy")
      kill "$proxy" 2>/dev/null; wait "$proxy" 2>/dev/null
      sum=$(printf '%s' "$json" | grep -o '"sum_received":{[^}]*}')
      bytes=$(printf '%s' "$sum" | grep -o '"bytes":[0-9.e+]*' | cut -d: -f2)
      bps=$(printf '%s' "$sum" | grep -o '"bits_per_second":[0-9.e+]*' | cut -d: -f2)
      awk -v m="$m" -v p="$P" -v r="$r" -v b="${bytes:-0}" -v s="${bps:-0}" -v t="$((t1 - t0))" -v hz="$hz" \
        'BEGIN { printf "%s %d %d %.2f %.3f\n", m, p, r, s / 1e9, (b > 0 ? (t / hz) / (b / 1e9) : -1) }' | tee -a "$res"
    done
  done
done
kill "$server" 2>/dev/null
echo "# load at the end $(cat /proc/loadavg)" | tee -a "$res"
