//! The examples for other languages, run for real against the built
//! libzcopy.so: Node.js through koffi (examples/node: copy a file, serve a
//! file to curl with zcopy_sendfile_at, relay TCP) and Go through cgo and
//! pkg-config (examples/go: copy a file, relay TCP).
//!
//! Needs node and npm (koffi is installed with npm into
//! target/<profile>/ffi-node when missing), go (Debian's golang-go),
//! pkg-config, curl and sha256sum; as root a missing tool is installed with
//! apt-get, otherwise the test fails with the command that installs it.

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::time::Duration;
use support::*;

const T: Duration = Duration::from_secs(60);

fn library() -> PathBuf {
    built_lib_dir().join("libzcopy.so")
}

// ---------------------------------------------------------------- Node.js

/// node_modules holding koffi, installed with npm once per build
/// directory.
fn koffi() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        require("node", "apt-get install -y nodejs");
        require("npm", "apt-get install -y npm");
        let dir = profile_dir().join("ffi-node");
        if !dir.join("node_modules/koffi/package.json").exists() {
            std::fs::create_dir_all(&dir).unwrap();
            run_ok(
                Command::new("npm")
                    .args(["install", "--no-audit", "--no-fund", "--loglevel=error"])
                    .arg("--prefix")
                    .arg(&dir)
                    .arg("koffi")
                    .current_dir(&dir),
                Duration::from_secs(300),
            );
        }
        assert!(
            dir.join("node_modules/koffi/package.json").exists(),
            "npm install koffi left no node_modules/koffi in {}",
            dir.display()
        );
        dir.join("node_modules")
    })
}

/// `node examples/node/SCRIPT ARGS` with koffi on NODE_PATH and the built
/// library in ZCOPY_LIBRARY.
fn node(script: &str) -> Command {
    let mut c = Command::new("node");
    c.arg(repo().join("examples/node").join(script))
        .env("NODE_PATH", koffi())
        .env("ZCOPY_LIBRARY", library());
    c
}

#[test]
fn node_copy_copies_files_and_reports_errors() {
    let tmp = TempDir::new("node-copy");
    let data = random_bytes(5 * 1024 * 1024 + 77, 21);
    let (src, dst) = (tmp.path().join("src"), tmp.path().join("dst"));
    std::fs::write(&src, &data).unwrap();
    let o = run_ok(node("copy.js").arg(&src).arg(&dst), T);
    copy_report_method(&stdout_str(&o), "", data.len(), &src, &dst);
    assert!(std::fs::read(&dst).unwrap() == data, "the copy differs");
    // A procfs file (size 0 in stat) arrives whole through a fallback.
    let v = tmp.path().join("version");
    run_ok(node("copy.js").arg("/proc/version").arg(&v), T);
    assert_eq!(
        std::fs::read(&v).unwrap(),
        std::fs::read("/proc/version").unwrap()
    );
    // /dev/full: the errno reaches the JavaScript caller by name.
    let o = run(node("copy.js").arg(&src).arg("/dev/full"), T);
    assert_eq!(o.status.code(), Some(1), "{}", stderr_str(&o));
    assert!(stderr_str(&o).contains("ENOSPC"), "{}", stderr_str(&o));
    let o = run(node("copy.js").arg("only-one"), T);
    assert_eq!(o.status.code(), Some(2));
}

