# make deb: target/dist/zcopy_$(VERSION)_amd64.deb (and _arm64), from the
# glibc 2.17 build of `make cross` (packaging/deb.sh says what is inside
# and why dpkg-deb).

.PHONY: deb
deb: cross
	for a in $(ARCHES); do packaging/deb.sh $$a $(STAGE)/$$a $(DIST) || exit 1; done
