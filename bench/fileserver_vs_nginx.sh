#!/bin/bash
# examples/fileserver.c beside nginx, in one run, on loopback:
# - 4 KiB: wrk -t2 -c32 -d10s on one 4 KiB file (requests/s);
# - 1 GiB: curl of one 1 GiB file, CURLS downloads in a row (GB/s);
# each server in turn (A B C A B C ...), ROUNDS rounds, medians printed,
# with each server's CPU seconds (utime + stime from /proc/PID/stat, the
# whole process tree: nginx's master and workers) per request and per GB.
#
# Servers:
# - nginx: worker_processes auto (one per CPU), sendfile on, tcp_nopush on,
#   access_log off, keepalive_requests 1000000 (its default, 1000, would
#   make wrk reconnect every 1000 requests; the fileserver has no limit);
# - fileserver: examples/fileserver.c as committed, defaults (one event loop
#   per CPU; bodies up to 16 KiB pread + one send);
# - fileserver-s0: the same with -s 0 (every body through
#   zcopy_sendfile_at_opts with ZCOPY_OPT_NOWAIT).
# Both fileservers link target/release/libzcopy.so.
#
# Then, unless STRACE=0 (or strace is missing), system calls per request:
# strace -f -c attached to each server's processes over a wrk -d3s of the
# 4 KiB file (calls / requests), and over one 1 GiB download (calls per
# 2 MiB chunk, 512 of them).
#
#   bash bench/fileserver_vs_nginx.sh        (ROUNDS=3 CURLS=3 WRK_SECS=10 STRACE=1)
# Run it under the machine's benchmark lock:
#   flock /tmp/zcopy-bench.lock bash bench/fileserver_vs_nginx.sh
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=${ROUNDS:-3}
CURLS=${CURLS:-3}
WRK_SECS=${WRK_SECS:-10}
for t in nginx wrk curl gcc python3; do
    command -v "$t" >/dev/null || { echo "needs $t (apt-get install -y nginx wrk curl)" >&2; exit 1; }
done
out=$(mktemp -d /tmp/fileserver-bench.XXXXXX)
chmod 755 "$out" # nginx's workers run as nobody
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    wait 2>/dev/null || true
    rm -rf "$out"
}
trap cleanup EXIT

cargo build --release --lib -q
mkdir -p "$out/lib" "$out/www"
ln -s "$PWD/target/release/libzcopy.so" "$out/lib/libzcopy.so"
ln -s "$PWD/target/release/libzcopy.so" "$out/lib/libzcopy.so.0"
gcc -std=c99 -O2 -Iinclude examples/fileserver.c -o "$out/fileserver" \
    -L"$out/lib" -lzcopy -lpthread -Wl,-rpath,"$out/lib"
head -c 4096 /dev/urandom > "$out/www/4k.bin"
head -c $((${BIG_MB:-1024} << 20)) /dev/urandom > "$out/www/1g.bin" # written: in the page cache
chmod -R a+rX "$out/www"

nginx_port=18480
cat > "$out/nginx.conf" <<EOF
worker_processes auto;
daemon off;
pid $out/nginx.pid;
error_log $out/nginx-error.log;
events { worker_connections 4096; }
http {
    access_log off;
    sendfile on;
    tcp_nopush on;
    keepalive_requests 1000000;
    client_body_temp_path $out/tmp-body;
    proxy_temp_path $out/tmp-proxy;
    fastcgi_temp_path $out/tmp-fcgi;
    uwsgi_temp_path $out/tmp-uwsgi;
    scgi_temp_path $out/tmp-scgi;
    server {
        listen 127.0.0.1:$nginx_port;
        root $out/www;
    }
}
EOF
nginx -p "$out" -c "$out/nginx.conf" -e "$out/nginx-error.log" &
pids+=($!)
declare -A pid_of port_of
pid_of[nginx]=$!
port_of[nginx]=$nginx_port

start_fileserver() { # name, extra args...
    local name=$1
    shift
    "$out/fileserver" "$@" "$out/www" 0 2> "$out/$name.log" &
    pids+=($!)
    pid_of[$name]=$!
    for _ in $(seq 100); do
        grep -q '127.0.0.1:' "$out/$name.log" 2>/dev/null && break
        sleep 0.05
    done
    port_of[$name]=$(sed -n 's/.*127\.0\.0\.1:\([0-9]*\).*/\1/p' "$out/$name.log" | head -1)
}
start_fileserver fileserver
start_fileserver fileserver-s0 -s 0
servers=(nginx fileserver fileserver-s0)
for _ in $(seq 100); do
    curl -sf -o /dev/null "http://127.0.0.1:$nginx_port/4k.bin" && break
    sleep 0.05
done

