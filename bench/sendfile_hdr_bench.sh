#!/bin/bash
# examples/fileserver.c before and after zcopy_sendfile_hdr (issue 23), in
# one run, on loopback: requests/s from wrk -t2 -c32 for a 4 KiB and a
# 64 KiB file, servers interleaved (before, after, before, after, ...),
# ROUNDS rounds, medians and the after/before ratio of the medians.
#
# - before: examples/fileserver.c at BEFORE (default: the commit before the
#   one that made it call zcopy_sendfile_hdr): headers by send(MSG_MORE),
#   body by zcopy_sendfile_at_opts;
# - after: examples/fileserver.c as in the working tree: headers and the
#   body's first chunk in one zcopy_sendfile_hdr call.
# Both run with -s 0 (every body through the library; with the default -s
# 16384 a 4 KiB body is read into the header's buffer and neither calls
# zcopy) and -t 1 (one event loop: wrk gets the other core), and link the
# same target/release/libzcopy.so.
#
#   bash bench/sendfile_hdr_bench.sh          (ROUNDS=5 WRK_SECS=5)
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=${ROUNDS:-5}
WRK_SECS=${WRK_SECS:-5}
BEFORE=${BEFORE:-$(git log --format=%H -1 --grep='one zcopy_sendfile_hdr call' -- examples/fileserver.c)~1}
for t in wrk curl gcc; do
    command -v "$t" >/dev/null || { echo "needs $t (apt-get install -y wrk curl gcc)" >&2; exit 1; }
done
out=$(mktemp -d /tmp/sendfile-hdr-bench.XXXXXX)
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    wait 2>/dev/null || true
    rm -rf "$out"
}
trap cleanup EXIT

cargo build --release --lib -q
mkdir -p "$out/lib" "$out/www" "$out/before/fileserver"
ln -s "$PWD/target/release/libzcopy.so" "$out/lib/libzcopy.so"
ln -s "$PWD/target/release/libzcopy.so" "$out/lib/libzcopy.so.0"
for f in fileserver.c fileserver/files.h fileserver/http.h; do
    git show "$BEFORE:examples/$f" > "$out/before/$f"
done
build() { # source, binary
    gcc -std=c99 -O2 -Iinclude "$1" -o "$2" -L"$out/lib" -lzcopy -lpthread -Wl,-rpath,"$out/lib"
}
build "$out/before/fileserver.c" "$out/fs-before"
build examples/fileserver.c "$out/fs-after"
head -c 4096 /dev/urandom > "$out/www/4k.bin"
head -c 65536 /dev/urandom > "$out/www/64k.bin"

declare -A port_of
start() { # name
    "$out/fs-$1" -t 1 -s 0 "$out/www" 0 2> "$out/$1.log" &
    pids+=($!)
    for _ in $(seq 100); do
        grep -q '127.0.0.1:' "$out/$1.log" 2>/dev/null && break
        sleep 0.05
    done
    port_of[$1]=$(sed -n 's/.*127\.0\.0\.1:\([0-9]*\).*/\1/p' "$out/$1.log" | head -1)
}
start before
start after
for s in before after; do # bodies right, then a warm-up
    for f in 4k.bin 64k.bin; do
        curl -sf "http://127.0.0.1:${port_of[$s]}/$f" | cmp - "$out/www/$f" || { echo "$s: wrong $f" >&2; exit 1; }
    done
    wrk -t2 -c32 -d1s "http://127.0.0.1:${port_of[$s]}/4k.bin" > /dev/null
done

echo "before: $BEFORE ($(git log --format=%s -1 "$BEFORE" | cut -c1-60))"
echo "load before the run: $(uptime)"
res="$out/results.txt"
: > "$res"
for r in $(seq "$ROUNDS"); do
    for f in 4k.bin 64k.bin; do
        for s in before after; do
            w=$(wrk -t2 -c32 -d"${WRK_SECS}s" "http://127.0.0.1:${port_of[$s]}/$f")
            rps=$(awk '/Requests\/sec/ {print $2}' <<< "$w")
            errs=$(grep -c 'Non-2xx\|Socket errors' <<< "$w" || true)
            echo "$f $s $r $rps $errs" | tee -a "$res"
        done
    done
done
echo "load after the run: $(uptime)"
echo
echo "| file | before req/s (median) | after req/s (median) | after/before | runs with errors |"
echo "| --- | --- | --- | --- | --- |"
for f in 4k.bin 64k.bin; do
    med() { awk -v f="$f" -v s="$1" '$1 == f && $2 == s {print $4}' "$res" | sort -g | awk '{a[NR] = $1} END {print a[int((NR + 1) / 2)]}'; }
    b=$(med before)
    a=$(med after)
    e=$(awk -v f="$f" '$1 == f && $5 > 0' "$res" | wc -l)
    printf '| %s | %.0f | %.0f | %.3f | %s |\n' "$f" "$b" "$a" "$(awk -v a="$a" -v b="$b" 'BEGIN {print a / b}')" "$e"
done
