//! The installed header alone: hygiene as C and C++, a doc comment on every
//! item, the version macros and zcopy_version() against Cargo.toml.
use super::*;

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