/// The ABI points a JavaScript caller meets: the struct's size and
/// offsets as koffi lays them out, ZCOPY_ALL as a BigInt (the whole file)
/// against `Infinity` (converted to 0: nothing moved), and errno after a
/// call equal to the result's `error`.
#[test]
fn node_sees_the_documented_abi() {
    let tmp = TempDir::new("node-abi");
    let src = tmp.path().join("src");
    std::fs::write(&src, random_bytes(100_000, 5)).unwrap();
    let script = r#"
        const koffi = require('koffi');
        const fs = require('fs');
        const { ALL, fn, Result } = require(process.argv[1]);
        const off = (f) => koffi.offsetof(Result, f);
        console.log(`layout ${koffi.sizeof(Result)} ${off('written')} ${off('error')} ${off('method')} ${off('handled')}`);
        const src = process.argv[2];
        const run = (remain) => {
            const i = fs.openSync(src, 'r'), o = fs.openSync(src + '.out', 'w');
            const r = fn.copy(o, i, remain);
            fs.closeSync(i); fs.closeSync(o);
            return r.written;
        };
        console.log(`bigint ${run(ALL)} infinity ${run(Infinity)}`);
        const r = fn.copy(-1, 0, ALL);
        console.log(`bad fd error ${r.error} handled ${r.handled} errno ${koffi.errno()}`);
        const ok = fn.copy(fs.openSync(src + '.out', 'w'), fs.openSync(src, 'r'), ALL);
        console.log(`success error ${ok.error} errno ${koffi.errno()}`);
    "#;
    let o = run_ok(
        Command::new("node")
            .arg("-e")
            .arg(script)
            .arg(repo().join("examples/node/zcopy.js"))
            .arg(&src)
            .env("NODE_PATH", koffi())
            .env("ZCOPY_LIBRARY", library()),
        T,
    );
    let out = stdout_str(&o);
    assert!(out.contains("layout 24 0 8 12 16"), "{out}");
    assert!(out.contains("bigint 100000 infinity 0"), "{out}");
    assert!(out.contains("success error 0 errno 0"), "{out}");
    let ebadf = libc::EBADF;
    assert!(
        out.contains(&format!("bad fd error {ebadf} handled true errno {ebadf}")),
        "{out}"
    );
}

#[test]
fn node_serve_answers_curl_from_one_fd_with_sendfile_at() {
    require("curl", "apt-get install -y curl");
    let tmp = TempDir::new("node-serve");
    let data = random_bytes(8 * 1024 * 1024 + 5, 33);
    let file = tmp.path().join("data.bin");
    std::fs::write(&file, &data).unwrap();
    let server = Server::start(node("serve.js").arg(&file), T);
    let url = format!("http://{}/data.bin", server.addr());
    let curl = |extra: &[&str], out: &Path| {
        run_ok(
            Command::new("curl")
                .args(["-sS", "--max-time", "30", "-o"])
                .arg(out)
                .args(["-w", "%{http_code}"])
                .args(extra)
                .arg(&url),
            T,
        )
    };
    // Whole file, and four downloads at once from the same shared fd.
    let whole = tmp.path().join("whole");
    assert_eq!(stdout_str(&curl(&[], &whole)), "200");
    assert_eq!(sha256_file(&whole), sha256_file(&file));
    let downloads: Vec<_> = (0..4)
        .map(|i| {
            let (url, out) = (url.clone(), tmp.path().join(format!("d{i}")));
            std::thread::spawn(move || {
                run_ok(
                    Command::new("curl")
                        .args(["-sS", "--max-time", "30", "-o"])
                        .arg(&out)
                        .arg(&url),
                    T,
                );
                std::fs::read(&out).unwrap()
            })
        })
        .collect();
    for d in downloads {
        assert!(d.join().unwrap() == data, "a concurrent download differs");
    }
    // Ranges: each sent from its own offset.
    for (range, want) in [
        ("100-199", &data[100..200]),
        ("8388600-", &data[8_388_600..]),
        ("-10", &data[data.len() - 10..]),
    ] {
        let out = tmp.path().join("part");
        assert_eq!(stdout_str(&curl(&["-r", range], &out)), "206", "{range}");
        assert!(std::fs::read(&out).unwrap() == want, "range {range}");
    }
    let out = tmp.path().join("none");
    assert_eq!(stdout_str(&curl(&["-r", "99999999-"], &out)), "416");
    let log = server.log_text();
    assert!(
        log.contains("(8388613 bytes, sendfile)")
            && log.contains("sent 100-199 (100 bytes, sendfile)"),
        "{log}"
    );
}

