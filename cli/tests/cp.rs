//! `zcopy cp`: data, cp's mode rules (a new file: SRC's permission bits
//! less the umask, no setuid/setgid/sticky; an existing file keeps its
//! mode; -p: mode and times), several sources into a directory, "Not a
//! directory" where cp says it, holes kept, errors that name the path.

mod support;

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::Path;
use std::process::Command;
use std::time::{Duration, SystemTime};
use support::*;

fn mode(p: &Path) -> u32 {
    std::fs::metadata(p).unwrap().permissions().mode() & 0o7777
}

fn set_mode(p: &Path, m: u32) {
    std::fs::set_permissions(p, std::fs::Permissions::from_mode(m)).unwrap();
}

/// `zcopy cp` under `umask` (through sh: std sets no umask for a child);
/// the arguments follow.
fn cp_umask(umask: &str) -> Command {
    let mut c = Command::new("sh");
    c.arg("-c")
        .arg(format!("umask {umask} && exec \"$0\" cp \"$@\""))
        .arg(zcopy_bin());
    c
}

#[test]
fn cp_copies_bytes_and_mode_bits() {
    let tmp = TempDir::new("cli-cp");
    let data = random_bytes(7 * 1024 * 1024 + 5, 3);
    let src = tmp.path().join("src.bin");
    std::fs::write(&src, &data).unwrap();
    set_mode(&src, 0o751);

    let dst = tmp.path().join("dst.bin");
    let o = run_ok(cp_umask("022").arg(&src).arg(&dst), T);
    assert!(
        o.stderr.is_empty() && o.stdout.is_empty(),
        "cp is quiet without --stats"
    );
    assert!(std::fs::read(&dst).unwrap() == data);
    assert_eq!(mode(&dst), 0o751);

    // An existing, longer DST with other mode bits: truncated, its own
    // mode kept (as cp).
    let old = tmp.path().join("old.bin");
    std::fs::write(&old, vec![b'x'; data.len() + 10_000]).unwrap();
    set_mode(&old, 0o600);
    run_ok(zcopy().arg("cp").arg(&src).arg(&old), T);
    assert!(std::fs::read(&old).unwrap() == data);
    assert_eq!(mode(&old), 0o600, "an existing destination keeps its mode");

    // DST a directory: DST/<name>.
    let dir = tmp.path().join("d");
    std::fs::create_dir(&dir).unwrap();
    run_ok(zcopy().arg("cp").arg(&src).arg(&dir), T);
    assert!(std::fs::read(dir.join("src.bin")).unwrap() == data);

    // An empty file.
    let empty = tmp.path().join("empty");
    std::fs::write(&empty, b"").unwrap();
    run_ok(
        zcopy().arg("cp").arg(&empty).arg(tmp.path().join("empty2")),
        T,
    );
    assert_eq!(std::fs::read(tmp.path().join("empty2")).unwrap().len(), 0);

    // A procfs file (size 0, content there).
    let v = tmp.path().join("version");
    run_ok(zcopy().arg("cp").arg("/proc/version").arg(&v), T);
    assert_eq!(
        std::fs::read(&v).unwrap(),
        std::fs::read("/proc/version").unwrap()
    );
}

#[test]
fn new_file_mode_is_the_source_s_less_umask_and_special_bits() {
    let tmp = TempDir::new("cli-cp-mode");
    let src = tmp.path().join("suid");
    std::fs::write(&src, b"#!/bin/sh\n").unwrap();
    set_mode(&src, 0o6775); // setuid, setgid
    let dst = tmp.path().join("copy");
    run_ok(cp_umask("027").arg(&src).arg(&dst), T);
    assert_eq!(mode(&dst), 0o750, "0o6775 less umask 027, no setuid/setgid");
    let sticky = tmp.path().join("sticky");
    std::fs::write(&sticky, b"s").unwrap();
    set_mode(&sticky, 0o1777);
    let dst = tmp.path().join("copy2");
    run_ok(cp_umask("022").arg(&sticky).arg(&dst), T);
    assert_eq!(mode(&dst), 0o755);
}

