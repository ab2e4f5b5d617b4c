//! `zcopy cat`: to a pipe, a file, an O_APPEND file and a socket; stdin as
//! "-" and with no FILE; a bad file reported and skipped.

mod support;

use std::io::Read;
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;
use support::*;

fn cat_fixture(tmp: &Path) -> (Vec<PathBuf>, Vec<u8>) {
    let mut all = Vec::new();
    let mut paths = Vec::new();
    for (i, n) in [1_048_583usize, 13, 2 * 1024 * 1024].iter().enumerate() {
        let d = random_bytes(*n, 20 + i as u64);
        let p = tmp.join(format!("part{i}"));
        std::fs::write(&p, &d).unwrap();
        all.extend_from_slice(&d);
        paths.push(p);
    }
    (paths, all)
}

#[test]
fn cat_to_a_pipe_a_file_and_an_append_file() {
    let tmp = TempDir::new("cli-cat");
    let (paths, all) = cat_fixture(tmp.path());
    // stdout a pipe.
    let o = run_ok(zcopy().arg("cat").args(&paths), T);
    assert!(
        o.stdout == all,
        "pipe: {} bytes, want {}",
        o.stdout.len(),
        all.len()
    );
    // stdout a regular file.
    let out = tmp.path().join("out");
    let f = std::fs::File::create(&out).unwrap();
    run_own_stdout(zcopy().arg("cat").args(&paths).stdout(Stdio::from(f)), T);
    assert!(std::fs::read(&out).unwrap() == all);
    // stdout an O_APPEND file (>>).
    let app = tmp.path().join("append");
    std::fs::write(&app, b"HEAD").unwrap();
    let f = std::fs::OpenOptions::new().append(true).open(&app).unwrap();
    run_own_stdout(zcopy().arg("cat").args(&paths).stdout(Stdio::from(f)), T);
    let got = std::fs::read(&app).unwrap();
    assert!(got.starts_with(b"HEAD") && got[4..] == all[..]);
}

#[test]
fn cat_reads_stdin_as_dash_and_with_no_file() {
    let tmp = TempDir::new("cli-cat-stdin");
    let (paths, _) = cat_fixture(tmp.path());
    // stdin as "-", between files.
    let stdin_data = random_bytes(300_000, 77);
    let o = run_input(
        zcopy().arg("cat").arg(&paths[1]).arg("-").arg(&paths[1]),
        stdin_data.clone(),
        T,
    );
    assert!(o.status.success(), "{}", stderr_str(&o));
    let small = std::fs::read(&paths[1]).unwrap();
    let want: Vec<u8> = [small.clone(), stdin_data.clone(), small].concat();
    assert!(o.stdout == want);
    // No FILE at all: stdin, as cat.
    let o = run_input(zcopy().arg("cat"), stdin_data.clone(), T);
    assert!(o.status.success(), "{}", stderr_str(&o));
    assert!(o.stdout == stdin_data, "{} bytes", o.stdout.len());
    let o = run_input(zcopy().args(["cat", "--stats"]), b"abc".to_vec(), T);
    assert_eq!(o.stdout, b"abc");
    assert!(
        stderr_str(&o).contains("'stdin': 3 bytes"),
        "{}",
        stderr_str(&o)
    );
}

#[test]
fn cat_to_a_socket() {
    let tmp = TempDir::new("cli-cat-sock");
    let (paths, all) = cat_fixture(tmp.path());
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let out = TcpStream::connect(l.local_addr().unwrap()).unwrap();
    let (mut peer, _) = l.accept().unwrap();
    peer.set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    let reader = std::thread::spawn(move || {
        let mut v = Vec::new();
        peer.read_to_end(&mut v).map(|_| v)
    });
    let o = run_own_stdout(
        zcopy()
            .args(["cat", "--stats"])
            .args(&paths)
            .stdout(Stdio::from(std::os::fd::OwnedFd::from(out))),
        T,
    );
    let got = reader.join().unwrap().unwrap();
    assert!(
        got == all,
        "socket: {} bytes, want {}",
        got.len(),
        all.len()
    );
    let err = stderr_str(&o);
    // file -> socket is sendfile's case.
    assert!(err.contains("method sendfile"), "{err}");
    assert!(err.contains(&format!("total {} bytes", all.len())), "{err}");
    // Concise: no line of zero pool counters (sendfile takes no pipe), no
    // line as wide as a terminal.
    assert!(!err.contains("pool:"), "{err}");
    for l in err.lines() {
        assert!(
            l.chars().count() < 100,
            "{} columns: {l}",
            l.chars().count()
        );
    }
}

#[test]
fn cat_reports_a_bad_file_and_goes_on() {
    let tmp = TempDir::new("cli-cat-err");
    let (paths, _) = cat_fixture(tmp.path());
    let missing = tmp.path().join("missing");
    let o = run(
        zcopy()
            .arg("cat")
            .arg(&paths[1])
            .arg(&missing)
            .arg(&paths[1]),
        T,
    );
    assert_eq!(o.status.code(), Some(1));
    let small = std::fs::read(&paths[1]).unwrap();
    assert_eq!(o.stdout, [small.clone(), small].concat());
    let err = stderr_str(&o);
    assert!(
        err.contains(&missing.display().to_string()) && err.contains("No such file"),
        "{err}"
    );
    let o = run(zcopy().arg("cat").arg(tmp.path()), T);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr_str(&o).contains(&tmp.path().display().to_string()),
        "{}",
        stderr_str(&o)
    );
}
