#!/bin/sh
# Builds zcopy_$VERSION_DEBARCH.deb from a staged cross build.
#
#   packaging/deb.sh ARCH STAGE DISTDIR     (ARCH: x86_64 or aarch64)
#
# One package, as a small C library with its command is often shipped:
# /usr/lib/<multiarch>/libzcopy.so.$VERSION (+ the soname link
# libzcopy.so.0 and the dev link libzcopy.so), libzcopy.a,
# pkgconfig/zcopy.pc, /usr/include/zcopy.h, /usr/bin/zcopy, its man page,
# and /usr/share/doc/zcopy/copyright. A runtime/-dev split can come when a
# distribution packages it; one file is what a user downloads.
#
# Why dpkg-deb with a control file and not cargo-deb: `make install
# DESTDIR=` already lays the tree out (the same paths as a source install,
# so one layout is tested), dpkg-deb is on every Debian machine, and
# cargo-deb would be compiled from crates.io first and drive its own
# cargo build (not the glibc 2.17 one).
set -eu
arch=${1:?usage: $0 ARCH STAGE DISTDIR}
stage=${2:?} dist=${3:?}
here=$(cd "$(dirname "$0")/.." && pwd)
version=$(sed -n 's/^version *= *"\([^"]*\)".*/\1/p' "$here/Cargo.toml" | head -n 1)
case $arch in
  x86_64) debarch=amd64 ;;
  aarch64) debarch=arm64 ;;
  *) echo "$0: no Debian architecture for $arch" >&2; exit 1 ;;
esac
multiarch=$arch-linux-gnu
root=$dist/deb/zcopy_${version}_$debarch
rm -rf "$root"
mkdir -p "$root/DEBIAN"
make -s -C "$here" --no-print-directory install DESTDIR="$root" PREFIX=/usr \
  LIBDIR=/usr/lib/$multiarch LDCONFIG= \
  SHIPPED="$stage/lib/libzcopy.so.$version" STATICLIB="$stage/lib/libzcopy.a" \
  CLI_BIN="$stage/bin/zcopy"
gzip -9n "$root/usr/share/man/man1/zcopy.1"
doc=$root/usr/share/doc/zcopy
mkdir -p "$doc"
{
  echo "Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/"
  echo "Upstream-Name: zcopy"
  echo
  echo "Files: *"
  echo "Copyright: the zcopy authors"
  echo "License: MIT or Apache-2.0"
  echo
  echo "License: MIT"
  sed 's/^$/./; s/^/ /' "$here/LICENSE-MIT"
  echo
  echo "License: Apache-2.0"
  echo " On Debian systems the full text is in /usr/share/common-licenses/Apache-2.0."
} > "$doc/copyright"
size=$(du -sk --exclude=DEBIAN "$root" | cut -f1)
cat > "$root/DEBIAN/control" <<CONTROL
Package: zcopy
Version: $version
Architecture: $debarch
Maintainer: zcopy developers <zcopy@invalid>
Installed-Size: $size
Depends: libc6 (>= 2.17)
Section: libs
Priority: optional
Description: zero-copy I/O library (splice, sendfile, copy_file_range) and the zcopy command
 libzcopy moves bytes between file descriptors with the kernel's zero-copy
 calls as Go's io.Copy does: splice through a pool of pipes between
 sockets, sendfile from files, copy_file_range between files, with a
 read/write fallback, a two-way relay and a relay engine, behind a C ABI
 (zcopy.h, pkg-config zcopy). The zcopy command copies files (cp), streams
 (cat) and TCP connections (relay) with it.
CONTROL
# shlibs: a package built against libzcopy.so.0 depends on this one;
# triggers: the loader cache is refreshed after install and removal.
echo "libzcopy 0 zcopy (>= $version)" > "$root/DEBIAN/shlibs"
echo "activate-noawait ldconfig" > "$root/DEBIAN/triggers"
(cd "$root" && find . -path ./DEBIAN -prune -o -type f -printf '%P\0' | sort -z \
  | xargs -0 md5sum > DEBIAN/md5sums)
dpkg-deb --root-owner-group -Zxz --build "$root" "$dist/zcopy_${version}_$debarch.deb" >/dev/null
echo "deb.sh: $dist/zcopy_${version}_$debarch.deb"
