#!/bin/bash
# Makes the BUNDLE that bench/tokio_bulk_manycore.sh runs from: a static
# (musl) tokio-proxy, and this machine's iperf3 with every shared library
# it loads and the dynamic loader, so that it runs with
# `ld-linux-x86-64.so.2 --library-path BUNDLE BUNDLE/iperf3` on a machine
# with no packages.
#
#   bash bench/tokio_bulk_bundle.sh BUNDLE
set -eu
B=$1
mkdir -p "$B"
command -v iperf3 >/dev/null || { apt-get update -q && apt-get install -y -q iperf3; }
rustup target add x86_64-unknown-linux-musl >/dev/null
cargo build --release -q -p zcopy-bench --bin tokio-proxy --target x86_64-unknown-linux-musl
cp target/x86_64-unknown-linux-musl/release/tokio-proxy "$B/"
cp "$(command -v iperf3)" "$B/"
ldd "$(command -v iperf3)" | awk '/=>/ {print $3} /ld-linux/ {print $1}' | while read -r lib; do
    [ -f "$lib" ] && cp -L "$lib" "$B/"
done
ls -la "$B"
