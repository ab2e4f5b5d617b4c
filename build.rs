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
    let map = dir.join("zcopy.map");
    println!("cargo:rerun-if-changed={}", map.display());
    println!("cargo:rustc-cdylib-link-arg=-Wl,--version-script={}", map.display());
    let config = cbindgen::Config::from_file(dir.join("cbindgen.toml")).expect("cbindgen.toml");
    let bindings = cbindgen::Builder::new()
        .with_crate(&dir)
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
