//! docs/ARCHITECTURE.md says which file holds what: it must name every
//! source file by its path, and no file that is gone (issue 21: the page
//! had drifted from the tree). A new file fails this test until the page
//! says what it is.

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

/// The C boundary is the top layer: no module below it imports from it
/// (the engine took ZCOPY_EPANIC from `crate::ffi`: a circle, issue 21).
#[test]
fn nothing_below_the_c_boundary_imports_from_it() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    rust_files(&root.join("src"), &mut files);
    let upward: Vec<String> = files
        .iter()
        .filter(|p| {
            let rel = p.strip_prefix(root.join("src")).unwrap();
            !(rel.starts_with("ffi") || rel == Path::new("ffi.rs") || rel == Path::new("lib.rs"))
        })
        .filter(|p| std::fs::read_to_string(p).unwrap().contains("crate::ffi"))
        .map(|p| p.strip_prefix(root).unwrap().display().to_string())
        .collect();
    assert!(
        upward.is_empty(),
        "these import from the C boundary above them: {upward:?}"
    );
}