# CPU ticks (utime + stime) of a process and all its descendants.
tree_ticks() {
    local total=0 p line rest kid
    local -a f
    for p in "$@"; do
        line=$(cat "/proc/$p/stat" 2>/dev/null) || continue
        rest=${line##*) }
        read -r -a f <<< "$rest"
        total=$((total + f[11] + f[12]))
        for kid in $(pgrep -P "$p"); do
            total=$((total + $(tree_ticks "$kid")))
        done
    done
    echo "$total"
}
hz=$(getconf CLK_TCK)

for s in "${servers[@]}"; do # warm up: every file once, a short wrk
    url="http://127.0.0.1:${port_of[$s]}"
    curl -sf -o /dev/null "$url/1g.bin"
    [ "$(curl -s "$url/4k.bin" | cmp - "$out/www/4k.bin" && echo same)" = same ] || { echo "$s: wrong body" >&2; exit 1; }
    wrk -t2 -c32 -d2s "$url/4k.bin" > /dev/null
done

echo "load before: $(uptime)"
res="$out/results.txt"
: > "$res"
for r in $(seq "$ROUNDS"); do
    for s in "${servers[@]}"; do
        url="http://127.0.0.1:${port_of[$s]}"
        t0=$(tree_ticks "${pid_of[$s]}")
        w=$(wrk -t2 -c32 -d"${WRK_SECS}s" "$url/4k.bin")
        t1=$(tree_ticks "${pid_of[$s]}")
        reqs=$(awk '/requests in/ {print $1}' <<< "$w")
        rps=$(awk '/Requests\/sec/ {print $2}' <<< "$w")
        errs=$(grep -c 'Non-2xx\|Socket errors' <<< "$w" || true)
        echo "4k $s $r $rps $reqs $((t1 - t0)) $errs" | tee -a "$res"
    done
    for s in "${servers[@]}"; do
        url="http://127.0.0.1:${port_of[$s]}"
        t0=$(tree_ticks "${pid_of[$s]}")
        bytes=0
        secs=0
        for _ in $(seq "$CURLS"); do
            read -r b t <<< "$(curl -sf -o /dev/null -w '%{size_download} %{time_total}' "$url/1g.bin")"
            bytes=$((bytes + b))
            secs=$(python3 -c "print($secs + $t)")
        done
        t1=$(tree_ticks "${pid_of[$s]}")
        echo "1g $s $r $bytes $secs $((t1 - t0))" | tee -a "$res"
    done
done
echo "load after: $(uptime)"

# strace -c of one server's processes (nginx: its workers) while CMD runs;
# prints "calls syscall" lines, the busiest first.
strace_counts() { # server, file for the table, command...
    local s=$1 table=$2 p
    shift 2
    local -a attach=()
    for p in ${pid_of[$s]} $(pgrep -P "${pid_of[$s]}" || true); do attach+=(-p "$p"); done
    strace -f -c -o "$table" "${attach[@]}" 2>/dev/null &
    local st=$!
    sleep 0.5
    "$@"
    kill -INT "$st" 2>/dev/null || true
    wait "$st" 2>/dev/null || true
}
if [ "${STRACE:-1}" != 0 ] && command -v strace >/dev/null; then
    echo
    echo "system calls per 4 KiB request (wrk -t2 -c32 -d3s under strace -f -c) and per 2 MiB chunk of 1 GiB:"
    for s in "${servers[@]}"; do
        url="http://127.0.0.1:${port_of[$s]}"
        strace_counts "$s" "$out/strace-4k-$s" sh -c "wrk -t2 -c32 -d3s '$url/4k.bin' > '$out/wrk-strace-$s'"
        n=$(awk '/requests in/ {print $1}' "$out/wrk-strace-$s")
        strace_counts "$s" "$out/strace-1g-$s" curl -sf -o /dev/null "$url/1g.bin"
        python3 - "$s" "$n" "$out/strace-4k-$s" "$out/strace-1g-$s" "$((${BIG_MB:-1024} / 2))" <<'PY'
import sys
s, n, f4, f1, chunks = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], int(sys.argv[5])
def counts(path):
    out = {}
    for line in open(path):
        f = line.split()
        # "% time seconds usecs/call calls [errors] syscall"
        if len(f) >= 5 and f[0][0].isdigit() and f[-1] != "total":
            out[f[-1]] = int(f[3])
    return out
for what, path, per in (("4k, per request", f4, n), ("1g, per 2 MiB chunk", f1, chunks)):
    c = counts(path)
    total = sum(c.values()) / max(per, 1)
    top = ", ".join(f"{k} {v / max(per, 1):.2f}" for k, v in sorted(c.items(), key=lambda kv: -kv[1])[:8])
    print(f"  {s} {what}: {total:.2f} calls ({top})")
PY
    done
fi

python3 - "$res" "$hz" "${servers[@]}" <<'EOF'
import statistics, sys
path, hz, servers = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
rows = [l.split() for l in open(path)]
med = statistics.median
print()
print("| server | 4 KiB req/s (median) | CPU us/request | 1 GiB GB/s (median) | CPU s/GB |")
print("| --- | ---: | ---: | ---: | ---: |")
base = {}
for s in servers:
    k4 = [r for r in rows if r[0] == "4k" and r[1] == s]
    g1 = [r for r in rows if r[0] == "1g" and r[1] == s]
    rps = med(float(r[3]) for r in k4)
    us = med(int(r[5]) / hz / int(r[4]) * 1e6 for r in k4)
    gbs = med(int(r[3]) / 1e9 / float(r[4]) for r in g1)
    spg = med(int(r[5]) / hz / (int(r[3]) / 1e9) for r in g1)
    base.setdefault("v", (rps, us, gbs, spg))
    b = base["v"]
    print(f"| {s} | {rps:,.0f} ({rps / b[0]:.2f}x) | {us:.2f} ({us / b[1]:.2f}x) "
          f"| {gbs:.2f} ({gbs / b[2]:.2f}x) | {spg:.3f} ({spg / b[3]:.2f}x) |")
print()
print("ratios against the first row (nginx). Raw rows (kind server round ...):")
for r in rows:
    print("   ", " ".join(r))
EOF
