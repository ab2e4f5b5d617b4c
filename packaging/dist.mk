# make dist: target/dist/zcopy-$(VERSION)-ARCH-linux-gnu.tar.gz per
# architecture (packaging/dist.sh lays one out).

.PHONY: dist
dist: cross
	for a in $(ARCHES); do packaging/dist.sh $$a $(STAGE)/$$a $(DIST) || exit 1; done
