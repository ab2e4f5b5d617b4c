#!/usr/bin/env bash
# Checks the release artifacts in target/dist/ as their users would use
# them (make package-check; .ci/run). Builds them first when missing.
#
# - wheels: auditwheel show says manylinux_2_17 for x86_64 and aarch64; a
#   fresh venv, with no cargo or rustc on PATH, installs the x86_64 wheel
#   and runs the README's Python quick start (quickstart.py);
# - tarball: unpacked in a temporary directory, PKG_CONFIG_PATH=DIR/lib/
#   pkgconfig builds the README's C quick start (quickstart.c), which runs;
#   bin/zcopy runs; the aarch64 one holds aarch64 files;
# - .deb: dpkg -i, pkg-config --cflags --libs zcopy builds the quick start
#   against /usr, it runs and loads the packaged library, `man -w zcopy`
#   finds the page; dpkg -r removes every file the package had.
# Needs root (dpkg -i), python3, gcc, pkg-config, binutils (installed with
# apt-get when missing). Ends with "packaging: N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")/.."
root=$PWD
version=$(sed -n 's/^version *= *"\([^"]*\)".*/\1/p' Cargo.toml | head -n 1)
dist=$root/target/dist
passed=0 failed=0
ok() { echo "ok: $*"; passed=$((passed + 1)); }
bad() { echo "FAIL: $*" >&2; failed=$((failed + 1)); }
# Runs a check function; its failure is counted, the others still run.
check() { local name=$1; shift; if "$@"; then ok "$name"; else bad "$name"; fi; }

need=()
for t in gcc:gcc pkg-config:pkg-config objdump:binutils file:file man:man-db; do
  command -v "${t%%:*}" >/dev/null || need+=("${t#*:}")
