#!/bin/bash
# The plain call path against raw splice(2) (issue 15): 4 KiB a call over
# TCP loopback, bench/callpath.c (raw splice with a kept pipe, zcopy_splice,
# zcopy_copy; SIGPIPE ignored / default; non-blocking / blocking fds), then
# the system calls per call of each variant and mode from `strace -f -c`
# (the difference between a run of 2N and one of N calls, divided by N, so
# set-up and the warm-up do not count).
#
#   flock /tmp/zcopy-bench.lock bash bench/callpath.sh     (CALLS=20000 ROUNDS=7 SIZE=4096 PIN=1)
#   LIB=/path/to/libzcopy.so ...                            (another build, e.g. an older commit)
#   BEFORE=/path/to/old/libzcopy.so ...                     (also that build's calls, interleaved in
#                                                            the same run: the splice-b, copy-b rows)
set -euo pipefail
cd "$(dirname "$0")/.."
CALLS=${CALLS:-20000}
ROUNDS=${ROUNDS:-7}
PIN=${PIN-1}   # PIN= (empty): no pinning; else main on CPU 0, writer and reader on CPU 1
SIZE=${SIZE:-4096}
TRACE_N=${TRACE_N:-2000}
if [ -z "${LIB:-}" ]; then
    cargo build --release --lib -q
    LIB=$PWD/target/release/libzcopy.so
fi
out=$(mktemp -d /tmp/callpath-bench.XXXXXX)
trap 'rm -rf "$out"' EXIT
ln -s "$LIB" "$out/libzcopy.so"
ln -s "$LIB" "$out/libzcopy.so.0"
gcc -O2 -Wall -Wextra -Iinclude bench/callpath.c -o "$out/callpath" \
    -L"$out" -lzcopy -Wl,-rpath,"$out" -lpthread -ldl

echo "library: $LIB (checkout at $(git rev-parse --short HEAD)$(git diff --quiet -- src || echo ', src changed'))"
[ -n "${BEFORE:-}" ] && echo "-b rows: $BEFORE"
echo "load before: $(uptime)"
"$out/callpath" -n "$CALLS" -r "$ROUNDS" -s "$SIZE" ${PIN:+-p} ${BEFORE:+-b "$BEFORE"}
echo "load after: $(uptime)"

if ! command -v strace >/dev/null; then
    if [ "$(id -u)" = 0 ]; then apt-get install -y -q strace >/dev/null; else
        echo "strace missing: system call counts skipped"; exit 0; fi
fi
echo
echo "System calls per call (strace -f -c; sendto/recvfrom are the writer and reader threads):"
echo
counts() { # variant mode calls -> "name count" lines
    strace -f -c -o "$out/trace" "$out/callpath" -s "$SIZE" ${BEFORE:+-b "$BEFORE"} -t "$1" "$2" "$3" >/dev/null
    awk '$1 ~ /^[0-9.]+$/ && NF >= 5 { print $NF, $4 }' "$out/trace"
}
for mode in ign-nb ign-blk dfl-nb dfl-blk; do
    for v in raw raw+3 splice copy ${BEFORE:+splice-b copy-b}; do
        counts "$v" "$mode" "$TRACE_N" >"$out/a"
        counts "$v" "$mode" $((TRACE_N * 2)) >"$out/b"
        line=$(awk -v n="$TRACE_N" '
            NR == FNR { a[$1] = $2; next }
            { d = ($2 - a[$1]) / n; if ($1 != "sendto" && $1 != "recvfrom" && $1 != "total" && d >= 0.05) { s = s sprintf(" %s %.2f", $1, d); t += d } }
            END { printf "total %.2f:%s", t, s }' "$out/a" "$out/b")
        echo "- $mode $v: $line"
    done
done
