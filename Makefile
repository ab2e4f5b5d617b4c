# zcopy: build, install and package the C library (and the zcopy command).
#
#   make                        cargo build --release, then link the shipped
#                               target/release/libzcopy.so.$(VERSION) with
#                               zcopy.map's symbol versions (packaging/relink.sh)
#   make install PREFIX=/usr/local DESTDIR=
#                               copies what `make` built (never builds: sudo's
#                               PATH has no cargo), then runs ldconfig when it
#                               installs for real as root (LDCONFIG= skips it)
#   make uninstall PREFIX=/usr/local DESTDIR=
#   make header                 refresh include/zcopy.h from the sources
#   make abi-check              the built library's symbols == abi/zcopy.symbols
#   make examples               build examples/*.c against the build tree
#   make check                  cargo test --workspace
#   make wheels | dist | deb    release artifacts in target/dist/
#                               (packaging/*.mk; docs/PACKAGING.md)
#
# Installs: $(LIBDIR)/libzcopy.so.$(VERSION) with the links libzcopy.so.$(SOMAJOR)
# and libzcopy.so, $(LIBDIR)/libzcopy.a, $(INCLUDEDIR)/zcopy.h,
# $(LIBDIR)/pkgconfig/zcopy.pc and $(BINDIR)/zcopy.

PREFIX     ?= /usr/local
DESTDIR    ?=
BINDIR     ?= $(PREFIX)/bin
LIBDIR     ?= $(PREFIX)/lib
INCLUDEDIR ?= $(PREFIX)/include
PKGCONFIGDIR ?= $(LIBDIR)/pkgconfig
MANDIR     ?= $(PREFIX)/share/man

CARGO      ?= cargo
TARGET_DIR ?= target
CC         ?= cc
CFLAGS     ?= -O2 -g -std=c99 -Wall -Wextra -pedantic
INSTALL    ?= install
LDCONFIG   ?= ldconfig

# The Cargo package of the library (its [lib] is still `zcopy`, its files
# libzcopy.*).
CRATE := libzcopy

# The package version, read from Cargo.toml (the first `version =` line is
# the [package] one).
VERSION := $(shell sed -n 's/^version *= *"\([^"]*\)".*/\1/p' Cargo.toml | head -n 1)
# The soname's number: libzcopy.so.$(SOMAJOR). It follows the ABI, not the
# version: 1.x keeps every 0.x symbol (docs/ABI.md), so it stays 0 until an
# ABI break, which that promise rules out before 2.0.
SOMAJOR := 0

# What a Rust staticlib needs from the C runtime when libzcopy.a is linked
# statically (printed by rustc --print native-static-libs).
LIBS_PRIVATE ?= -lgcc_s -lutil -lrt -lpthread -lm -ldl -lc

RELEASE  := $(TARGET_DIR)/release
DIST     := $(TARGET_DIR)/dist
# What install copies: by default what `make` built; packaging/deb.sh
# points them at the glibc 2.17 build instead.
SHIPPED  ?= $(RELEASE)/libzcopy.so.$(VERSION)
STATICLIB ?= $(RELEASE)/libzcopy.a
CLI_BIN  ?= $(RELEASE)/zcopy

.PHONY: all build header abi-check install uninstall examples check clean

all: build

build:
	$(CARGO) build --release -p $(CRATE) -p zcopy-cli
	packaging/relink.sh $(RELEASE)/libzcopy.a $(RELEASE)/libzcopy.so.$(VERSION) libzcopy.so.$(SOMAJOR)

# build.rs generates the header into OUT_DIR only; this copies it into the
# tree (the build script's out_dir is the one holding zcopy.h).
header:
	@out=$$($(CARGO) build -p $(CRATE) --message-format=json-render-diagnostics \
	  | sed -n 's/.*"reason":"build-script-executed".*"out_dir":"\([^"]*\)".*/\1/p' \
	  | while read -r d; do [ -f "$$d/zcopy.h" ] && echo "$$d"; done | head -n 1); \
	test -n "$$out" || { echo "make header: no generated zcopy.h found" >&2; exit 1; }; \
	if cmp -s "$$out/zcopy.h" include/zcopy.h; then echo "include/zcopy.h is up to date"; \
	else cp "$$out/zcopy.h" include/zcopy.h && echo "include/zcopy.h regenerated"; fi

abi-check:
	packaging/abi-check.sh $(SHIPPED)

