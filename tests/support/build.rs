//! The library cargo built with the test, and C examples compiled against
//! it.

use super::files::repo;
use super::process::run_ok;
use super::tools::require;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

/// The directory holding the libzcopy.so that cargo built with this test
/// (the deps copy first: it is the one built with these tests).
pub fn built_lib_dir() -> PathBuf {
    super::common::built_library_dir()
}

/// A lib dir for linking C programs against the built library: libzcopy.so
/// and its soname link libzcopy.so.<major>, both pointing at the build's .so
/// (cargo does not make the soname link).
pub fn link_dir(tmp: &Path) -> PathBuf {
    let so = built_lib_dir().join("libzcopy.so");
    let lib = tmp.join("lib");
    std::fs::create_dir_all(&lib).unwrap();
    for name in [
        "libzcopy.so".to_string(),
        format!("libzcopy.so.{}", env!("CARGO_PKG_VERSION_MAJOR")),
    ] {
        let l = lib.join(name);
        let _ = std::fs::remove_file(&l);
        std::os::unix::fs::symlink(&so, &l).unwrap();
    }
    lib
}

/// Compiles examples/<name>.c as C99 with every warning an error against
/// include/zcopy.h and the built libzcopy.so; returns the executable.
pub fn build_example(name: &str, tmp: &Path) -> PathBuf {
    require("gcc", "apt-get install -y build-essential");
    let lib = link_dir(tmp);
    let exe = tmp.join(name);
    run_ok(
        Command::new("gcc")
            .args([
                "-std=c99",
                "-O2",
                "-g",
                "-Wall",
                "-Wextra",
                "-Werror",
                "-pedantic",
                "-I",
            ])
            .arg(repo().join("include"))
            .arg(repo().join("examples").join(format!("{name}.c")))
            .arg("-o")
            .arg(&exe)
            .arg("-L")
            .arg(&lib)
            .args(["-lzcopy", "-lpthread"])
            .arg(format!("-Wl,-rpath,{}", lib.display())),
        Duration::from_secs(120),
    );
    exe
}
