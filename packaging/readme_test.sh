#!/usr/bin/env bash
# Runs README.md as its readers would: every block, verbatim, in the order
# given, on a fresh clone of this repository (its committed HEAD). Then
# checks the artifacts those blocks built (packaging/check.sh).
#
# - ```sh blocks run with bash -e in the clone's top directory, each with a
#   time limit; `sudo` is the machine's, or (as root, where there is none)
#   a stand-in that does what Debian's sudo does to the environment: PATH
#   becomes secure_path, which has no cargo. So `sudo make install` after
#   `make` shows that the install only copies.
# - ```c, ```python, ```js and ```go blocks are files: each names itself on
#   its first line (`/* quickstart.c */`) and is written there, as a reader
#   saves it; the sh blocks after it compile and run it.
# - ```text blocks are output, not run.
# One line is not run: `cargo test` in the first block. .ci/run runs it as
# its very first step on its fresh checkout; running the whole suite again
# inside this test would only repeat it.
#
# Needs root (apt-get, make install into /usr/local, dpkg); undoes the
# system-wide installs at the end. Ends with "readme: N passed, N failed".
set -uo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
[ "$(id -u)" = 0 ] || { echo "readme_test.sh: run as root (the README installs system-wide)" >&2; exit 1; }
BLOCK_TIMEOUT=${BLOCK_TIMEOUT:-1500}
work=$(mktemp -d /tmp/zcopy-readme.XXXXXX)
clone=$work/zcopy
# Undoes the README's system-wide installs (make install into /usr/local,
# the .deb, /tmp/zcopy-venv and /tmp/zcopy-opt); nothing else.
uninstall_system() {
  if [ -d "$clone" ]; then make -s -C "$clone" uninstall LDCONFIG=ldconfig >/dev/null 2>&1 || true; fi
  if dpkg -s zcopy >/dev/null 2>&1; then dpkg -r zcopy >/dev/null 2>&1; fi
  rm -rf /tmp/zcopy-venv /tmp/zcopy-opt
}
cleanup() {
  uninstall_system
  rm -rf "$work"
}
trap cleanup EXIT
git clone -q "$here" "$clone" || exit 1
mkdir -p "$work/bin"
if ! command -v sudo >/dev/null 2>&1; then
  cat > "$work/bin/sudo" <<'SUDO'
#!/bin/sh
# sudo as root on a machine without it: Debian's sudoers resets PATH to
# secure_path (no ~/.cargo/bin) and keeps the rest.
exec env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin "$@"
SUDO
  chmod +x "$work/bin/sudo"
fi
export PATH="$work/bin:$PATH" DEBIAN_FRONTEND=noninteractive

python3 "$clone/packaging/readme_blocks.py" dump "$work/blocks" || exit 1
passed=0 failed=0
for b in "$work"/blocks/*; do
  lang=$(cat "$b/lang") name=$(cat "$b/name")
  case $lang in
    sh)
      # `cargo test` alone on a line: see the header.
      sed -E 's/^cargo test( +#.*)?$/: "cargo test: run by .ci\/run first"/' "$b/body" > "$b/run.sh"
      echo "== README sh block $(basename "$b"): $(head -n 1 "$b/body")"
      if (cd "$clone" && timeout "$BLOCK_TIMEOUT" bash -e "$b/run.sh"); then
        passed=$((passed + 1))
      else
        echo "FAIL: README sh block $(basename "$b"):" >&2; cat "$b/body" >&2
        failed=$((failed + 1))
        break # later blocks build on this one
      fi ;;
    c | python | js | go)
      if [ -z "$name" ]; then
        echo "FAIL: a $lang block does not name its file on its first line: $(head -n 1 "$b/body")" >&2
        failed=$((failed + 1)); break
      fi
      cp "$b/body" "$clone/$name"; echo "== README $lang block saved as $name" ;;
    *) ;; # output shown, not a command
  esac
done
echo "readme: $passed passed, $failed failed"
[ "$failed" = 0 ] || exit 1
# The artifacts the README built, as their users would use them, on a
# system without the README's installs (a /usr/local libzcopy.so.0 would
# answer before the .deb's).
uninstall_system
(cd "$clone" && packaging/check.sh)
