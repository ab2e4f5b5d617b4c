//! The Rust examples under examples/ (rust_copy, rust_relay, tokio_proxy),
//! built as a user builds them (cargo build --example, tokio_proxy with
//! --features tokio) and run for real: rust_copy sends a file to a socket,
//! the two proxies carry echo traffic byte for byte. Their sources use no
//! `unsafe` and no raw fd numbers: the public API is enough.

mod support;

use std::io::Read;
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;
use support::*;

const T: Duration = Duration::from_secs(60);

/// Builds `name` with cargo (the one running these tests) in this test
/// run's target directory and profile; returns the binary.
fn cargo_example(name: &str, features: &[&str]) -> PathBuf {
    let profile = profile_dir();
    let mut cmd = Command::new(env!("CARGO"));
    cmd.current_dir(repo())
        .args(["build", "--quiet", "--example", name]);
    if profile.file_name().is_some_and(|p| p == "release") {
        cmd.arg("--release");
    }
    for f in features {
        cmd.args(["--features", f]);
    }
    cmd.arg("--target-dir").arg(profile.parent().unwrap());
    // Building may take a while on a busy machine: bounded all the same.
    run_ok(&mut cmd, Duration::from_secs(900));
    let exe = profile.join("examples").join(name);
    assert!(exe.is_file(), "{} was not built", exe.display());
    exe
}

#[test]
fn the_examples_use_no_unsafe_and_no_raw_fds() {
    for name in ["rust_copy", "rust_relay", "tokio_proxy"] {
        let src = std::fs::read_to_string(repo().join(format!("examples/{name}.rs"))).unwrap();
        assert!(src.contains("#![forbid(unsafe_code)]"), "{name}");
        for bad in ["unsafe {", "RawFd", "as_raw_fd", "from_raw_fd", "libc::"] {
            assert!(!src.contains(bad), "{name} uses {bad}");
        }
    }
}

#[test]
fn rust_copy_sends_a_file_to_a_socket() {
    let exe = cargo_example("rust_copy", &[]);
    let tmp = TempDir::new("rust-copy");
    let data = random_bytes(5 * 1024 * 1024 + 77, 21);
    let src = tmp.path().join("src.bin");
    std::fs::write(&src, &data).unwrap();
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = l.local_addr().unwrap();
    let reader = std::thread::spawn(move || {
        let (mut s, _) = l.accept().unwrap();
        s.set_read_timeout(Some(IO_TIMEOUT)).unwrap();
        let mut got = Vec::new();
        s.read_to_end(&mut got).map(|_| got)
    });
    let o = run_ok(Command::new(&exe).arg(&src).arg(addr.to_string()), T);
    let got = reader.join().unwrap().unwrap();
    assert!(
        got == data,
        "the bytes differ ({} of {})",
        got.len(),
        data.len()
    );
    let out = stdout_str(&o);
    assert!(
        out.contains(&format!("sent {} bytes by sendfile", data.len())),
        "{out}"
    );
    // Errors: a usage line (exit 2), a missing file named (exit 1).
    let o = run(&mut Command::new(&exe), T);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr_str(&o).contains("usage"));
    let missing = tmp.path().join("missing");
    let o = run(Command::new(&exe).arg(&missing).arg(addr.to_string()), T);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr_str(&o).contains("missing"), "{}", stderr_str(&o));
}

#[test]
fn rust_relay_echoes_several_mib_on_concurrent_connections() {
    let exe = cargo_example("rust_relay", &[]);
    let (echo, echo_thread) = echo_server(4);
    let relay = Server::start(
        Command::new(exe).arg("127.0.0.1:0").arg(echo.to_string()),
        T,
    );
    let log = check_echo_relay(&relay, echo_thread, 300);
    assert_eq!(log.matches("(both ends done)").count(), 4, "{log}");
}

#[test]
fn tokio_proxy_echoes_several_mib_on_concurrent_connections() {
    let exe = cargo_example("tokio_proxy", &["tokio"]);
    let (echo, echo_thread) = echo_server(4);
    let relay = Server::start(
        Command::new(exe).arg("127.0.0.1:0").arg(echo.to_string()),
        T,
    );
    check_echo_relay(&relay, echo_thread, 400);
}

#[test]
fn the_readme_rust_quick_start_builds_in_a_user_crate() {
    // The README's ```rust block, as a user's own crate that depends on
    // zcopy by path, with unsafe code forbidden.
    let readme = std::fs::read_to_string(repo().join("README.md")).unwrap();
    let start = readme
        .find("```rust\n")
        .expect("a Rust block in the README")
        + 8;
    let len = readme[start..].find("```").unwrap();
    let block = &readme[start..start + len];
    for bad in ["unsafe", "RawFd", "as_raw_fd", "from_raw_fd"] {
        assert!(!block.contains(bad), "the quick start uses {bad}");
    }
    let code = format!("#![forbid(unsafe_code)]\n{block}");
    let tmp = TempDir::new("readme-crate");
    let manifest = format!(
        "[package]\nname = \"user\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n\
         [dependencies]\nzcopy = {{ package = \"libzcopy\", path = {:?} }}\n\n[workspace]\n",
        repo().display().to_string()
    );
    std::fs::write(tmp.path().join("Cargo.toml"), manifest).unwrap();
    std::fs::create_dir(tmp.path().join("src")).unwrap();
    std::fs::write(tmp.path().join("src/main.rs"), code).unwrap();
    // Its own target directory under ours (reused between runs).
    let target = profile_dir().parent().unwrap().join("readme-user-crate");
    run_ok(
        Command::new(env!("CARGO"))
            .current_dir(tmp.path())
            .args(["build", "--quiet", "--offline", "--target-dir"])
            .arg(&target),
        Duration::from_secs(900),
    );
}
