# make wheels: target/dist/zcopy-$(VERSION)-py3-none-manylinux_2_17_ARCH...whl
# for x86_64 and aarch64 (the glibc 2.17 library of `make cross` inside),
# checked and tagged by auditwheel (packaging/wheel.sh). The sdist still
# builds from source with cargo.
#
# No musllinux wheel: zig links a musl libzcopy.so as easily, but
# auditwheel takes the libc to judge a wheel by from the machine it runs on,
# so on this glibc machine it cannot check or tag one (it would need an
# Alpine machine or container).

.PHONY: wheels
wheels: cross
	for a in $(ARCHES); do \
	  PATH="$(TOOLS_PATH)" packaging/wheel.sh $(STAGE)/$$a/lib/libzcopy.so.$(VERSION) \
	    linux_$$a manylinux_2_17_$$a $(DIST) || exit 1; \
	done
