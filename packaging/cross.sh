#!/bin/sh
# Builds the release library and the zcopy command for one architecture
# against glibc 2.17 (the manylinux2014 baseline) with cargo-zigbuild, and
# links the shipped libzcopy.so from it with zcopy.map's versions.
#
#   packaging/cross.sh ARCH STAGE      (ARCH: x86_64 or aarch64)
#
# STAGE gets lib/libzcopy.so.$VERSION, lib/libzcopy.a and bin/zcopy.
# Needs cargo-zigbuild and ziglang on PATH (make's tools venv) and the
# rustup target ARCH-unknown-linux-gnu.
#
# Why cargo-zigbuild: zig links against stub libraries of any glibc
# version, so the library built on this machine (glibc 2.36) references no
# symbol newer than 2.17 and loads on Debian 8+, RHEL 7+, Ubuntu 14.04+;
# both tools come from PyPI as wheels (nothing to compile, no Docker image
# like the manylinux containers need), and the same zig cc cross-links
# aarch64.
set -eu
arch=${1:?usage: $0 ARCH STAGE}
stage=${2:?usage: $0 ARCH STAGE}
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"
version=$(sed -n 's/^version *= *"\([^"]*\)".*/\1/p' Cargo.toml | head -n 1)
triple=$arch-unknown-linux-gnu
glibc=2.17
cargo zigbuild --release -p libzcopy -p zcopy-cli --target "$triple.$glibc"
out=${CARGO_TARGET_DIR:-target}/$triple/release
mkdir -p "$stage/lib" "$stage/bin"
# The same zig cc, for the same glibc, links the shared library.
packaging/relink.sh "$out/libzcopy.a" "$stage/lib/libzcopy.so.$version" libzcopy.so.0 \
  cargo-zigbuild zig cc -- -target "$arch-linux-gnu.$glibc"
cp "$out/libzcopy.a" "$stage/lib/libzcopy.a"
cp "$out/zcopy" "$stage/bin/zcopy"
# Nothing above GLIBC_2.17, and every C function versioned.
newest=$(objdump -T "$stage/lib/libzcopy.so.$version" "$stage/bin/zcopy" \
  | grep -o 'GLIBC_[0-9.]*' | sort -uV | tail -n 1)
case $newest in
  GLIBC_2.17 | GLIBC_2.1[0-6] | GLIBC_2.[0-9] | GLIBC_2.[0-9].*) ;;
  *) echo "$0: $arch build needs $newest, above glibc $glibc" >&2; exit 1 ;;
esac
packaging/abi-check.sh "$stage/lib/libzcopy.so.$version"
echo "cross.sh: $arch in $stage (newest glibc symbol: $newest)"
