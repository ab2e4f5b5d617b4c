#!/bin/sh
# Writes zcopy.pc (from zcopy.pc.in) to stdout.
#   packaging/pc.sh PREFIX LIBDIR INCLUDEDIR VERSION LIBS_PRIVATE
# A relocatable file (the release tarball) passes PREFIX='${pcfiledir}/../..'
# and LIBDIR/INCLUDEDIR relative to '${prefix}': pkg-config then finds the
# tree wherever it was unpacked.
set -eu
[ $# -eq 5 ] || { echo "usage: $0 PREFIX LIBDIR INCLUDEDIR VERSION LIBS_PRIVATE" >&2; exit 2; }
here=$(cd "$(dirname "$0")/.." && pwd)
# | is the sed delimiter: no path here contains one.
sed -e "s|@PREFIX@|$1|g" -e "s|@LIBDIR@|$2|g" -e "s|@INCLUDEDIR@|$3|g" \
    -e "s|@VERSION@|$4|g" -e "s|@LIBS_PRIVATE@|$5|g" "$here/zcopy.pc.in"
