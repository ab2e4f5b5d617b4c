//! Generates include/zcopy.h from the Rust sources with cbindgen
//! (configured by cbindgen.toml). The header is committed; it is rewritten
//! only when its content changes, so a fresh generation leaves no diff.

use std::path::PathBuf;

fn main() {
    let dir = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap());
    println!("cargo:rerun-if-changed=src");
    println!("cargo:rerun-if-changed=cbindgen.toml");
    // Shared object: soname libzcopy.so.<major> and only zcopy_* exported.
    let major = std::env::var("CARGO_PKG_VERSION_MAJOR").unwrap();
    println!("cargo:rustc-cdylib-link-arg=-Wl,-soname,libzcopy.so.{major}");
    // The soname link in the build tree too (libzcopy.so.<major> ->
    // libzcopy.so, dangling until the link step), so programs linked with
    // -lzcopy against target/<profile>[/deps] run with an rpath to it.
    let out = PathBuf::from(std::env::var("OUT_DIR").unwrap());
    if let Some(profile) = out.ancestors().nth(3) {
        for d in [profile.to_path_buf(), profile.join("deps")] {
            let link = d.join(format!("libzcopy.so.{major}"));
            if std::fs::symlink_metadata(&link).is_err() {
                let _ = std::os::unix::fs::symlink("libzcopy.so", &link);
            }
        }
    }
    let map = dir.join("zcopy.map");
    println!("cargo:rerun-if-changed={}", map.display());
    println!(
        "cargo:rustc-cdylib-link-arg=-Wl,--version-script={}",
        map.display()
    );
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
        .expect("cbindgen could not generate include/zcopy.h");
    let mut out = Vec::new();
    bindings.write(&mut out);
    let path = dir.join("include").join("zcopy.h");
    if std::fs::read(&path).ok().as_deref() != Some(&out[..]) {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, &out).expect("write include/zcopy.h");
    }
}
