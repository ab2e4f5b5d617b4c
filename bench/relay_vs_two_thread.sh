#!/bin/sh
# iperf3 through zcopy's C relay, old against new, in one run (A B A B):
# - two-thread: examples/relay.c as it was at 42a3376, one thread per
#   direction, each calling zcopy_splice(dst, src, ZCOPY_ALL);
# - zcopy_relay: examples/relay.c now, one thread per connection making one
#   zcopy_relay call (both directions from one poll(2) loop).
# Both are linked against the same target/release/libzcopy.so. Extra
# arguments go to relaybench.py (e.g. -P 8).
#
#   sh bench/relay_vs_two_thread.sh [-t 5 -r 3] [-P N]
set -e
cd "$(dirname "$0")/.."
anchors=${ZCOPY_ANCHORS:-bench/peers}
out=target/relay-bench
mkdir -p "$out"
cargo build --release --lib
git show 42a3376:examples/relay.c > "$out/relay_two_thread.c"
for n in two_thread one_call; do
    src="$out/relay_two_thread.c"
    [ "$n" = one_call ] && src=examples/relay.c
    gcc -std=c99 -O2 -Iinclude "$src" -o "$out/relay_$n" -Ltarget/release -lzcopy \
        -Wl,-rpath,"$PWD/target/release" -lpthread
done
[ $# -eq 0 ] && set -- -t 5 -r 3
python3 "$anchors/relaybench.py" "$@" \
    "two-thread=$out/relay_two_thread {listen} {target}" \
    "zcopy_relay=$out/relay_one_call {listen} {target}"