#[test]
fn preserve_keeps_mode_and_times() {
    let tmp = TempDir::new("cli-cp-p");
    let src = tmp.path().join("src");
    std::fs::write(&src, random_bytes(100_000, 8)).unwrap();
    set_mode(&src, 0o4741);
    let atime = SystemTime::UNIX_EPOCH + Duration::new(1_000_000_000, 123_456_789);
    let mtime = SystemTime::UNIX_EPOCH + Duration::new(1_100_000_000, 987_654_321);
    // Reading SRC moves its atime (relatime: it is older than mtime), so
    // its times are set again before each copy.
    let set_times = || {
        let f = std::fs::File::options().write(true).open(&src).unwrap();
        f.set_times(
            std::fs::FileTimes::new()
                .set_accessed(atime)
                .set_modified(mtime),
        )
        .unwrap();
    };
    // A new file, and an existing one with another mode: both get SRC's.
    let existing = tmp.path().join("existing");
    std::fs::write(&existing, b"old").unwrap();
    set_mode(&existing, 0o600);
    for (flag, dst) in [("-p", tmp.path().join("new")), ("--preserve", existing)] {
        set_times();
        run_ok(cp_umask("077").arg(flag).arg(&src).arg(&dst), T);
        let m = std::fs::metadata(&dst).unwrap();
        assert_eq!(m.permissions().mode() & 0o7777, 0o4741, "{flag}");
        assert_eq!(m.modified().unwrap(), mtime, "{flag}");
        assert_eq!(m.accessed().unwrap(), atime, "{flag}");
        assert_eq!(std::fs::read(&dst).unwrap(), std::fs::read(&src).unwrap());
    }
}

#[test]
fn several_sources_into_a_directory() {
    let tmp = TempDir::new("cli-cp-many");
    let dir = tmp.path().join("into");
    std::fs::create_dir(&dir).unwrap();
    let mut srcs = Vec::new();
    for i in 0..3 {
        let p = tmp.path().join(format!("f{i}"));
        std::fs::write(&p, random_bytes(1000 + i * 77_777, 40 + i as u64)).unwrap();
        srcs.push(p);
    }
    run_ok(zcopy().arg("cp").args(&srcs).arg(&dir), T);
    for p in &srcs {
        let copy = dir.join(p.file_name().unwrap());
        assert_eq!(std::fs::read(copy).unwrap(), std::fs::read(p).unwrap());
    }
    // One source missing: reported, the others copied, exit 1.
    let again = tmp.path().join("again");
    std::fs::create_dir(&again).unwrap();
    let missing = tmp.path().join("missing");
    let o = run(
        zcopy()
            .arg("cp")
            .arg(&srcs[0])
            .arg(&missing)
            .arg(&srcs[2])
            .arg(&again),
        T,
    );
    assert_eq!(o.status.code(), Some(1), "{}", stderr_str(&o));
    assert!(stderr_str(&o).contains(&missing.display().to_string()));
    assert!(again.join("f0").is_file() && again.join("f2").is_file());
}

#[test]
fn not_a_directory_where_cp_says_it() {
    let tmp = TempDir::new("cli-cp-notdir");
    let src = tmp.path().join("src");
    std::fs::write(&src, b"data").unwrap();
    let file = tmp.path().join("file");
    std::fs::write(&file, b"keep").unwrap();
    // Several sources, the target a file: nothing is copied (status 1, as
    // coreutils cp).
    let o = run(zcopy().arg("cp").arg(&src).arg(&src).arg(&file), T);
    assert_eq!(o.status.code(), Some(1), "{}", stderr_str(&o));
    assert!(
        stderr_str(&o).contains("Not a directory"),
        "{}",
        stderr_str(&o)
    );
    assert_eq!(std::fs::read(&file).unwrap(), b"keep");
    // A trailing slash on a file, and on nothing: no file is made.
    let slash = format!("{}/", file.display());
    let none = format!("{}/", tmp.path().join("none").display());
    for dst in [&slash, &none] {
        let o = run(zcopy().arg("cp").arg(&src).arg(dst), T);
        assert_eq!(o.status.code(), Some(1), "{dst}: {}", stderr_str(&o));
        let err = stderr_str(&o);
        assert!(
            err.contains("Not a directory") && err.contains(dst.as_str()),
            "{err}"
        );
    }
    assert_eq!(std::fs::read(&file).unwrap(), b"keep");
    assert!(!tmp.path().join("none").exists());
}

