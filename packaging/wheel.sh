#!/bin/sh
# Builds one binary wheel of bindings/python around a library we linked,
# and lets auditwheel check and tag it.
#
#   packaging/wheel.sh LIBRARY RAW_PLATFORM POLICY DISTDIR
#
# e.g. LIBRARY=target/dist/stage/x86_64/lib/libzcopy.so.0.1.0,
# RAW_PLATFORM=linux_x86_64, POLICY=manylinux_2_17_x86_64. The wheel is
# py3-none-<platform>: ctypes, nothing compiled against CPython. Needs the
# tools venv first on PATH (python, auditwheel).
set -eu
lib=${1:?usage: $0 LIBRARY RAW_PLATFORM POLICY DISTDIR}
raw=${2:?} policy=${3:?} dist=${4:?}
here=$(cd "$(dirname "$0")/.." && pwd)
lib=$(cd "$(dirname "$lib")" && pwd)/$(basename "$lib")
dist=$(mkdir -p "$dist" && cd "$dist" && pwd)
work=$dist/wheel-work/$policy
rm -rf "$work"
mkdir -p "$work"
# A copy of the Python package, so that setuptools' build/ and egg-info
# never land in the source tree.
cp -R "$here/bindings/python" "$work/src"
rm -rf "$work/src/build" "$work/src/src/zcopy/_lib" "$work/src"/*.egg-info "$work/src/src"/*.egg-info
(cd "$work/src" && ZCOPY_BUNDLE_LIBRARY="$lib" ZCOPY_WHEEL_PLATFORM="$raw" \
  python -m pip wheel -q --no-deps --no-build-isolation --disable-pip-version-check -w "$work/raw" .)
raw_whl=$(ls "$work/raw"/*.whl)
# repair: tags the wheel with the oldest policy its library satisfies
# (nothing to graft: libc, libpthread, libdl only). --plat auto because an
# explicit policy must be one of this machine's architecture; the check
# below holds it to POLICY.
auditwheel repair --plat auto -w "$work/repaired" "$raw_whl"
whl=$(ls "$work/repaired"/*.whl)
shown=$(auditwheel show "$whl")
echo "$shown"
# auditwheel wraps its lines at a width that depends on the names.
case $(echo "$shown" | tr '\n' ' ') in
  *"consistent with the following platform tag: \"$policy\""*) ;;
  *) echo "$0: auditwheel does not place $(basename "$whl") at $policy" >&2; exit 1 ;;
esac
rm -f "$dist/$(basename "$whl")"
mv "$whl" "$dist/"
rm -rf "$work"
echo "wheel.sh: $dist/$(basename "$whl")"
