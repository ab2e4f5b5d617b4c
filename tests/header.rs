//! include/zcopy.h puts nothing into a C program's namespace but names
//! that start with `zcopy_` or `ZCOPY_`: a macro such as `ALL` or a type
//! such as `Ready` from the library's internals would break user code that
//! uses the same name.

use std::path::PathBuf;

fn header() -> String {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("include/zcopy.h");
    std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

/// The identifier a header line declares, if it declares one at top level.
fn declared(line: &str) -> Option<String> {
    let ident = |s: &str| -> String {
        s.chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect()
    };
    if let Some(rest) = line.strip_prefix("#define ") {
        return Some(ident(rest));
    }
    if line.starts_with("typedef ") {
        // typedef struct zcopy_x zcopy_x;  typedef void (*zcopy_fn)(...);
        // typedef uint8_t Name;  typedef struct zcopy_x {   (the name follows "struct")
        let l = line.trim_end_matches([';', ' ', '{']);
        if let Some(i) = l.find("(*") {
            return Some(ident(&l[i + 2..]));
        }
        return l.rsplit(' ').next().map(ident);
    }
    if line.starts_with(' ') || line.starts_with('#') || line.starts_with('}') {
        return None;
    }
    // A function declaration at top level: `type name(args);`
    let open = line.find('(')?;
    let before = line[..open].trim_end();
    let name = before.rsplit([' ', '*']).next()?;
    Some(ident(name))
}

#[test]
fn every_public_name_is_prefixed() {
    let text = header();
    let mut bad = Vec::new();
    let mut seen = 0;
    let mut in_comment = false;
    for line in text.lines() {
        let t = line.trim_start();
        if in_comment {
            in_comment = !t.contains("*/");
            continue;
        }
        if t.starts_with("/*") {
            in_comment = !t.contains("*/");
            continue;
        }
        if line.starts_with("#define ZCOPY_H") || line.starts_with("extern \"C\"") {
            continue;
        }
        if let Some(name) = declared(line) {
            if name.is_empty() {
                continue;
            }
            seen += 1;
            if !(name.starts_with("zcopy_") || name.starts_with("ZCOPY_")) {
                bad.push(format!("{name}  <- {line}"));
            }
        }
    }
    assert!(
        seen > 30,
        "only {seen} declarations found: the parser is off"
    );
    assert!(
        bad.is_empty(),
        "unprefixed names in zcopy.h:\n{}",
        bad.join("\n")
    );
}

/// The committed include/zcopy.h is the header this build generated
/// (build.rs writes it to OUT_DIR only): a change to an exported item
/// without `make header` fails here, naming the fix.
#[test]
fn committed_header_is_the_generated_one() {
    let committed = header();
    if committed != zcopy::GENERATED_HEADER {
        let first = committed
            .lines()
            .zip(zcopy::GENERATED_HEADER.lines())
            .position(|(a, b)| a != b)
            .map_or("the length".to_string(), |i| format!("line {}", i + 1));
        panic!(
            "include/zcopy.h differs from the generated header (first at {first}): \
             run `make header` and commit include/zcopy.h"
        );
    }
}
