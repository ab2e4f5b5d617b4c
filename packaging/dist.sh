#!/bin/sh
# Lays out and packs one release tarball from a staged cross build.
#
#   packaging/dist.sh ARCH STAGE DISTDIR
#
# DISTDIR/zcopy-$VERSION-ARCH-linux-gnu.tar.gz holds one directory of that
# name with lib/ (libzcopy.so.$VERSION, its soname and dev links, the
# static library, pkgconfig/zcopy.pc), include/zcopy.h, bin/zcopy,
# share/man/man1/zcopy.1, README.md and the licence files. zcopy.pc's
# prefix is ${pcfiledir}/../..: unpacked anywhere,
# PKG_CONFIG_PATH=DIR/lib/pkgconfig finds the tree it sits in.
set -eu
arch=${1:?usage: $0 ARCH STAGE DISTDIR}
stage=${2:?} dist=${3:?}
here=$(cd "$(dirname "$0")/.." && pwd)
version=$(sed -n 's/^version *= *"\([^"]*\)".*/\1/p' "$here/Cargo.toml" | head -n 1)
name=zcopy-$version-$arch-linux-gnu
root=$dist/tree/$name
rm -rf "$root"
mkdir -p "$root/lib/pkgconfig" "$root/include" "$root/bin" "$root/share/man/man1"
cp "$stage/lib/libzcopy.so.$version" "$stage/lib/libzcopy.a" "$root/lib/"
ln -s "libzcopy.so.$version" "$root/lib/libzcopy.so.0"
ln -s libzcopy.so.0 "$root/lib/libzcopy.so"
cp "$stage/bin/zcopy" "$root/bin/"
cp "$here/include/zcopy.h" "$root/include/"
cp "$here/packaging/zcopy.1" "$root/share/man/man1/"
cp "$here/README.md" "$here/LICENSE-MIT" "$here/LICENSE-APACHE" "$root/"
# Single quotes: pkg-config expands ${pcfiledir} and ${prefix}, not sh.
"$here/packaging/pc.sh" '${pcfiledir}/../..' '${prefix}/lib' '${prefix}/include' "$version" \
  '-lgcc_s -lutil -lrt -lpthread -lm -ldl -lc' > "$root/lib/pkgconfig/zcopy.pc"
# Reproducible: fixed owner, order and times.
tar --sort=name --owner=0 --group=0 --numeric-owner --mtime=@0 \
  -C "$dist/tree" -czf "$dist/$name.tar.gz" "$name"
echo "dist.sh: $dist/$name.tar.gz"