#[test]
fn cp_keeps_holes() {
    const MIB: u64 = 1 << 20;
    let tmp = TempDir::new("cli-cp-sparse");
    let src = tmp.path().join("sparse");
    let f = std::fs::File::create(&src).unwrap();
    for at in [0, 100 * MIB, 255 * MIB] {
        std::os::unix::fs::FileExt::write_all_at(&f, &random_bytes(MIB as usize / 3, at), at)
            .unwrap();
    }
    f.set_len(256 * MIB).unwrap();
    f.sync_all().unwrap();
    assert!(
        f.metadata().unwrap().blocks() * 512 <= 2 * MIB,
        "no holes here"
    );
    let dst = tmp.path().join("copy");
    let o = run_ok(zcopy().args(["cp", "--stats"]).arg(&src).arg(&dst), T);
    // --stats: the holes are named apart and not counted in the rate
    // (3 data extents of 1/3 MiB, each in 4 KiB blocks).
    let err = stderr_str(&o);
    let holes: u64 = err
        .split(" bytes (")
        .nth(1)
        .and_then(|r| r.split(" in holes)").next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no '(N in holes)' in {err}"));
    assert!(
        (256 * MIB - 2 * MIB..256 * MIB - MIB).contains(&holes),
        "{holes} bytes in holes: {err}"
    );
    let m = std::fs::metadata(&dst).unwrap();
    assert_eq!(m.len(), 256 * MIB);
    assert!(
        m.blocks() * 512 <= 2 * MIB,
        "the copy takes {} KiB (coreutils cp: ~1 MiB)",
        m.blocks() / 2
    );
    assert!(std::fs::read(&dst).unwrap() == std::fs::read(&src).unwrap());
}

#[test]
fn cp_stats_report_method_bytes_and_rate_concisely() {
    let tmp = TempDir::new("cli-cp-stats");
    let data = random_bytes(3 * 1024 * 1024, 5);
    let src = tmp.path().join("a");
    std::fs::write(&src, &data).unwrap();
    let o = run_ok(
        zcopy()
            .args(["cp", "--stats"])
            .arg(&src)
            .arg(tmp.path().join("b")),
        T,
    );
    let err = stderr_str(&o);
    assert!(err.contains(&format!("{} bytes", data.len())), "{err}");
    assert!(err.contains("MB/s"), "{err}");
    assert!(
        [
            "method copy_file_range",
            "method sendfile",
            "method read_write"
        ]
        .iter()
        .any(|m| err.contains(m)),
        "{err}"
    );
    // A copy between files takes no pipe: no line of zero pool counters.
    assert!(!err.contains("pool:"), "{err}");
    assert!(err.contains("1 file,"), "{err}");
    for l in err.lines() {
        assert!(
            l.chars().count() < 100,
            "{} columns: {l}",
            l.chars().count()
        );
    }
    // Options go before the command too.
    let o = run_ok(
        zcopy()
            .args(["--stats", "cp", "-r"])
            .arg(tmp.path())
            .arg(tmp.path().with_extension("copy")),
        T,
    );
    let _ = std::fs::remove_dir_all(tmp.path().with_extension("copy"));
    assert!(stderr_str(&o).contains("2 files,"), "{}", stderr_str(&o));
}

#[test]
fn cp_errors_name_the_path_and_exit_1() {
    let tmp = TempDir::new("cli-cp-err");
    let missing = tmp.path().join("missing");
    let o = run(zcopy().arg("cp").arg(&missing).arg(tmp.path().join("x")), T);
    assert_eq!(o.status.code(), Some(1));
    let err = stderr_str(&o);
    assert!(
        err.contains(&missing.display().to_string()) && err.contains("No such file"),
        "{err}"
    );

    let src = tmp.path().join("src");
    std::fs::write(&src, b"data").unwrap();
    let nodir = tmp.path().join("no/such/dir/out");
    let o = run(zcopy().arg("cp").arg(&src).arg(&nodir), T);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr_str(&o).contains(&nodir.display().to_string()),
        "{}",
        stderr_str(&o)
    );

    let o = run(zcopy().arg("cp").arg(&src).arg(&src), T);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr_str(&o).contains("same file"), "{}", stderr_str(&o));
    assert_eq!(
        std::fs::read(&src).unwrap(),
        b"data",
        "cp onto itself must not truncate"
    );

    let o = run(
        zcopy().arg("cp").arg(tmp.path()).arg(tmp.path().join("y")),
        T,
    );
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr_str(&o).contains("-r not specified; omitting directory"),
        "{}",
        stderr_str(&o)
    );

    let o = run(zcopy().arg("cp").arg(&src).arg("/dev/full"), T);
    assert_eq!(o.status.code(), Some(1));
    let err = stderr_str(&o);
    assert!(
        err.contains("/dev/full") && err.contains("No space left"),
        "{err}"
    );
}
