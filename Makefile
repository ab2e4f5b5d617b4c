# zcopy: build and install the C library (and the zcopy command).
#
#   make                                  cargo build --release (library + CLI)
#   make install PREFIX=/usr/local DESTDIR=
#   make uninstall PREFIX=/usr/local DESTDIR=
#   make examples                         build examples/*.c against the build tree
#   make check                            cargo test --workspace
#
# Installs: $(LIBDIR)/libzcopy.so.$(VERSION) with the links libzcopy.so.$(MAJOR)
# and libzcopy.so, $(LIBDIR)/libzcopy.a, $(INCLUDEDIR)/zcopy.h,
# $(LIBDIR)/pkgconfig/zcopy.pc and $(BINDIR)/zcopy.

PREFIX     ?= /usr/local
DESTDIR    ?=
BINDIR     ?= $(PREFIX)/bin
LIBDIR     ?= $(PREFIX)/lib
INCLUDEDIR ?= $(PREFIX)/include
PKGCONFIGDIR ?= $(LIBDIR)/pkgconfig

CARGO      ?= cargo
TARGET_DIR ?= target
CC         ?= cc
CFLAGS     ?= -O2 -g -std=c99 -Wall -Wextra -pedantic
INSTALL    ?= install

# The package version, read from Cargo.toml (the first `version =` line is
# the [package] one).
VERSION := $(shell sed -n 's/^version *= *"\([^"]*\)".*/\1/p' Cargo.toml | head -n 1)
MAJOR   := $(word 1,$(subst ., ,$(VERSION)))

# What a Rust staticlib needs from the C runtime when libzcopy.a is linked
# statically (printed by rustc --print native-static-libs).
LIBS_PRIVATE ?= -lgcc_s -lutil -lrt -lpthread -lm -ldl -lc

RELEASE  := $(TARGET_DIR)/release

.PHONY: all build install uninstall examples check clean

all: build

build:
	$(CARGO) build --release -p zcopy -p zcopy-cli

# zcopy.pc is generated from zcopy.pc.in straight into its place, with the
# final (DESTDIR-less) paths.
install: build
	@test -n "$(VERSION)" || { echo "cannot read the version from Cargo.toml" >&2; exit 1; }
	$(INSTALL) -d $(DESTDIR)$(LIBDIR) $(DESTDIR)$(INCLUDEDIR) $(DESTDIR)$(PKGCONFIGDIR) $(DESTDIR)$(BINDIR)
	$(INSTALL) -m 755 $(RELEASE)/libzcopy.so $(DESTDIR)$(LIBDIR)/libzcopy.so.$(VERSION)
	ln -sf libzcopy.so.$(VERSION) $(DESTDIR)$(LIBDIR)/libzcopy.so.$(MAJOR)
	ln -sf libzcopy.so.$(MAJOR) $(DESTDIR)$(LIBDIR)/libzcopy.so
	$(INSTALL) -m 644 $(RELEASE)/libzcopy.a $(DESTDIR)$(LIBDIR)/libzcopy.a
	$(INSTALL) -m 644 include/zcopy.h $(DESTDIR)$(INCLUDEDIR)/zcopy.h
	sed -e 's|@PREFIX@|$(PREFIX)|g' \
	    -e 's|@LIBDIR@|$(LIBDIR)|g' \
	    -e 's|@INCLUDEDIR@|$(INCLUDEDIR)|g' \
	    -e 's|@VERSION@|$(VERSION)|g' \
	    -e 's|@LIBS_PRIVATE@|$(LIBS_PRIVATE)|g' \
	    zcopy.pc.in > $(DESTDIR)$(PKGCONFIGDIR)/zcopy.pc
	chmod 644 $(DESTDIR)$(PKGCONFIGDIR)/zcopy.pc
	$(INSTALL) -m 755 $(RELEASE)/zcopy $(DESTDIR)$(BINDIR)/zcopy

uninstall:
	rm -f $(DESTDIR)$(LIBDIR)/libzcopy.so.$(VERSION) \
	      $(DESTDIR)$(LIBDIR)/libzcopy.so.$(MAJOR) \
	      $(DESTDIR)$(LIBDIR)/libzcopy.so \
	      $(DESTDIR)$(LIBDIR)/libzcopy.a \
	      $(DESTDIR)$(INCLUDEDIR)/zcopy.h \
	      $(DESTDIR)$(PKGCONFIGDIR)/zcopy.pc \
	      $(DESTDIR)$(BINDIR)/zcopy

# The C examples, linked against the freshly built shared library. cargo
# does not make the soname link (libzcopy.so.$(MAJOR)) the programs ask for
# at run time, so it is made next to them and found through an rpath.
EXDIR := $(RELEASE)/examples-c

examples: build
	@mkdir -p $(EXDIR)/lib
	ln -sf $(abspath $(RELEASE))/libzcopy.so $(EXDIR)/lib/libzcopy.so.$(MAJOR)
	ln -sf $(abspath $(RELEASE))/libzcopy.so $(EXDIR)/lib/libzcopy.so
	for f in examples/*.c; do \
	  $(CC) $(CFLAGS) -Iinclude -o $(EXDIR)/$$(basename $$f .c) $$f \
	    -L$(EXDIR)/lib -lzcopy -lpthread -Wl,-rpath,$(abspath $(EXDIR))/lib || exit 1; \
	done
	@echo "examples built in $(EXDIR)/"

check:
	$(CARGO) test --workspace

clean:
	$(CARGO) clean