#[test]
fn node_relay_echoes_several_mib_byte_for_byte() {
    let (echo, echo_thread) = echo_server(4);
    let relay = Server::start(node("relay.js").arg("127.0.0.1:0").arg(echo.to_string()), T);
    let log = check_echo_relay(&relay, echo_thread, 300);
    assert!(
        log.contains("6291456 bytes to target (splice)")
            && log.contains("3 bytes to client (splice)"),
        "{log}"
    );
}

/// How many of `conns` connections opened at once through the relay at
/// `addr` get their "ping" echoed within `wait` (all connections stay
/// open meanwhile, so each holds its pool threads).
fn answered_at_once(addr: &str, conns: usize, wait: Duration) -> usize {
    use std::io::{Read, Write};
    let mut socks: Vec<std::net::TcpStream> = (0..conns)
        .map(|_| std::net::TcpStream::connect(addr).unwrap())
        .collect();
    for s in &mut socks {
        s.write_all(b"ping").unwrap();
    }
    let deadline = std::time::Instant::now() + wait;
    let mut answered = 0;
    for s in &mut socks {
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        s.set_read_timeout(Some(left.max(Duration::from_millis(1))))
            .unwrap();
        let mut buf = [0u8; 4];
        if s.read_exact(&mut buf).is_ok() && &buf == b"ping" {
            answered += 1;
        }
    }
    answered
}

/// The thread-pool note of examples/node/zcopy.js, measured: each relayed
/// connection holds two of libuv's threads, so with UV_THREADPOOL_SIZE=4
/// only two of three open connections are carried at once (the third waits
/// for a thread), and with the pool relay.js sizes by default all three are.
#[test]
fn node_relay_holds_two_pool_threads_per_connection() {
    let (echo, _echo_thread) = echo_server(6);
    let small = Server::start(
        node("relay.js")
            .arg("127.0.0.1:0")
            .arg(echo.to_string())
            .env("UV_THREADPOOL_SIZE", "4"),
        T,
    );
    assert_eq!(
        answered_at_once(&small.addr(), 3, Duration::from_secs(3)),
        2,
        "with 4 pool threads: {}",
        small.log_text()
    );
    let sized = Server::start(
        node("relay.js")
            .arg("127.0.0.1:0")
            .arg(echo.to_string())
            .env_remove("UV_THREADPOOL_SIZE"),
        T,
    );
    assert_eq!(
        answered_at_once(&sized.addr(), 3, Duration::from_secs(10)),
        3,
        "with relay.js's own pool size: {}",
        sized.log_text()
    );
}

// ---------------------------------------------------------------- Go

/// Builds examples/go/PROGRAM with cgo; `#cgo pkg-config: zcopy` finds the
/// library through a zcopy.pc written for the built library (as `make
/// install` writes one for an installed copy). Returns the executable and
/// the directory to put on LD_LIBRARY_PATH.
fn go_build(program: &str, tmp: &Path) -> (PathBuf, PathBuf) {
    require("go", "apt-get install -y golang-go");
    require("pkg-config", "apt-get install -y pkg-config");
    let lib = link_dir(tmp);
    let pc = tmp.join("pkgconfig");
    std::fs::create_dir_all(&pc).unwrap();
    std::fs::write(
        pc.join("zcopy.pc"),
        format!(
            "libdir={}\nincludedir={}\n\nName: zcopy\nDescription: zcopy (test build)\n\
             Version: {}\nLibs: -L${{libdir}} -lzcopy\nCflags: -I${{includedir}}\n",
            lib.display(),
            repo().join("include").display(),
            env!("CARGO_PKG_VERSION")
        ),
    )
    .unwrap();
    let o = run_ok(
        Command::new("pkg-config")
            .args(["--cflags", "--libs", "zcopy"])
            .env("PKG_CONFIG_PATH", &pc),
        T,
    );
    assert!(stdout_str(&o).contains("-lzcopy"), "{}", stdout_str(&o));
    let exe = tmp.join(program);
    run_ok(
        Command::new("go")
            .args(["build", "-o"])
            .arg(&exe)
            .arg(format!("./{program}"))
            .current_dir(repo().join("examples/go"))
            .env("PKG_CONFIG_PATH", &pc)
            .env("CGO_ENABLED", "1")
            // A cache of its own: a shared one would keep the cgo link flags
            // of an earlier run's (deleted) library directory. Nothing is
            // fetched.
            .env("GOCACHE", tmp.join("gocache"))
            .env("GOPATH", tmp.join("gopath"))
            .env("GOFLAGS", "-mod=mod")
            .env("GOPROXY", "off")
            .env("GOTOOLCHAIN", "local"),
        Duration::from_secs(300),
    );
    (exe, lib)
}

