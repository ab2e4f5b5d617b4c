#!/bin/sh
# Compares the symbols a libzcopy.so exports with the committed ABI list.
#
#   packaging/abi-check.sh SHIPPED_SO [CODE_SO]
#
# SHIPPED_SO: a library linked by packaging/relink.sh (make). Fails when
# - a symbol of abi/zcopy.symbols is missing (removed: an ABI break),
# - a symbol carries another version than the list says (re-versioned),
# - a symbol is exported that the list lacks (add it on purpose: a line in
#   zcopy.map's newest node and in abi/zcopy.symbols, docs/ABI.md),
# - an exported symbol has no ZCOPY_ version or is not zcopy_*.
# CODE_SO (optional): cargo's own cdylib, which exports every #[no_mangle]
# function of the code: one missing from SHIPPED_SO was left out of
# zcopy.map (the relink hides what the map does not name).
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
list="${ZCOPY_SYMBOLS:-$here/abi/zcopy.symbols}" # tests/abi.rs swaps it
so=${1:?usage: $0 SHIPPED_SO [CODE_SO]}
code=${2:-}
[ -f "$so" ] || { echo "abi-check: no library at $so (run make first)" >&2; exit 1; }
command -v objdump >/dev/null || { echo "abi-check: objdump is missing (apt-get install binutils)" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# objdump -T: "ADDR FLAGS TYPE SECTION SIZE VERSION NAME"; defined ones
# only, less the version definitions themselves (NAME == VERSION, *ABS*).
objdump -T "$so" | awk '$0 ~ / DF | DO / && $0 !~ /\*UND\*/ && $NF != $(NF-1) { print $NF, $(NF-1) }' \
  | sort -u > "$tmp/built"
grep -v '^#' "$list" | grep . | sort -u > "$tmp/listed"

fail=0
# Invariant: each check prints every offending symbol before failing.
awk '$1 !~ /^zcopy_/ || $2 !~ /^ZCOPY_/' "$tmp/built" > "$tmp/bad"
if [ -s "$tmp/bad" ]; then
  echo "abi-check: exported without a zcopy_ name or a ZCOPY_ version:" >&2; cat "$tmp/bad" >&2; fail=1
fi
# Listed pairs the library lacks: removed, or moved to another node.
comm -23 "$tmp/listed" "$tmp/built" | while read -r name ver; do
  now=$(awk -v n="$name" '$1 == n { print $2 }' "$tmp/built")
  if [ -n "$now" ]; then echo "abi-check: $name re-versioned: $ver in abi/zcopy.symbols, $now in the library (an ABI break)" >&2
  else echo "abi-check: $name@$ver removed: listed in abi/zcopy.symbols, not exported (an ABI break)" >&2; fi
  echo x >> "$tmp/broken"
done
[ -f "$tmp/broken" ] && fail=1
comm -13 "$tmp/listed" "$tmp/built" | awk '{ print $1 }' > "$tmp/added"
for name in $(cat "$tmp/added"); do
  grep -q "^$name " "$tmp/listed" && continue # reported as re-versioned above
  echo "abi-check: $name is exported but not in abi/zcopy.symbols: add \`$name $(awk -v n="$name" '$1 == n { print $2 }' "$tmp/built")\` there on purpose" >&2
  fail=1
done
if [ -n "$code" ]; then
  nm -D --defined-only "$code" | awk '$3 ~ /^zcopy_/ { print $3 }' | sort -u > "$tmp/code"
  awk '{ print $1 }' "$tmp/built" | sort -u > "$tmp/names"
  for name in $(comm -23 "$tmp/code" "$tmp/names"); do
    echo "abi-check: the code exports $name but zcopy.map does not name it: add \`$name;\` to the newest node of zcopy.map and \`$name VERSION\` to abi/zcopy.symbols (docs/ABI.md)" >&2
    fail=1
  done
fi
[ "$fail" = 0 ] || exit 1
echo "abi-check: $(wc -l < "$tmp/built") symbols, each with its listed ZCOPY_ version"
