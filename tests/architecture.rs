//! docs/ARCHITECTURE.md says which file holds what: it must name every
//! source file by its path, and no file that is gone (issue 21: the page
//! had drifted from the tree). A new file fails this test until the page
//! says what it is.
//!
//! The layers of `src/` (issue 21): each top-level directory is one layer,
//! and a module imports only from its own layer or the ones below it.
//! This reads every `crate::` path in every source file (not only `use`
//! lines: an inline `crate::x::f()` is an import too) and fails on one
//! that runs upward, or sideways between the two top layers, or through
//! one of lib.rs's old-path aliases (`crate::splice`, ...), which would
//! hide which layer it names.

use std::path::{Path, PathBuf};

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

#[test]
fn architecture_md_names_every_source_file_and_no_missing_one() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let doc = std::fs::read_to_string(root.join("docs/ARCHITECTURE.md")).unwrap();
    let mut files = Vec::new();
    rust_files(&root.join("src"), &mut files);
    let unnamed: Vec<String> = files
        .iter()
        .map(|p| p.strip_prefix(root).unwrap().display().to_string())
        .filter(|p| !doc.contains(p.as_str()))
        .collect();
    assert!(
        unnamed.is_empty(),
        "docs/ARCHITECTURE.md does not name {unnamed:?}: add a row saying what each holds"
    );
    // Every `src/...rs` the page names exists.
    let gone: Vec<&str> = doc
        .split(|c: char| c == '`' || c.is_whitespace() || c == ',' || c == '(' || c == ')')
        .filter(|w| w.starts_with("src/") && w.ends_with(".rs"))
        .filter(|w| !root.join(w).exists())
        .collect();
    assert!(
        gone.is_empty(),
        "docs/ARCHITECTURE.md names files that are gone: {gone:?}"
    );
}

/// The layers, lowest first: (rank, the name after `crate::`, the
/// directory under src/). Two layers of one rank may not import each
/// other.
const LAYERS: &[(u32, &str, &str)] = &[
    (0, "sys", "sys"),
    (1, "internal", "pool"),
    (2, "stream", "stream"),
    (3, "call", "call"),
    (4, "mech", "mech"),
    (5, "relay", "relay"),
    (6, "engine", "engine"),
    (7, "api", "api"),
    (8, "tokio", "tokio"),
    (8, "ffi", "ffi"),
];

/// Every `crate::name` on a line of code (comments left out: a doc link
/// imports nothing).
fn crate_paths(text: &str) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let code = line.split("//").next().unwrap();
        let mut rest = code;
        while let Some(at) = rest.find("crate::") {
            let tail = &rest[at + 7..];
            let name: String = tail
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_' || *c == '{')
                .collect();
            out.push((i + 1, name));
            rest = tail;
        }
    }
    out
}

/// What `crate::name` may be used for, from a file in layer `from`:
/// Err(why) when it may not.
fn judge(from: (u32, &str), name: &str) -> Result<(), String> {
    // lib.rs's own constants (VERSION, GENERATED_HEADER) sit above no one.
    if name.chars().next().is_some_and(|c| c.is_ascii_uppercase()) {
        return Ok(());
    }
    // The public items lib.rs re-exports from the API layer.
    let api_items = ["pool", "Options", "Engine", "RelayCounts", "RelayError"];
    let to = match LAYERS.iter().find(|l| l.1 == name) {
        Some(l) => (l.0, l.1),
        None if api_items.contains(&name) => (7, "api"),
        None => {
            return Err(format!(
                "`crate::{name}` is not a layer's path (an alias in lib.rs?)"
            ))
        }
    };
    if to.1 == from.1 || to.0 < from.0 {
        Ok(())
    } else {
        Err(format!(
            "layer {} imports from {} (not below it)",
            from.1, to.1
        ))
    }
}

#[test]
fn src_holds_only_the_layers_and_lib_rs() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut names: Vec<String> = std::fs::read_dir(&src)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    let mut want: Vec<String> = LAYERS.iter().map(|l| l.2.to_string()).collect();
    want.push("lib.rs".into());
    want.sort();
    assert_eq!(names, want, "`ls src` should show the layers");
}

#[test]
fn no_module_imports_from_a_layer_above_it() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut bad = Vec::new();
    for &(rank, name, dir) in LAYERS {
        let mut files = Vec::new();
        rust_files(&root.join("src").join(dir), &mut files);
        for f in files {
            let text = std::fs::read_to_string(&f).unwrap();
            for (line, to) in crate_paths(&text) {
                if let Err(why) = judge((rank, name), &to) {
                    let rel = f.strip_prefix(root).unwrap().display();
                    bad.push(format!("{rel}:{line}: {why}"));
                }
            }
        }
    }
    assert!(
        bad.is_empty(),
        "imports against the layers:\n{}",
        bad.join("\n")
    );
}

#[test]
fn the_judge_refuses_what_it_should() {
    assert!(judge((0, "sys"), "call").is_err());
    assert!(judge((3, "call"), "mech").is_err());
    assert!(judge((8, "tokio"), "ffi").is_err());
    assert!(
        judge((4, "mech"), "splice").is_err(),
        "an alias hides the layer"
    );
    assert!(judge((4, "mech"), "call").is_ok());
    assert!(judge((8, "ffi"), "api").is_ok());
    assert_eq!(
        crate_paths("use crate::sys::errno; // crate::ffi"),
        [(1, "sys".to_string())]
    );
}
