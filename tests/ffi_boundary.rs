//! The C boundary is uniform (issue 21): every export's whole body is one
//! call to `boundary(kind, ...)` in src/ffi/mod.rs, the only
//! `catch_unwind` of the boundary, so that no panic can cross into C and
//! each kind of function answers by one convention (the table at the top
//! of src/ffi/mod.rs). The first tests read the sources, as
//! tests/architecture.rs does; the last ones call the exports through
//! their C symbols and check the errno half of the conventions.

use std::collections::BTreeSet;
use std::path::Path;

/// The kinds `boundary` takes (src/ffi/kind.rs).
const KINDS: &[&str] = &[
    "Transfers",
    "Relays",
    "Handle",
    "Status",
    "Count",
    "IdOrError",
    "Value",
    "Void",
];

fn read(rel: &str) -> String {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join(rel);
    std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

/// The source with comments removed (a doc comment may name anything).
fn code(text: &str) -> String {
    text.lines()
        .map(|l| match l.find("//") {
            Some(i) => &l[..i],
            None => l,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The index just past the bracket closing the one at `open`.
fn close(s: &str, open: usize) -> usize {
    let (o, c) = match s.as_bytes()[open] {
        b'(' => (b'(', b')'),
        b'{' => (b'{', b'}'),
        x => panic!("not a bracket: {}", x as char),
    };
    let mut depth = 0;
    for (i, &b) in s.as_bytes().iter().enumerate().skip(open) {
        if b == o {
            depth += 1;
        } else if b == c {
            depth -= 1;
            if depth == 0 {
                return i + 1;
            }
        }
    }
    panic!(
        "unbalanced brackets after {}",
        &s[open..open + 40.min(s.len() - open)]
    );
}

/// Every export in src/ffi: (file, name, body without its braces).
fn exports() -> Vec<(String, String, String)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/ffi");
    let mut out = Vec::new();
    for e in std::fs::read_dir(&dir).unwrap() {
        let p = e.unwrap().path();
        let file = format!("src/ffi/{}", p.file_name().unwrap().to_string_lossy());
        let src = code(&read(&file));
        let mut at = 0;
        // Invariant: every export that starts before `at` is in `out`.
        while let Some(i) = src[at..].find("extern \"C\" fn ") {
            let start = at + i + "extern \"C\" fn ".len();
            let name: String = src[start..]
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            let params = start + name.len();
            let brace = params + src[params..].find('{').unwrap();
            let end = close(&src, brace);
            let body = src[brace + 1..end - 1].trim().to_string();
            out.push((file.clone(), name, body));
            at = end;
        }
    }
    out
}

#[test]
fn every_export_is_one_call_to_boundary() {
    let all = exports();
    let mut bad = Vec::new();
    for (file, name, body) in &all {
        // An `unsafe { ... }` around the call is allowed, nothing else.
        let inner = match body.strip_prefix("unsafe {") {
            Some(b) => b.trim_end().strip_suffix('}').unwrap_or(b).trim(),
            None => body.as_str(),
        };
        let Some(args) = inner.strip_prefix("boundary(") else {
            bad.push(format!("{file}: {name} does not start with boundary(...)"));
            continue;
        };
        let open = "boundary".len();
        if close(inner, open) != inner.len() {
            bad.push(format!("{file}: {name} does more than call boundary(...)"));
        }
        let kind = args.split([',', '(']).next().unwrap_or("");
        if !KINDS.iter().any(|k| kind.contains(k)) {
            bad.push(format!(
                "{file}: {name}'s boundary has no known kind: {kind}"
            ));
        }
    }
    assert!(bad.is_empty(), "{}", bad.join("\n"));
}

#[test]
fn the_exports_are_exactly_the_headers_functions() {
    let ours: BTreeSet<String> = exports().into_iter().map(|(_, n, _)| n).collect();
    let header = read("include/zcopy.h");
    let mut declared = BTreeSet::new();
    let mut in_comment = false;
    for line in header.lines() {
        let t = line.trim_start();
        if in_comment || t.starts_with("/*") {
            in_comment = !t.contains("*/");
            continue;
        }
        let mut rest = line;
        while let Some(i) = rest.find("zcopy_") {
            let name: String = rest[i..]
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            rest = &rest[i + name.len()..];
            if rest.starts_with('(') {
                declared.insert(name);
            }
        }
    }
    assert!(
        ours.len() >= 41,
        "only {} exports found: the parser is off",
        ours.len()
    );
    assert_eq!(
        ours, declared,
        "src/ffi's exports and the header's functions"
    );
}

/// `catch_unwind` once in src/ffi, in `boundary`; `#[no_mangle]` nowhere
/// but on the exports of src/ffi (an export elsewhere would dodge both).
#[test]
fn catch_unwind_and_no_mangle_only_where_they_belong() {
    let mut files = Vec::new();
    let mut dirs = vec![Path::new(env!("CARGO_MANIFEST_DIR")).join("src")];
    while let Some(d) = dirs.pop() {
        for e in std::fs::read_dir(d).unwrap() {
            let p = e.unwrap().path();
            match p.is_dir() {
                true => dirs.push(p),
                false if p.extension().is_some_and(|x| x == "rs") => files.push(p),
                false => {}
            }
        }
    }
    let (mut unwinds, mut mangles) = (Vec::new(), 0);
    for p in &files {
        let rel = p.strip_prefix(env!("CARGO_MANIFEST_DIR")).unwrap();
        let rel = rel.to_string_lossy().to_string();
        let src = code(&std::fs::read_to_string(p).unwrap());
        let in_ffi = rel.starts_with("src/ffi/");
        let no_mangle = src.matches("#[no_mangle]").count() + src.matches("export_name").count();
        assert!(
            in_ffi || no_mangle == 0,
            "{rel} exports a C symbol outside src/ffi"
        );
        mangles += no_mangle;
        if in_ffi {
            for _ in src.matches("catch_unwind(") {
                unwinds.push(rel.clone());
            }
        }
    }
    assert_eq!(unwinds, ["src/ffi/mod.rs"], "catch_unwind calls in src/ffi");
    let body = code(&read("src/ffi/mod.rs"));
    let f = body
        .find("fn boundary")
        .expect("fn boundary in src/ffi/mod.rs");
    let open = f + body[f..].find('{').unwrap();
    assert!(
        body[open..close(&body, open)].contains("catch_unwind("),
        "src/ffi/mod.rs's catch_unwind is not inside fn boundary"
    );
    assert_eq!(mangles, exports().len(), "#[no_mangle] items vs exports");
}

// The errno half of the conventions, through the C symbols.

use std::ffi::c_int;

#[repr(C)]
struct RelayResult {
    a_to_b: i64,
    b_to_a: i64,
    error: i32,
    error_fd: i32,
}

extern "C" {
    fn zcopy_relay(a: c_int, b: c_int, opts: *const u8) -> RelayResult;
    fn zcopy_relay_prefixed(
        a: c_int,
        b: c_int,
        ab: *const u8,
        ab_len: usize,
        ba: *const u8,
        ba_len: usize,
        opts: *const u8,
    ) -> RelayResult;
    fn zcopy_engine_cancel(e: *mut u8, id: u64) -> i32;
    fn zcopy_engine_add_ex(
        e: *mut u8,
        a: c_int,
        b: c_int,
        opts: *const u8,
        done: *const u8,
        ctx: *mut u8,
        error: *mut i32,
    ) -> u64;
    fn zcopy_pool_configure(max_idle: u64, pipe_size: u64) -> i32;
    fn zcopy_held(dst: c_int, src: c_int) -> i64;
    fn zcopy_disabled() -> u32;
}

fn errno() -> i32 {
    std::io::Error::last_os_error().raw_os_error().unwrap()
}

fn set_errno(e: i32) {
    // SAFETY: this thread's errno.
    unsafe { *libc::__errno_location() = e };
}

// The crate linked in, so that the extern block above resolves.
use zcopy as _;

#[test]
fn failures_set_errno_by_the_table_and_successes_leave_it() {
    // SAFETY: every pointer below is NULL or valid; the fds are negative.
    unsafe {
        set_errno(0);
        let r = zcopy_relay(-1, -2, std::ptr::null());
        assert_eq!(
            (r.error, errno(), r.a_to_b + r.b_to_a),
            (libc::EBADF, libc::EBADF, 0)
        );
        set_errno(0);
        let r = zcopy_relay_prefixed(
            3,
            4,
            std::ptr::null(),
            5,
            std::ptr::null(),
            0,
            std::ptr::null(),
        );
        assert_eq!(
            (r.error, r.error_fd, errno()),
            (libc::EINVAL, -1, libc::EINVAL)
        );
        set_errno(0);
        assert_eq!(zcopy_engine_cancel(std::ptr::null_mut(), 1), libc::EINVAL);
        assert_eq!(errno(), libc::EINVAL, "a status's failure sets errno too");
        let mut err = 12345;
        set_errno(0);
        let id = zcopy_engine_add_ex(
            std::ptr::null_mut(),
            0,
            1,
            std::ptr::null(),
            std::ptr::null(),
            std::ptr::null_mut(),
            &mut err,
        );
        assert_eq!((id, err, errno()), (0, libc::EINVAL, libc::EINVAL));
        set_errno(0);
        assert_eq!(zcopy_pool_configure(0, 1), libc::EINVAL);
        assert_eq!(errno(), libc::EINVAL);
        set_errno(0);
        assert_eq!(zcopy_held(-1, 0), -1);
        assert_eq!(errno(), libc::EBADF);
        // Successes: errno left as the caller had it.
        set_errno(4242);
        assert_eq!(zcopy_pool_configure(0, 0), 0);
        assert_eq!(zcopy_held(0, 1), 0);
        let _ = zcopy_disabled();
        assert_eq!(
            errno(),
            4242,
            "a status, a count and a value that succeed leave errno"
        );
    }
}
