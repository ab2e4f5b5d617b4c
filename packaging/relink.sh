#!/bin/sh
# Links the shipped libzcopy.so from the static library cargo built, with
# zcopy.map's symbol versions.
#
#   packaging/relink.sh STATICLIB OUTPUT SONAME [LINKER [ARGS...]]
#
# Why a second link: rustc links a cdylib with a version script of its own
# (every #[no_mangle] symbol, anonymous, no version node) placed before any
# user link argument, and lld and GNU ld both honour the first script that
# names a symbol, so `-Wl,--version-script=zcopy.map` given through cargo
# cannot version anything. Linking the staticlib (the same code) again with
# only our script gives every zcopy_* symbol its ZCOPY_x.y node.
#
# ZCOPY_MAP overrides the version script (tests/abi.rs breaks one on purpose).
# LINKER defaults to $CC, else cc; `make wheels`/`make dist` pass
# cargo-zigbuild's zig cc for a glibc 2.17 baseline.
set -eu
[ $# -ge 3 ] || { echo "usage: $0 STATICLIB OUTPUT SONAME [LINKER [ARGS...]]" >&2; exit 2; }
lib=$1 out=$2 soname=$3
shift 3
[ $# -gt 0 ] || set -- "${CC:-cc}"
here=$(cd "$(dirname "$0")/.." && pwd)
[ -f "$lib" ] || { echo "$0: no static library at $lib (build it first: make)" >&2; exit 1; }
mkdir -p "$(dirname "$out")"
# --whole-archive: every object, so every zcopy_* function is there to
# export; --gc-sections then drops what nothing exported reaches. The -l
# list is what `rustc --print native-static-libs` names for a staticlib.
"$@" -shared -o "$out.tmp" \
  -Wl,--whole-archive "$lib" -Wl,--no-whole-archive \
  -Wl,--version-script="${ZCOPY_MAP:-$here/zcopy.map}" -Wl,-soname,"$soname" \
  -Wl,--gc-sections -Wl,--strip-debug -Wl,-z,relro -Wl,-z,now \
  -lgcc_s -lutil -lrt -lpthread -lm -ldl -lc
mv "$out.tmp" "$out"