done
if [ ${#need[@]} -gt 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq && apt-get install -y -qq "${need[@]}" >/dev/null
fi
[ -f "$dist/zcopy_${version}_amd64.deb" ] && ls "$dist"/*manylinux_2_17_x86_64*.whl >/dev/null 2>&1 \
  && [ -f "$dist/zcopy-$version-x86_64-linux-gnu.tar.gz" ] || make wheels dist deb || exit 1

work=$(mktemp -d /tmp/zcopy-pkgcheck.XXXXXX)
trap 'rm -rf "$work"' EXIT
python3 packaging/readme_blocks.py named quickstart.c > "$work/quickstart.c" || exit 1
python3 packaging/readme_blocks.py named quickstart.py > "$work/quickstart.py" || exit 1
# PATH without any directory that has cargo or rustc: what a user without
# Rust has.
norust=$(echo "$PATH" | tr ':' '\n' | while read -r d; do
  [ -x "$d/cargo" ] || [ -x "$d/rustc" ] || printf '%s:' "$d"; done)
norust=${norust%:}

# The C quick start copies a file and prints "zcopy VERSION" and the bytes.
run_quickstart() { # EXE [ENV...]
  local exe=$1; shift
  head -c 3000017 /dev/urandom > "$work/in.bin"
  env "$@" "$exe" "$work/in.bin" "$work/out.bin" > "$work/qs.out" || return 1
  grep -qx "zcopy $version" "$work/qs.out" && grep -q "copied 3000017 bytes" "$work/qs.out" \
    && cmp -s "$work/in.bin" "$work/out.bin"
}

wheel_tags() {
  local a w shown
  for a in x86_64 aarch64; do
    w=$(ls "$dist"/zcopy-"$version"-py3-none-*manylinux_2_17_"$a"*.whl) || return 1
    shown=$(target/shiptools/bin/auditwheel show "$w" | tr '\n' ' ')
    [[ $shown == *"platform tag: \"manylinux_2_17_$a\""* ]] || { echo "$shown" >&2; return 1; }
  done
}

wheel_in_venv_without_rust() {
  local w
  w=$(ls "$dist"/zcopy-"$version"-py3-none-*manylinux_2_17_x86_64*.whl) || return 1
  python3 -m venv "$work/venv" || return 1
  (cd "$work" && PATH="$work/venv/bin:$norust" && ! command -v cargo && ! command -v rustc \
    && pip install -q --no-index "$w" && python quickstart.py > py.out && cat py.out \
    && grep -q "site-packages/zcopy/_lib/libzcopy.so" py.out)
}

tarball() {
  local t=$dist/zcopy-$version-x86_64-linux-gnu.tar.gz d=$work/unpacked
  mkdir -p "$d" && tar -xzf "$t" -C "$d" || return 1
  local top=$d/zcopy-$version-x86_64-linux-gnu
  (cd "$work" && PKG_CONFIG_PATH=$top/lib/pkgconfig gcc -std=c99 -Wall -Werror quickstart.c \
    -o qs-tar $(PKG_CONFIG_PATH=$top/lib/pkgconfig pkg-config --cflags --libs zcopy)) || return 1
  run_quickstart "$work/qs-tar" LD_LIBRARY_PATH="$top/lib" || return 1
  "$top/bin/zcopy" --version | grep -q "$version" || return 1
  tar -tzf "$dist/zcopy-$version-aarch64-linux-gnu.tar.gz" >/dev/null || return 1
  mkdir -p "$work/arm" && tar -xzf "$dist/zcopy-$version-aarch64-linux-gnu.tar.gz" -C "$work/arm" || return 1
  file -L "$work/arm/zcopy-$version-aarch64-linux-gnu/lib/libzcopy.so.0" | grep -q aarch64
}

deb() {
  local p=$dist/zcopy_${version}_amd64.deb ma=/usr/lib/x86_64-linux-gnu
  dpkg -i "$p" >/dev/null || return 1
  local files
  files=$(dpkg -L zcopy | while read -r f; do [ -d "$f" ] || echo "$f"; done)
  local rc=0
  # Only the packaged zcopy.pc: a /usr/local install must not answer.
  (cd "$work" && export PKG_CONFIG_PATH= PKG_CONFIG_LIBDIR=$ma/pkgconfig \
    && gcc -std=c99 -Wall -Werror quickstart.c -o qs-deb $(pkg-config --cflags --libs zcopy)) \
    || { echo "deb: quickstart.c does not build with the packaged zcopy.pc" >&2; rc=1; }
  [ $rc = 0 ] && { run_quickstart "$work/qs-deb" || { echo "deb: quickstart failed" >&2; rc=1; }; }
  # The loader's path may be /lib/... (merged /usr): compare real files.
  local loaded
  loaded=$(LD_LIBRARY_PATH= ldd "$work/qs-deb" | awk '$1 == "libzcopy.so.0" { print $3 }')
  [ $rc = 0 ] && { [ -n "$loaded" ] && [ "$(readlink -f "$loaded")" = "$(readlink -f "$ma/libzcopy.so.0")" ] \
    || { echo "deb: the program loads ${loaded:-no libzcopy.so.0}, not the packaged one" >&2; rc=1; }; }
  [ $rc = 0 ] && { man -w zcopy >/dev/null && zcopy --version | grep -q "$version" \
    || { echo "deb: no man page, or zcopy --version is not $version" >&2; rc=1; }; }
  dpkg -r zcopy >/dev/null || rc=1
  for f in $files; do
    if [ -e "$f" ] || [ -L "$f" ]; then echo "dpkg -r left $f" >&2; rc=1; fi
  done
  return $rc
}

check "auditwheel: manylinux_2_17 x86_64 and aarch64 wheels" wheel_tags
check "x86_64 wheel in a venv with no Rust runs quickstart.py" wheel_in_venv_without_rust
check "tarball unpacked anywhere builds and runs quickstart.c" tarball
check "dpkg -i, pkg-config, quickstart.c, dpkg -r leaves nothing" deb
echo "packaging: $passed passed, $failed failed"
[ "$failed" = 0 ]
