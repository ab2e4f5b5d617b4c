//! The C library as installed software: `make install` into a temporary
//! prefix, then a program outside the repository is compiled with
//! `pkg-config --cflags --libs zcopy` (as C with gcc and as C++ with g++),
//! run, and its output checked. Also: soname, exported symbols, the version,
//! the header's hygiene, DESTDIR staging and `make uninstall`.
//!
//! Needs make, gcc, g++, pkg-config, nm and readelf (binutils); the first run
//! builds the release profile (`make`), which takes a while; `make install`
//! then runs with no cargo on PATH.
//!
//! One installation serves the whole process: `layout.rs` (what lands where,
//! the shared object, DESTDIR and uninstall), `program.rs` (a program built
//! against it), `header.rs` (the header alone, the version).

#[path = "../support/mod.rs"]
mod support;

mod header;
mod layout;
mod program;

use std::path::Path;
use std::process::Command;
use std::sync::OnceLock;
use std::time::Duration;
use support::*;

const VERSION: &str = env!("CARGO_PKG_VERSION");
const MAJOR: &str = env!("CARGO_PKG_VERSION_MAJOR");
/// The soname's number (the Makefile's SOMAJOR): it follows the ABI, not
/// the version (docs/ABI.md).
const SOMAJOR: &str = "0";
const MINOR: &str = env!("CARGO_PKG_VERSION_MINOR");
const PATCH: &str = env!("CARGO_PKG_VERSION_PATCH");

/// Everything the C API exports today; nm must show these and nothing else.
const API: &[&str] = &[
    "zcopy_splice",
    "zcopy_sendfile",
    "zcopy_copy_file_range",
    "zcopy_pool_get_stats",
    "zcopy_pool_drain",
    "zcopy_pool_configure",
    "zcopy_version",
    "zcopy_method_name",
    "zcopy_copy",
    "zcopy_sendfile_at",
    "zcopy_copy_file_range_at",
    "zcopy_splicer_new",
    "zcopy_splicer_free",
    "zcopy_splicer_step",
    "zcopy_splicer_pending",
    "zcopy_splicer_wants",
    "zcopy_splicer_eof",
];

const BUILD_TIMEOUT: Duration = Duration::from_secs(900);
const STEP: Duration = Duration::from_secs(120);

/// One installation per test process, shared by the tests below (make
/// install builds the release profile once).
struct Installed {
    _dir: TempDir,
    prefix: std::path::PathBuf,
}

/// The shared prefix's directory, removed when the test process exits
/// (statics are never dropped).
static PREFIX_DIR: OnceLock<std::path::PathBuf> = OnceLock::new();

extern "C" fn remove_prefix() {
    if let Some(p) = PREFIX_DIR.get() {
        let _ = std::fs::remove_dir_all(p);
    }
}

fn installed() -> &'static Installed {
    static I: OnceLock<Installed> = OnceLock::new();
    I.get_or_init(|| {
        require("make", "apt-get install -y make");
        let dir = TempDir::new("install");
        if PREFIX_DIR.set(dir.path().to_path_buf()).is_ok() {
            unsafe { libc::atexit(remove_prefix) };
        }
        let prefix = dir.path().join("prefix");
        // `make` builds; `make install` only copies, so it runs with no
        // cargo or rustc on PATH (as under sudo).
        run_ok(Command::new("make").arg("-C").arg(repo()), BUILD_TIMEOUT);
        run_ok(
            Command::new("make")
                .arg("-C")
                .arg(repo())
                .arg("install")
                .arg(format!("PREFIX={}", prefix.display()))
                .arg("DESTDIR=")
                .env("PATH", path_without_rust()),
            STEP,
        );
        Installed { _dir: dir, prefix }
    })
}

/// PATH less every directory that holds cargo or rustc.
pub fn path_without_rust() -> String {
    let path = std::env::var("PATH").unwrap_or_default();
    let kept: Vec<&str> = path
        .split(':')
        .filter(|d| !Path::new(d).join("cargo").exists() && !Path::new(d).join("rustc").exists())
        .collect();
    kept.join(":")
}

fn pkg_config(prefix: &Path, args: &[&str]) -> String {
    require("pkg-config", "apt-get install -y pkg-config");
    let o = run_ok(
        Command::new("pkg-config")
            .args(args)
            .env("PKG_CONFIG_PATH", prefix.join("lib/pkgconfig"))
            .env_remove("PKG_CONFIG_LIBDIR"),
        STEP,
    );
    stdout_str(&o).trim().to_string()
}

fn split(flags: &str) -> Vec<String> {
    flags.split_whitespace().map(str::to_string).collect()
}