#[test]
fn go_copy_copies_a_file_through_cgo() {
    let tmp = TempDir::new("go-copy");
    let (exe, lib) = go_build("copy", tmp.path());
    let data = random_bytes(5 * 1024 * 1024 + 3, 41);
    let (src, dst) = (tmp.path().join("src"), tmp.path().join("dst"));
    std::fs::write(&src, &data).unwrap();
    let o = run_ok(
        Command::new(&exe)
            .arg(&src)
            .arg(&dst)
            .env("LD_LIBRARY_PATH", &lib),
        T,
    );
    let out = stdout_str(&o);
    assert!(
        out.starts_with(&format!("copied {} bytes from", data.len()))
            && out.contains(&format!("(zcopy {})", env!("CARGO_PKG_VERSION"))),
        "{out}"
    );
    assert!(std::fs::read(&dst).unwrap() == data, "the copy differs");
    let o = run(
        Command::new(&exe)
            .arg(&src)
            .arg("/dev/full")
            .env("LD_LIBRARY_PATH", &lib),
        T,
    );
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr_str(&o).contains("no space left on device"),
        "{}",
        stderr_str(&o)
    );
}

#[test]
fn go_relay_echoes_several_mib_byte_for_byte() {
    let tmp = TempDir::new("go-relay");
    let (exe, lib) = go_build("relay", tmp.path());
    let (echo, echo_thread) = echo_server(4);
    let relay = Server::start(
        Command::new(&exe)
            .arg("127.0.0.1:0")
            .arg(echo.to_string())
            .env("LD_LIBRARY_PATH", &lib),
        T,
    );
    let log = check_echo_relay(&relay, echo_thread, 300);
    assert!(
        log.contains("6291456 bytes to target (splice)")
            && log.contains("3 bytes to client (splice)"),
        "{log}"
    );
}

/// The Go examples are as gofmt writes them, and go vet finds nothing in
/// them (cgo included).
#[test]
fn go_examples_are_gofmt_and_vet_clean() {
    let tmp = TempDir::new("go-vet");
    // go_build writes the zcopy.pc that vet's cgo step needs.
    let _ = go_build("copy", tmp.path());
    let o = run_ok(
        Command::new("gofmt")
            .arg("-l")
            .arg(repo().join("examples/go")),
        T,
    );
    assert_eq!(stdout_str(&o), "", "files gofmt would change");
    run_ok(
        Command::new("go")
            .args(["vet", "./..."])
            .current_dir(repo().join("examples/go"))
            .env("PKG_CONFIG_PATH", tmp.path().join("pkgconfig"))
            .env("GOCACHE", tmp.path().join("gocache"))
            .env("GOPATH", tmp.path().join("gopath"))
            .env("GOFLAGS", "-mod=mod")
            .env("GOPROXY", "off")
            .env("GOTOOLCHAIN", "local"),
        Duration::from_secs(300),
    );
}
