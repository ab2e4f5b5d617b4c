//! What `make install` puts where: the library, its links, the header and
//! zcopy.pc; the shared object's soname and exports; DESTDIR staging and
//! `make uninstall`.
use super::*;

#[test]
fn install_puts_the_library_links_header_and_pc_in_place() {
    let p = &installed().prefix;
    let lib = p.join("lib");
    let real = lib.join(format!("libzcopy.so.{VERSION}"));
    let meta = std::fs::symlink_metadata(&real).unwrap();
    assert!(
        meta.file_type().is_file(),
        "{} must be the real file",
        real.display()
    );
    let so_major = lib.join(format!("libzcopy.so.{SOMAJOR}"));
    assert_eq!(
        std::fs::read_link(&so_major).unwrap().to_str().unwrap(),
        format!("libzcopy.so.{VERSION}")
    );
    assert_eq!(
        std::fs::read_link(lib.join("libzcopy.so"))
            .unwrap()
            .to_str()
            .unwrap(),
        format!("libzcopy.so.{SOMAJOR}")
    );
    assert!(lib.join("libzcopy.a").is_file());
    assert!(p.join("include/zcopy.h").is_file());
    assert!(p.join("bin/zcopy").is_file());
    assert_eq!(
        std::fs::read(p.join("include/zcopy.h")).unwrap(),
        std::fs::read(repo().join("include/zcopy.h")).unwrap()
    );
    let pc = std::fs::read_to_string(lib.join("pkgconfig/zcopy.pc")).unwrap();
    assert!(pc.contains(&format!("prefix={}\n", p.display())), "{pc}");
    assert!(pc.contains(&format!("Version: {VERSION}\n")), "{pc}");

    assert_eq!(pkg_config(p, &["--modversion", "zcopy"]), VERSION);
    let cflags = pkg_config(p, &["--cflags", "zcopy"]);
    assert!(
        cflags.contains(&format!("-I{}", p.join("include").display())),
        "{cflags}"
    );
    let libs = pkg_config(p, &["--libs", "zcopy"]);
    assert!(
        libs.contains(&format!("-L{}", lib.display())) && libs.contains("-lzcopy"),
        "{libs}"
    );
    let statics = pkg_config(p, &["--static", "--libs", "zcopy"]);
    assert!(
        statics.contains("-lpthread") && statics.contains("-ldl"),
        "{statics}"
    );
}

#[test]
fn shared_object_has_soname_and_exports_only_zcopy_symbols() {
    require("nm", "apt-get install -y binutils");
    require("readelf", "apt-get install -y binutils");
    let p = &installed().prefix;
    // Both the library `make` linked and the installed copy.
    for so in [
        repo().join(format!("target/release/libzcopy.so.{VERSION}")),
        p.join(format!("lib/libzcopy.so.{VERSION}")),
    ] {
        let o = run_ok(Command::new("readelf").arg("-d").arg(&so), STEP);
        let dynamic = stdout_str(&o);
        assert!(
            dynamic.contains(&format!("Library soname: [libzcopy.so.{SOMAJOR}]")),
            "{}: {dynamic}",
            so.display()
        );
        let o = run_ok(
            Command::new("nm").args(["-D", "--defined-only"]).arg(&so),
            STEP,
        );
        // Type A lines are the version nodes themselves (ZCOPY_0.1), not code.
        let names: Vec<String> = stdout_str(&o)
            .lines()
            .filter(|l| l.split_whitespace().nth(1) != Some("A"))
            .filter_map(|l| l.split_whitespace().nth(2))
            .map(|s| s.split('@').next().unwrap().to_string())
            .collect();
        let stray: Vec<&String> = names.iter().filter(|n| !n.starts_with("zcopy_")).collect();
        assert!(
            stray.is_empty(),
            "{} exports non-zcopy symbols: {stray:?}",
            so.display()
        );
        for f in API {
            assert!(
                names.iter().any(|n| n == f),
                "{} lacks {f}: {names:?}",
                so.display()
            );
        }
    }
}

/// DESTDIR staging keeps the final paths in zcopy.pc; uninstall removes
/// everything install put there.
#[test]
fn destdir_staging_and_uninstall() {
    let _ = installed(); // the release build is done once
    let stage = TempDir::new("destdir");
    let args = |target: &str| {
        let mut c = Command::new("make");
        c.arg("-C")
            .arg(repo())
            .arg(target)
            .arg("PREFIX=/opt/zcopy-test")
            .arg(format!("DESTDIR={}", stage.path().display()));
        c
    };
    run_ok(&mut args("install"), STEP);
    let root = stage.path().join("opt/zcopy-test");
    let pc = std::fs::read_to_string(root.join("lib/pkgconfig/zcopy.pc")).unwrap();
    assert!(pc.contains("prefix=/opt/zcopy-test\n"), "{pc}");
    assert!(pc.contains("libdir=/opt/zcopy-test/lib\n"), "{pc}");
    assert!(
        !pc.contains(&stage.path().display().to_string()),
        "DESTDIR leaked: {pc}"
    );
    assert!(root.join(format!("lib/libzcopy.so.{VERSION}")).is_file());
    run_ok(&mut args("uninstall"), STEP);
    let mut left = Vec::new();
    for e in walk(stage.path()) {
        if !e.is_dir() {
            left.push(e);
        }
    }
    assert!(left.is_empty(), "uninstall left files: {left:?}");
}

fn walk(p: &Path) -> Vec<std::path::PathBuf> {
    let mut v = Vec::new();
    if let Ok(rd) = std::fs::read_dir(p) {
        for e in rd.flatten() {
            let path = e.path();
            if e.file_type().map(|t| t.is_dir()).unwrap_or(false) {
                v.extend(walk(&path));
            } else {
                v.push(path.clone());
            }
            v.push(path);
        }
    }
    v
}
