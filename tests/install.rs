//! The C library as installed software: `make install` into a temporary
//! prefix, then a program outside the repository is compiled with
//! `pkg-config --cflags --libs zcopy` (as C with gcc and as C++ with g++),
//! run, and its output checked. Also: soname, exported symbols, the version,
//! the header's hygiene, DESTDIR staging and `make uninstall`.
//!
//! Needs make, gcc, g++, pkg-config, nm and readelf (binutils); the first run
//! builds the release profile (`cargo build --release`), which takes a while.

mod support;

use std::path::Path;
use std::process::Command;
use std::sync::OnceLock;
use std::time::Duration;
use support::*;

const VERSION: &str = env!("CARGO_PKG_VERSION");
const MAJOR: &str = env!("CARGO_PKG_VERSION_MAJOR");
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
        run_ok(
            Command::new("make")
                .arg("-C")
                .arg(repo())
                .arg("install")
                .arg(format!("PREFIX={}", prefix.display()))
                .arg("DESTDIR="),
            BUILD_TIMEOUT,
        );
        Installed { _dir: dir, prefix }
    })
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
    let so_major = lib.join(format!("libzcopy.so.{MAJOR}"));
    assert_eq!(
        std::fs::read_link(&so_major).unwrap().to_str().unwrap(),
        format!("libzcopy.so.{VERSION}")
    );
    assert_eq!(
        std::fs::read_link(lib.join("libzcopy.so"))
            .unwrap()
            .to_str()
            .unwrap(),
        format!("libzcopy.so.{MAJOR}")
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
    // Both the build tree's .so and the installed one.
    for so in [
        repo().join("target/release/libzcopy.so"),
        p.join(format!("lib/libzcopy.so.{VERSION}")),
    ] {
        let o = run_ok(Command::new("readelf").arg("-d").arg(&so), STEP);
        let dynamic = stdout_str(&o);
        assert!(
            dynamic.contains(&format!("Library soname: [libzcopy.so.{MAJOR}]")),
            "{}: {dynamic}",
            so.display()
        );
        let o = run_ok(
            Command::new("nm").args(["-D", "--defined-only"]).arg(&so),
            STEP,
        );
        let names: Vec<String> = stdout_str(&o)
            .lines()
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

/// A program that knows nothing of the repository: it copies a file with the
/// library and prints what happened. Valid C99 and C++.
const PROGRAM: &str = r#"#define _POSIX_C_SOURCE 200809L
#include <zcopy.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int main(int argc, char **argv) {
    int in, out;
    zcopy_result r;
    zcopy_pool_stats st;
    if (argc != 3) {
        fprintf(stderr, "usage: %s SRC DST\n", argv[0]);
        return 2;
    }
    in = open(argv[1], O_RDONLY | O_CLOEXEC);
    if (in < 0) { perror(argv[1]); return 1; }
    out = open(argv[2], O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (out < 0) { perror(argv[2]); close(in); return 1; }
    r = zcopy_copy(out, in, ZCOPY_ALL);
    if (r.error != 0) {
        fprintf(stderr, "%s: %s\n", zcopy_method_name(r.method), strerror(r.error));
        return 1;
    }
    zcopy_pool_get_stats(&st);
    printf("zcopy %s\n", zcopy_version());
    printf("copied %lld bytes with %s\n", (long long)r.written, zcopy_method_name(r.method));
    printf("pool in_use %llu\n", (unsigned long long)st.in_use);
    close(in);
    close(out);
    return 0;
}
"#;

fn compile_and_run(compiler: &str, lang_flags: &[&str], static_link: bool, tag: &str) {
    require(compiler, "apt-get install -y build-essential");
    let p = &installed().prefix;
    let work = TempDir::new(&format!("consumer-{tag}"));
    let src = work.path().join("consumer.c");
    std::fs::write(&src, PROGRAM).unwrap();
    let exe = work.path().join("consumer");
    let mut cmd = Command::new(compiler);
    cmd.args(lang_flags)
        .args(["-Wall", "-Wextra", "-Werror", "-pedantic"])
        .arg(&src)
        .arg("-o")
        .arg(&exe)
        .args(split(&pkg_config(p, &["--cflags", "zcopy"])));
    if static_link {
        // Same flags, but the archive instead of the .so.
        let libs = pkg_config(p, &["--static", "--libs", "zcopy"]);
        for f in split(&libs) {
            if f == "-lzcopy" {
                cmd.args(["-Wl,-Bstatic", "-lzcopy", "-Wl,-Bdynamic"]);
            } else {
                cmd.arg(f);
            }
        }
    } else {
        cmd.args(split(&pkg_config(p, &["--libs", "zcopy"])));
    }
    cmd.current_dir(work.path());
    run_ok(&mut cmd, STEP);

    // Which libzcopy the program loads.
    let ld_path = p.join("lib");
    let ldd = run_ok(
        Command::new("ldd")
            .arg(&exe)
            .env("LD_LIBRARY_PATH", &ld_path),
        STEP,
    );
    let ldd = stdout_str(&ldd);
    if static_link {
        assert!(
            !ldd.contains("libzcopy"),
            "static build still needs the .so: {ldd}"
        );
    } else {
        let line = ldd.lines().find(|l| l.contains("libzcopy")).unwrap_or("");
        assert!(
            line.contains(&format!("libzcopy.so.{MAJOR} => {}", ld_path.display())),
            "the program must load the installed libzcopy.so.{MAJOR}: {ldd}"
        );
    }

    let data = random_bytes(3 * 1024 * 1024 + 17, 7);
    let input = work.path().join("input.bin");
    let output = work.path().join("output.bin");
    std::fs::write(&input, &data).unwrap();
    let o = run_ok(
        Command::new(&exe)
            .arg(&input)
            .arg(&output)
            .env("LD_LIBRARY_PATH", &ld_path)
            .current_dir(work.path()),
        STEP,
    );
    let text = stdout_str(&o);
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some(&*format!("zcopy {VERSION}")), "{text}");
    let copied = lines.next().unwrap_or("");
    // File to file: copy_file_range, or a fallback where the filesystem
    // cannot do it.
    assert!(
        ["copy_file_range", "sendfile", "read_write"]
            .iter()
            .any(|m| copied == format!("copied {} bytes with {m}", data.len())),
        "{text}"
    );
    assert_eq!(lines.next(), Some("pool in_use 0"), "{text}");
    assert!(
        std::fs::read(&output).unwrap() == data,
        "the copy differs from the input"
    );
}

#[test]
fn c_program_builds_with_pkg_config_and_runs() {
    compile_and_run("gcc", &["-std=c99"], false, "c99");
}

#[test]
fn cxx_program_builds_with_pkg_config_and_runs() {
    compile_and_run("g++", &["-x", "c++", "-std=c++11"], false, "cxx");
}

#[test]
fn c_program_links_the_static_archive() {
    compile_and_run("gcc", &["-std=c99"], true, "static");
}

/// The header alone: include guard, extern "C", compiles as C99, C11, C++98
/// and C++17 with every warning an error, twice included.
#[test]
fn header_compiles_cleanly_as_c_and_cxx() {
    let h = std::fs::read_to_string(repo().join("include/zcopy.h")).unwrap();
    assert!(
        h.contains("#ifndef ZCOPY_H\n#define ZCOPY_H"),
        "no include guard"
    );
    assert!(
        h.contains("#ifdef __cplusplus\nextern \"C\" {"),
        "no extern \"C\""
    );
    let work = TempDir::new("header");
    let src = work.path().join("t.c");
    std::fs::write(
        &src,
        "#include <zcopy.h>\n#include <zcopy.h>\n\
         int main(void) { zcopy_result r = zcopy_splice(-1, -1, ZCOPY_ALL); \
         return r.handled ? 0 : 1; }\n",
    )
    .unwrap();
    let inc = repo().join("include");
    for (cc, flags) in [
        ("gcc", vec!["-std=c99"]),
        ("gcc", vec!["-std=c11"]),
        ("g++", vec!["-x", "c++", "-std=c++98"]),
        ("g++", vec!["-x", "c++", "-std=c++17"]),
    ] {
        require(cc, "apt-get install -y build-essential");
        run_ok(
            Command::new(cc)
                .args(&flags)
                .args([
                    "-Wall",
                    "-Wextra",
                    "-Werror",
                    "-pedantic",
                    "-fsyntax-only",
                    "-I",
                ])
                .arg(&inc)
                .arg(&src),
            STEP,
        );
    }
}

/// Every declaration in the header carries a doc comment right above it.
#[test]
fn header_documents_every_item() {
    let h = std::fs::read_to_string(repo().join("include/zcopy.h")).unwrap();
    let lines: Vec<&str> = h.lines().collect();
    let mut undocumented = Vec::new();
    for (i, l) in lines.iter().enumerate() {
        let decl = (l.starts_with("#define ZCOPY_") && !l.starts_with("#define ZCOPY_H"))
            || l.starts_with("typedef ")
            || (l.contains("zcopy_") && l.trim_end().ends_with(");") && !l.starts_with(' '));
        if decl {
            let prev = lines[..i]
                .iter()
                .rev()
                .find(|p| !p.trim().is_empty())
                .unwrap_or(&"");
            if !prev.trim_end().ends_with("*/") {
                undocumented.push(*l);
            }
        }
    }
    assert!(
        undocumented.is_empty(),
        "undocumented items: {undocumented:#?}"
    );
}

/// zcopy_version() is Cargo.toml's version (the C programs above print it
/// too, from the installed library).
#[test]
fn zcopy_version_matches_cargo_toml() {
    let v = unsafe { std::ffi::CStr::from_ptr(zcopy::ffi::zcopy_version()) };
    assert_eq!(v.to_str().unwrap(), VERSION);
    let toml = std::fs::read_to_string(repo().join("Cargo.toml")).unwrap();
    let line = toml.lines().find(|l| l.starts_with("version")).unwrap();
    assert_eq!(line.split('"').nth(1), Some(VERSION));
}

/// ZCOPY_VERSION_MAJOR/MINOR/PATCH in the header and zcopy_version() agree
/// with Cargo.toml.
#[test]
fn header_version_macros_and_zcopy_version_match_cargo_toml() {
    let h = std::fs::read_to_string(repo().join("include/zcopy.h")).unwrap();
    for (name, want) in [("MAJOR", MAJOR), ("MINOR", MINOR), ("PATCH", PATCH)] {
        let line = format!("#define ZCOPY_VERSION_{name} {want}");
        assert!(
            h.lines().any(|l| l.trim_end() == line),
            "include/zcopy.h lacks `{line}` (cbindgen.toml after_includes)"
        );
    }
    // And the macros as a C compiler sees them.
    let work = TempDir::new("vermacro");
    let src = work.path().join("v.c");
    std::fs::write(
        &src,
        "#include <stdio.h>\n#include <zcopy.h>\nint main(void) { \
         printf(\"%d.%d.%d %s\\n\", ZCOPY_VERSION_MAJOR, ZCOPY_VERSION_MINOR, \
         ZCOPY_VERSION_PATCH, zcopy_version()); return 0; }\n",
    )
    .unwrap();
    let exe = work.path().join("v");
    // Against the installed copy (its header is the repository's, checked
    // above, and its libzcopy.so.MAJOR is there to be found).
    let p = &installed().prefix;
    run_ok(
        Command::new("gcc")
            .args(["-std=c99", "-Wall", "-Wextra", "-Werror", "-pedantic", "-I"])
            .arg(p.join("include"))
            .arg(&src)
            .arg("-o")
            .arg(&exe)
            .arg("-L")
            .arg(p.join("lib"))
            .arg("-lzcopy"),
        STEP,
    );
    let o = run_ok(
        Command::new(&exe).env("LD_LIBRARY_PATH", p.join("lib")),
        STEP,
    );
    assert_eq!(stdout_str(&o).trim(), format!("{VERSION} {VERSION}"));
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
    run_ok(&mut args("install"), BUILD_TIMEOUT);
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