# Copies only: everything comes from `make` (as yourself, before sudo).
install:
	@test -n "$(VERSION)" || { echo "cannot read the version from Cargo.toml" >&2; exit 1; }
	@for f in $(SHIPPED) $(STATICLIB) $(CLI_BIN); do \
	  test -f "$$f" || { echo "make install: $$f is missing: run \`make\` first (as yourself, not with sudo)" >&2; exit 1; }; \
	done
	$(INSTALL) -d $(DESTDIR)$(LIBDIR) $(DESTDIR)$(INCLUDEDIR) $(DESTDIR)$(PKGCONFIGDIR) $(DESTDIR)$(BINDIR)
	$(INSTALL) -m 755 $(SHIPPED) $(DESTDIR)$(LIBDIR)/libzcopy.so.$(VERSION)
	ln -sf libzcopy.so.$(VERSION) $(DESTDIR)$(LIBDIR)/libzcopy.so.$(SOMAJOR)
	ln -sf libzcopy.so.$(SOMAJOR) $(DESTDIR)$(LIBDIR)/libzcopy.so
	$(INSTALL) -m 644 $(STATICLIB) $(DESTDIR)$(LIBDIR)/libzcopy.a
	$(INSTALL) -m 644 include/zcopy.h $(DESTDIR)$(INCLUDEDIR)/zcopy.h
	packaging/pc.sh '$(PREFIX)' '$(LIBDIR)' '$(INCLUDEDIR)' '$(VERSION)' '$(LIBS_PRIVATE)' \
	  > $(DESTDIR)$(PKGCONFIGDIR)/zcopy.pc
	chmod 644 $(DESTDIR)$(PKGCONFIGDIR)/zcopy.pc
	$(INSTALL) -m 755 $(CLI_BIN) $(DESTDIR)$(BINDIR)/zcopy
	$(INSTALL) -d $(DESTDIR)$(MANDIR)/man1
	$(INSTALL) -m 644 packaging/zcopy.1 $(DESTDIR)$(MANDIR)/man1/zcopy.1
	@$(MAKE) --no-print-directory ldconfig

uninstall:
	rm -f $(DESTDIR)$(LIBDIR)/libzcopy.so.$(VERSION) \
	      $(DESTDIR)$(LIBDIR)/libzcopy.so.$(SOMAJOR) \
	      $(DESTDIR)$(LIBDIR)/libzcopy.so \
	      $(DESTDIR)$(LIBDIR)/libzcopy.a \
	      $(DESTDIR)$(INCLUDEDIR)/zcopy.h \
	      $(DESTDIR)$(PKGCONFIGDIR)/zcopy.pc \
	      $(DESTDIR)$(BINDIR)/zcopy \
	      $(DESTDIR)$(MANDIR)/man1/zcopy.1
	@$(MAKE) --no-print-directory ldconfig

# The dynamic loader's cache, refreshed as distributions' packages do after
# adding a library: only for a real install (no DESTDIR) by root. A LIBDIR
# the loader does not search (not in /etc/ld.so.conf) still needs an rpath
# or LD_LIBRARY_PATH.
.PHONY: ldconfig
ldconfig:
ifneq ($(strip $(LDCONFIG)),)
	@if [ -z "$(DESTDIR)" ] && [ "$$(id -u)" = 0 ] \
	   && command -v $(LDCONFIG) >/dev/null 2>&1; then \
	  echo "$(LDCONFIG)"; $(LDCONFIG); fi
endif

# The C examples, linked against the freshly built shared library through
# an rpath (cargo's libzcopy.so has no soname, so no link to make).
EXDIR := $(RELEASE)/examples-c

examples:
	$(CARGO) build --release -p $(CRATE)
	@mkdir -p $(EXDIR)
	for f in examples/*.c; do \
	  $(CC) $(CFLAGS) -Iinclude -o $(EXDIR)/$$(basename $$f .c) $$f \
	    -L$(RELEASE) -lzcopy -lpthread -Wl,-rpath,$(abspath $(RELEASE)) || exit 1; \
	done
	@echo "examples built in $(EXDIR)/"

check:
	$(CARGO) test --workspace

clean:
	$(CARGO) clean

include packaging/tools.mk packaging/dist.mk packaging/wheels.mk packaging/deb.mk

# The artifacts checked as their users would use them (root: dpkg -i).
.PHONY: package-check
package-check:
	packaging/check.sh
