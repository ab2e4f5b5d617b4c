//! Generates the C header from the Rust sources with cbindgen (configured
//! by cbindgen.toml) into OUT_DIR/zcopy.h, and nothing outside OUT_DIR: a
//! packaged crate must build without touching its sources (cargo publish
//! verifies that).
//!
//! The committed include/zcopy.h is a copy of that file: `make header`
//! refreshes it, and tests/header.rs fails while the two differ (the
//! library carries the generated text as `zcopy::GENERATED_HEADER`).
//!
//! The cdylib that cargo links here has no soname and no symbol versions
//! (rustc's own version script comes first and wins); the shipped
//! libzcopy.so.<version> is linked by packaging/relink.sh with zcopy.map
//! (`make`). Without a soname, programs linked against target/<profile>
//! with an rpath load that file by name, with no soname link to make.

use std::path::PathBuf;

fn main() {
    let dir = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap());
    let out_dir = PathBuf::from(std::env::var("OUT_DIR").unwrap());
    println!("cargo:rerun-if-changed=src");
    println!("cargo:rerun-if-changed=cbindgen.toml");
    let mut config = cbindgen::Config::from_file(dir.join("cbindgen.toml")).expect("cbindgen.toml");
    // The version macros come from Cargo.toml, so a version bump needs no
    // other edit.
    let v = |k: &str| std::env::var(format!("CARGO_PKG_VERSION_{k}")).unwrap();
    config.after_includes = Some(format!(
        "{}\n/** Major version of this header (Cargo.toml's). Compare with zcopy_version() at run time. */\n\
         #define ZCOPY_VERSION_MAJOR {}\n\
         /** Minor version of this header (Cargo.toml's). */\n\
         #define ZCOPY_VERSION_MINOR {}\n\
         /** Patch version of this header (Cargo.toml's). */\n\
         #define ZCOPY_VERSION_PATCH {}\n",
        config.after_includes.clone().unwrap_or_default().trim_end(),
        v("MAJOR"),
        v("MINOR"),
        v("PATCH")
    ));
    let bindings = cbindgen::Builder::new()
        .with_crate(&dir)
        // The pool's counters live in `internal::pool` (lib.rs), an inline
        // module with a #[path] that cbindgen's module walk does not follow.
        .with_src(dir.join("src/pool/stats.rs"))
        .with_config(config)
        .generate()
        .expect("cbindgen could not generate zcopy.h");
    let mut out = Vec::new();
    bindings.write(&mut out);
    let path = out_dir.join("zcopy.h");
    if std::fs::read(&path).ok().as_deref() != Some(&out[..]) {
        std::fs::write(&path, &out).expect("write OUT_DIR/zcopy.h");
    }
}
