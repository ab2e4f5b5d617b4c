//! The versioned C ABI: the shipped libzcopy.so (linked by
//! packaging/relink.sh with zcopy.map, as `make` does) exports exactly the
//! (symbol, version) pairs of abi/zcopy.symbols, each with a ZCOPY_
//! version; packaging/abi-check.sh fails on a removed, re-versioned or
//! unlisted symbol; a program linked against it records the version node.
//!
//! Links the static library cargo built with this test (no release build).

#[path = "support/mod.rs"]
mod support;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Duration;
use support::*;

const STEP: Duration = Duration::from_secs(120);

/// Links the shipped library from this build's libzcopy.a with `map`
/// (None: the committed zcopy.map) into `dir`.
fn relink(dir: &Path, map: Option<&Path>) -> PathBuf {
    require("cc", "apt-get install -y gcc");
    let out = dir.join("libzcopy.so.0");
    let mut cmd = Command::new(repo().join("packaging/relink.sh"));
    cmd.arg(built_lib_dir().join("libzcopy.a"))
        .arg(&out)
        .arg("libzcopy.so.0");
    if let Some(m) = map {
        cmd.env("ZCOPY_MAP", m);
    }
    run_ok(&mut cmd, STEP);
    out
}

fn abi_check(so: &Path, symbols: Option<&Path>) -> Output {
    require("objdump", "apt-get install -y binutils");
    let mut cmd = Command::new(repo().join("packaging/abi-check.sh"));
    cmd.arg(so).arg(built_lib_dir().join("libzcopy.so"));
    if let Some(s) = symbols {
        cmd.env("ZCOPY_SYMBOLS", s);
    }
    run(&mut cmd, STEP)
}

fn listed() -> Vec<(String, String)> {
    std::fs::read_to_string(repo().join("abi/zcopy.symbols"))
        .unwrap()
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|l| {
            let mut w = l.split_whitespace();
            (w.next().unwrap().into(), w.next().unwrap().into())
        })
        .collect()
}

#[test]
fn shipped_library_exports_exactly_the_listed_versions() {
    let tmp = TempDir::new("abi");
    let so = relink(tmp.path(), None);
    let o = abi_check(&so, None);
    assert!(o.status.success(), "{}", stderr_str(&o));
    // objdump -T itself: every zcopy_* symbol carries its listed version.
    let dump = stdout_str(&run_ok(Command::new("objdump").arg("-T").arg(&so), STEP));
    let list = listed();
    assert!(list.len() >= 30, "{list:?}");
    for (name, ver) in &list {
        assert!(
            dump.lines()
                .any(|l| l.ends_with(&format!(" {ver}   {name}"))
                    || l.ends_with(&format!(" {ver} {name}"))),
            "objdump -T shows no {name} with version {ver}:\n{dump}"
        );
    }
    let unversioned: Vec<&str> = dump
        .lines()
        .filter(|l| l.contains(" zcopy_") && !l.contains("ZCOPY_"))
        .collect();
    assert!(unversioned.is_empty(), "{unversioned:?}");
    let dynamic = stdout_str(&run_ok(Command::new("readelf").arg("-d").arg(&so), STEP));
    assert!(
        dynamic.contains("Library soname: [libzcopy.so.0]"),
        "{dynamic}"
    );
}

#[test]
fn abi_check_fails_on_a_removed_symbol() {
    let tmp = TempDir::new("abi-removed");
    let map = std::fs::read_to_string(repo().join("zcopy.map")).unwrap();
    assert!(map.contains("    zcopy_held;\n"));
    let broken = tmp.path().join("zcopy.map");
    std::fs::write(&broken, map.replace("    zcopy_held;\n", "")).unwrap();
    let so = relink(tmp.path(), Some(&broken));
    let o = abi_check(&so, None);
    let err = stderr_str(&o);
    assert!(!o.status.success(), "a removed symbol passed: {err}");
    assert!(err.contains("zcopy_held@ZCOPY_0.1 removed"), "{err}");
    assert!(err.contains("zcopy.map does not name it"), "{err}");
}

#[test]
fn abi_check_fails_on_a_reversioned_or_unlisted_symbol() {
    let tmp = TempDir::new("abi-list");
    let so = relink(tmp.path(), None);
    let text = std::fs::read_to_string(repo().join("abi/zcopy.symbols")).unwrap();
    // zcopy_version claimed for a later node: a re-versioning.
    let moved = tmp.path().join("moved.symbols");
    std::fs::write(
        &moved,
        text.replace("zcopy_version ZCOPY_0.1", "zcopy_version ZCOPY_0.2"),
    )
    .unwrap();
    let o = abi_check(&so, Some(&moved));
    assert!(!o.status.success());
    assert!(
        stderr_str(&o).contains("zcopy_version re-versioned"),
        "{}",
        stderr_str(&o)
    );
    // zcopy_relay missing from the list: an addition nobody listed.
    let short = tmp.path().join("short.symbols");
    std::fs::write(&short, text.replace("zcopy_relay ZCOPY_0.1\n", "")).unwrap();
    let o = abi_check(&so, Some(&short));
    assert!(!o.status.success());
    assert!(
        stderr_str(&o).contains("zcopy_relay is exported but not in abi/zcopy.symbols"),
        "{}",
        stderr_str(&o)
    );
}

/// A program linked against the shipped library asks for ZCOPY_0.1 by
/// name (readelf -V), and runs.
#[test]
fn a_linked_program_records_the_version_node() {
    require("gcc", "apt-get install -y gcc");
    let tmp = TempDir::new("abi-prog");
    let lib = tmp.path().join("lib");
    std::fs::create_dir_all(&lib).unwrap();
    relink(&lib, None);
    std::os::unix::fs::symlink("libzcopy.so.0", lib.join("libzcopy.so")).unwrap();
    let src = tmp.path().join("v.c");
    std::fs::write(
        &src,
        "#include <zcopy.h>\n#include <stdio.h>\n\
         int main(void) { printf(\"%s\\n\", zcopy_version()); return 0; }\n",
    )
    .unwrap();
    let exe = tmp.path().join("v");
    run_ok(
        Command::new("gcc")
            .arg("-I")
            .arg(repo().join("include"))
            .arg(&src)
            .arg("-o")
            .arg(&exe)
            .arg("-L")
            .arg(&lib)
            .arg("-lzcopy")
            .arg(format!("-Wl,-rpath,{}", lib.display())),
        STEP,
    );
    let needs = stdout_str(&run_ok(Command::new("readelf").arg("-V").arg(&exe), STEP));
    assert!(
        needs.contains("File: libzcopy.so.0") && needs.contains("Name: ZCOPY_0.1"),
        "{needs}"
    );
    let out = run_ok(&mut Command::new(&exe), STEP);
    assert_eq!(stdout_str(&out).trim(), env!("CARGO_PKG_VERSION"));
}
