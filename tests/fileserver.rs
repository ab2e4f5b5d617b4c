//! examples/fileserver.c, compiled as C99 with -Wall -Wextra -Werror
//! -pedantic against the built libzcopy.so, driven by curl and raw sockets:
//! whole files and HEAD, ranges (206, Content-Range, 416), path escapes
//! refused (dot segments, absolute, relative and directory symlinks, a file
//! swapped for a symlink after it was cached), keep-alive (hundreds of
//! requests and a pipelined batch on one connection), a file replaced on
//! disk, concurrent downloads that share one fd (counted in
//! /proc/PID/fd), a stalled client next to others on one event loop, an
//! event loop that sleeps only in epoll_wait while eight clients read
//! slowly (sampled from /proc/PID/task/TID/syscall), the log off unless
//! -v, checked by SHA-256.
//!
//! Needs gcc, curl and sha256sum (a missing one fails the test with the
//! command that installs it).

mod support;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::Command;
use std::time::{Duration, Instant};
use support::*;

const T: Duration = Duration::from_secs(60);

struct Site {
    _tmp: TempDir,
    root: std::path::PathBuf,
    big: Vec<u8>,
    server: Server,
}

/// The test site, served with `-v` (a log line per request: some tests
/// count them).
fn site(tag: &str) -> Site {
    site_with(tag, &["-v"])
}

fn site_with(tag: &str, opts: &[&str]) -> Site {
    site_env(tag, opts, &[])
}

fn site_env(tag: &str, opts: &[&str], env: &[(&str, &str)]) -> Site {
    require("curl", "apt-get install -y curl");
    let tmp = TempDir::new(tag);
    let exe = build_example("fileserver", tmp.path());
    let root = tmp.path().join("www");
    std::fs::create_dir_all(root.join("sub/dir")).unwrap();
    let big = random_bytes(6 * 1024 * 1024 + 12345, 42);
    std::fs::write(root.join("big.bin"), &big).unwrap();
    std::fs::write(root.join("small.txt"), b"hello, zcopy\n").unwrap();
    std::fs::write(root.join("empty"), b"").unwrap();
    std::fs::write(root.join("sub/dir/index.html"), b"<p>index</p>\n").unwrap();
    std::fs::create_dir_all(tmp.path().join("outside")).unwrap();
    std::fs::write(tmp.path().join("outside/secret.txt"), b"TOP SECRET\n").unwrap();
    std::os::unix::fs::symlink(tmp.path().join("outside/secret.txt"), root.join("link")).unwrap();
    // Escapes through relative symlinks, and through a directory symlink.
    std::os::unix::fs::symlink("../outside/secret.txt", root.join("rel-link")).unwrap();
    std::os::unix::fs::symlink("../../../outside", root.join("sub/dir/out")).unwrap();
    std::os::unix::fs::symlink(tmp.path().join("outside"), root.join("outdir")).unwrap();
    // A relative symlink that stays inside the root is followed.
    std::os::unix::fs::symlink("../small.txt", root.join("sub/inside-link")).unwrap();
    let mut cmd = Command::new(&exe);
    cmd.args(opts).arg(&root).arg("0");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let server = Server::start(&mut cmd, T);
    Site {
        _tmp: tmp,
        root,
        big,
        server,
    }
}

impl Site {
    fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.server.addr(), path)
    }

    /// curl: returns (status, headers, body).
    fn curl(&self, path: &str, extra: &[&str]) -> (u32, String, Vec<u8>) {
        let dir = self.root.parent().unwrap();
        let n = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos();
        let hdr = dir.join(format!("h-{n}"));
        let body = dir.join(format!("b-{n}"));
        let o = run_ok(
            Command::new("curl")
                .args(["-sS", "--path-as-is", "--max-time", "30", "-D"])
                .arg(&hdr)
                .arg("-o")
                .arg(&body)
                .args(["-w", "%{http_code}"])
                .args(extra)
                .arg(self.url(path)),
            T,
        );
        let code: u32 = stdout_str(&o).trim().parse().unwrap();
        let headers = std::fs::read_to_string(&hdr).unwrap_or_default();
        let bytes = std::fs::read(&body).unwrap_or_default();
        let _ = std::fs::remove_file(&hdr);
        let _ = std::fs::remove_file(&body);
        (code, headers, bytes)
    }

    /// The number of fds the server holds open on `name` under the root.
    fn fds_on(&self, name: &str) -> usize {
        let want = self.root.join(name);
        let dir = format!("/proc/{}/fd", self.server.bg.child.id());
        std::fs::read_dir(dir)
            .unwrap()
            .flatten()
            .filter(|e| {
                std::fs::read_link(e.path())
                    .map(|t| t == want)
                    .unwrap_or(false)
            })
            .count()
    }
}

fn header_value(headers: &str, name: &str) -> Option<String> {
    headers.lines().find_map(|l| {
        let (k, v) = l.split_once(':')?;
        k.eq_ignore_ascii_case(name).then(|| v.trim().to_string())
    })
}

#[test]
fn fileserver_serves_whole_files_and_head() {
    let s = site("fs-get");
    let (code, h, body) = s.curl("/big.bin", &[]);
    assert_eq!(code, 200);
    assert_eq!(
        header_value(&h, "Content-Length"),
        Some(s.big.len().to_string())
    );
    assert_eq!(header_value(&h, "Accept-Ranges").as_deref(), Some("bytes"));
    assert_eq!(
        sha256_bytes(&body, s.root.parent().unwrap()),
        sha256_bytes(&s.big, s.root.parent().unwrap())
    );
    assert!(body == s.big);

    let (code, h, body) = s.curl("/small.txt", &[]);
    assert_eq!((code, body.as_slice()), (200, &b"hello, zcopy\n"[..]));
    assert!(header_value(&h, "Content-Type")
        .unwrap()
        .starts_with("text/plain"));

    let (code, h, body) = s.curl("/empty", &[]);
    assert_eq!((code, body.len()), (200, 0));
    assert_eq!(header_value(&h, "Content-Length").as_deref(), Some("0"));

    let (code, _, body) = s.curl("/sub/dir/", &[]);
    assert_eq!((code, body.as_slice()), (200, &b"<p>index</p>\n"[..]));

    // HEAD: the headers of a GET, no body.
    let (code, h, body) = s.curl("/big.bin", &["-I"]);
    assert_eq!(code, 200);
    assert_eq!(
        header_value(&h, "Content-Length"),
        Some(s.big.len().to_string())
    );
    assert!(body.len() < 400, "HEAD sent a body"); // -I writes the headers to -o

    let (code, _, _) = s.curl("/missing.bin", &[]);
    assert_eq!(code, 404);
    let (code, h, _) = s.curl("/big.bin", &["-X", "POST", "-d", "x"]);
    assert_eq!(code, 405);
    assert_eq!(header_value(&h, "Allow").as_deref(), Some("GET, HEAD"));
}

#[test]
fn fileserver_answers_ranges_with_206_and_content_range() {
    let s = site("fs-range");
    let size = s.big.len();
    let dir = s.root.parent().unwrap().to_path_buf();
    let cases: Vec<(String, usize, usize)> = vec![
        ("0-0".into(), 0, 1),
        ("0-1023".into(), 0, 1024),
        ("1048576-2097151".into(), 1048576, 1048576),
        ("100-".into(), 100, size - 100),
        ("-5000".into(), size - 5000, 5000),
        (format!("{}-{}", size - 10, size + 1000), size - 10, 10), // end clamped
        (format!("-{}", size * 2), 0, size),                       // suffix longer than the file
        (format!("{}-{}", size - 1, size - 1), size - 1, 1),
    ];
    for (spec, start, len) in &cases {
        let (code, h, body) = s.curl("/big.bin", &["-r", spec]);
        assert_eq!(code, 206, "bytes={spec}");
        assert_eq!(
            header_value(&h, "Content-Range"),
            Some(format!("bytes {}-{}/{}", start, start + len - 1, size)),
            "bytes={spec}"
        );
        assert_eq!(
            header_value(&h, "Content-Length"),
            Some(len.to_string()),
            "bytes={spec}"
        );
        let want = &s.big[*start..start + len];
        assert_eq!(
            sha256_bytes(&body, &dir),
            sha256_bytes(want, &dir),
            "bytes={spec}"
        );
        assert!(body == want, "bytes={spec}: body differs");
    }
    // Unsatisfiable: 416 with the size.
    for spec in [
        format!("{size}-"),
        format!("{}-{}", size + 5, size + 10),
        "-0".to_string(),
    ] {
        let (code, h, _) = s.curl("/big.bin", &["-H", &format!("Range: bytes={spec}")]);
        assert_eq!(code, 416, "bytes={spec}");
        assert_eq!(
            header_value(&h, "Content-Range"),
            Some(format!("bytes */{size}"))
        );
    }
    // Malformed or multiple ranges: the whole file.
    for spec in ["bytes=5-2", "bytes=abc", "bytes=0-1,5-6", "items=0-5"] {
        let (code, _, body) = s.curl("/big.bin", &["-H", &format!("Range: {spec}")]);
        assert_eq!(code, 200, "{spec}");
        assert!(body == s.big, "{spec}");
    }
    // A range of an empty file cannot be satisfied.
    let (code, _, _) = s.curl("/empty", &["-r", "0-0"]);
    assert_eq!(code, 416);
}

#[test]
fn fileserver_refuses_to_leave_its_root() {
    refuses_to_leave_its_root(site("fs-escape"), true);
}

#[test]
fn fileserver_refuses_to_leave_its_root_without_openat2() {
    // The component walk used where openat2 is missing refuses every
    // symlink, also those that stay inside.
    let s = site_env("fs-escape-walk", &["-v"], &[("FILESERVER_NO_OPENAT2", "1")]);
    refuses_to_leave_its_root(s, false);
}

fn refuses_to_leave_its_root(s: Site, follows_inside_links: bool) {
    for path in [
        "/../outside/secret.txt",
        "/%2e%2e/outside/secret.txt",
        "/%2E%2E/%2e%2e/%2e%2e/etc/passwd",
        "/sub/../../outside/secret.txt",
        "/sub/%2e%2e/%2e%2e/outside/secret.txt",
        "/..%2foutside/secret.txt",
        "/../../../../etc/passwd",
        "/link",
        "/rel-link",
        "/sub/dir/out/secret.txt",
        "/outdir/secret.txt",
        "/outdir/",
    ] {
        let (code, _, body) = s.curl(path, &[]);
        assert!(code == 403 || code == 404, "{path}: {code}");
        let text = String::from_utf8_lossy(&body);
        assert!(
            !text.contains("TOP SECRET") && !text.contains("root:"),
            "{path} leaked: {text}"
        );
    }
    let (code, _, _) = s.curl("/small%00.txt", &[]);
    assert_eq!(code, 400);
    // Symlinks that stay beneath the root are fine.
    let (code, _, body) = s.curl("/sub/inside-link", &[]);
    if follows_inside_links {
        assert_eq!((code, body.as_slice()), (200, &b"hello, zcopy\n"[..]));
    } else {
        assert_eq!(code, 403);
    }
    let (code, _, body) = s.curl("/sub/dir/index.html", &[]);
    assert_eq!((code, body.as_slice()), (200, &b"<p>index</p>\n"[..]));
    // A file swapped for an escaping symlink after it was cached is
    // refused: the cached fd is not served for the new inode.
    let (code, _, _) = s.curl("/small.txt", &[]);
    assert_eq!(code, 200);
    let swapped = s.root.join("swapped.txt");
    std::fs::write(&swapped, b"inside\n").unwrap();
    let (code, _, body) = s.curl("/swapped.txt", &[]);
    assert_eq!((code, body.as_slice()), (200, &b"inside\n"[..]));
    std::fs::remove_file(&swapped).unwrap();
    std::os::unix::fs::symlink("../outside/secret.txt", &swapped).unwrap();
    let (code, _, body) = s.curl("/swapped.txt", &[]);
    assert!(code == 403 || code == 404, "swapped: {code}");
    assert!(!String::from_utf8_lossy(&body).contains("TOP SECRET"));
    // Still serving.
    let (code, _, _) = s.curl("/small.txt", &[]);
    assert_eq!(code, 200);
}

#[test]
fn fileserver_concurrent_downloads_share_one_fd() {
    let s = site("fs-concurrent");
    let size = s.big.len();
    let dir = s.root.parent().unwrap().to_path_buf();
    let want_full = sha256_bytes(&s.big, &dir);
    // 8 curl processes at once: 4 whole downloads and 4 ranges, rate
    // limited so that they overlap.
    let ranges: Vec<Option<(usize, usize)>> = vec![
        None,
        Some((0, size / 2)),
        None,
        Some((size / 3, size - size / 3)),
        None,
        Some((size - 777_777, 777_777)),
        None,
        Some((12345, 2_000_000)),
    ];
    let started = Instant::now();
    let mut handles = Vec::new();
    for (i, r) in ranges.iter().enumerate() {
        let url = s.url("/big.bin");
        let out = dir.join(format!("concurrent-{i}"));
        let r = *r;
        handles.push(std::thread::spawn(move || {
            let mut cmd = Command::new("curl");
            cmd.args(["-sS", "--fail", "--max-time", "60", "-o"])
                .arg(&out);
            if let Some((a, len)) = r {
                cmd.arg("-r").arg(format!("{}-{}", a, a + len - 1));
            }
            run_ok(cmd.arg(&url), Duration::from_secs(90));
            out
        }));
    }
    let outs: Vec<_> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    eprintln!("8 concurrent downloads in {:?}", started.elapsed());
    for (out, r) in outs.iter().zip(&ranges) {
        let got = sha256_file(out);
        match r {
            None => assert_eq!(got, want_full, "{}", out.display()),
            Some((a, len)) => assert_eq!(
                got,
                sha256_bytes(&s.big[*a..a + len], &dir),
                "{}",
                out.display()
            ),
        }
    }
    assert_eq!(
        s.fds_on("big.bin"),
        1,
        "one cached fd for big.bin afterwards"
    );
    let log = s
        .server
        .log_when(IO_TIMEOUT, |l| l.contains("with sendfile"));
    assert!(log.contains("with sendfile"), "{log}");
}

#[test]
fn fileserver_keeps_connections_alive_and_sees_replaced_files() {
    let s = site("fs-keepalive");
    // Two requests on one connection (curl reuses it).
    let o = run_ok(
        Command::new("curl")
            .args([
                "-sS",
                "--max-time",
                "30",
                "-o",
                "/dev/null",
                "-o",
                "/dev/null",
            ])
            .args(["-w", "%{http_code} %{num_connects}\n"])
            .arg(s.url("/small.txt"))
            .arg(s.url("/big.bin")),
        T,
    );
    let out = stdout_str(&o);
    assert_eq!(
        out.lines().collect::<Vec<_>>(),
        vec!["200 1", "200 0"],
        "{out}"
    );
    // A file replaced on disk (new inode) is served anew.
    let (_, _, body) = s.curl("/small.txt", &[]);
    assert_eq!(body, b"hello, zcopy\n");
    let tmp = s.root.join("small.txt.new");
    std::fs::write(&tmp, b"replaced\n").unwrap();
    std::fs::rename(&tmp, s.root.join("small.txt")).unwrap();
    let (code, _, body) = s.curl("/small.txt", &[]);
    assert_eq!((code, body.as_slice()), (200, &b"replaced\n"[..]));
}

/// Sends a GET on a raw socket and reads nothing yet: with a body larger
/// than what loopback socket buffers hold (tcp_wmem + tcp_rmem maxima,
/// about 10 MiB), the server stays blocked mid-body.
fn stalled_get(addr: &str, path: &str, range: Option<(usize, usize)>) -> TcpStream {
    let s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(IO_TIMEOUT)).unwrap();
    s.set_write_timeout(Some(IO_TIMEOUT)).unwrap();
    let range = match range {
        Some((a, len)) => format!("Range: bytes={}-{}\r\n", a, a + len - 1),
        None => String::new(),
    };
    (&s).write_all(
        format!("GET {path} HTTP/1.1\r\nHost: test\r\n{range}Connection: close\r\n\r\n").as_bytes(),
    )
    .unwrap();
    s
}

/// Reads a whole response (Connection: close): (status, body).
fn read_response(s: TcpStream) -> (u32, Vec<u8>) {
    let mut all = Vec::new();
    (&s).read_to_end(&mut all).unwrap();
    let end = all
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("no header end")
        + 4;
    let head = String::from_utf8_lossy(&all[..end]).into_owned();
    let status: u32 = head.split_whitespace().nth(1).unwrap().parse().unwrap();
    let len: usize = header_value(&head, "Content-Length")
        .unwrap()
        .parse()
        .unwrap();
    let body = all[end..].to_vec();
    assert_eq!(body.len(), len, "short body: {head}");
    (status, body)
}

#[test]
fn fileserver_serves_simultaneous_requests_from_one_fd() {
    let s = site("fs-onefd");
    let huge = random_bytes(48 * 1024 * 1024 + 1, 99);
    std::fs::write(s.root.join("huge.bin"), &huge).unwrap();
    let size = huge.len();
    let reqs = [
        None,
        Some((0, size / 2)),
        None,
        Some((size / 4, size / 2)),
        Some((size - 20_000_000, 20_000_000)),
    ];
    // Five requests in flight at once, each server thread blocked in
    // zcopy_sendfile_at on a full socket.
    let socks: Vec<TcpStream> = reqs
        .iter()
        .map(|r| stalled_get(&s.server.addr(), "/huge.bin", *r))
        .collect();
    let deadline = Instant::now() + Duration::from_secs(10);
    while !s.server.log_text().is_empty() && s.fds_on("huge.bin") == 0 && Instant::now() < deadline
    {
        std::thread::sleep(Duration::from_millis(20));
    }
    std::thread::sleep(Duration::from_millis(300));
    let during = s.fds_on("huge.bin");
    let finished = s.server.log_text().matches("/huge.bin").count();
    let in_flight = reqs.len() - finished;
    assert!(
        in_flight >= 2,
        "only {in_flight} responses still in flight: {}",
        s.server.log_text()
    );
    assert_eq!(
        during, 1,
        "{in_flight} simultaneous responses must share one fd"
    );
    // Now let them finish; every body is right.
    let readers: Vec<_> = socks
        .into_iter()
        .map(|c| std::thread::spawn(move || read_response(c)))
        .collect();
    let dir = s.root.parent().unwrap().to_path_buf();
    for (h, r) in readers.into_iter().zip(reqs) {
        let (status, body) = h.join().unwrap();
        let (a, len) = r.unwrap_or((0, size));
        assert_eq!(status, if r.is_some() { 206 } else { 200 });
        assert_eq!(
            sha256_bytes(&body, &dir),
            sha256_bytes(&huge[a..a + len], &dir)
        );
    }
    assert_eq!(s.fds_on("huge.bin"), 1);
}

/// Reads one response from a keep-alive stream: (status, body).
fn read_one(r: &mut impl std::io::BufRead) -> (u32, Vec<u8>) {
    let mut head = String::new();
    loop {
        let mut line = String::new();
        assert!(r.read_line(&mut line).unwrap() > 0, "stream ended: {head}");
        if line == "\r\n" {
            break;
        }
        head.push_str(&line);
    }
    let status: u32 = head.split_whitespace().nth(1).unwrap().parse().unwrap();
    let len: usize = header_value(&head, "Content-Length")
        .unwrap()
        .parse()
        .unwrap();
    let mut body = vec![0; len];
    r.read_exact(&mut body).unwrap();
    (status, body)
}

#[test]
fn fileserver_serves_many_requests_on_one_keepalive_connection() {
    let s = site("fs-many");
    let sock = TcpStream::connect(s.server.addr()).unwrap();
    sock.set_read_timeout(Some(IO_TIMEOUT)).unwrap();
    let mut r = std::io::BufReader::new(sock.try_clone().unwrap());
    let big = &s.big;
    // (request line + headers, status, body) for request i.
    let req = |i: usize| -> (String, u32, Vec<u8>) {
        match i % 4 {
            0 => (
                "GET /small.txt HTTP/1.1\r\nHost: t\r\n\r\n".into(),
                200,
                b"hello, zcopy\n".to_vec(),
            ),
            1 => {
                let a = (i * 7919) % (big.len() - 40_000);
                (
                    format!(
                        "GET /big.bin HTTP/1.1\r\nHost: t\r\nRange: bytes={}-{}\r\n\r\n",
                        a,
                        a + 39_999
                    ),
                    206,
                    big[a..a + 40_000].to_vec(),
                )
            }
            2 => (
                "GET /missing HTTP/1.1\r\nHost: t\r\n\r\n".into(),
                404,
                b"404 Not Found\n".to_vec(),
            ),
            _ => (
                "GET /sub/dir/ HTTP/1.1\r\nHost: t\r\n\r\n".into(),
                200,
                b"<p>index</p>\n".to_vec(),
            ),
        }
    };
    // 400 requests one after the other on the one connection.
    for i in 0..400 {
        let (text, status, body) = req(i);
        (&sock).write_all(text.as_bytes()).unwrap();
        let (got_status, got) = read_one(&mut r);
        assert_eq!(got_status, status, "request {i}");
        assert!(got == body, "request {i}: body differs");
    }
    // 64 pipelined in one write, answered in order.
    let batch: String = (0..64).map(|i| req(i).0).collect();
    (&sock).write_all(batch.as_bytes()).unwrap();
    for i in 0..64 {
        let (_, status, body) = req(i);
        let (got_status, got) = read_one(&mut r);
        assert_eq!(got_status, status, "pipelined {i}");
        assert!(got == body, "pipelined {i}: body differs");
    }
    // Connection: close ends it after the response.
    (&sock)
        .write_all(b"GET /small.txt HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
        .unwrap();
    assert_eq!(read_one(&mut r).0, 200);
    let mut rest = Vec::new();
    r.read_to_end(&mut rest).unwrap();
    assert!(rest.is_empty(), "bytes after Connection: close");
    let want = 400 + 64 + 1;
    let log = s
        .server
        .log_when(IO_TIMEOUT, |l| l.matches("GET /").count() >= want);
    assert_eq!(log.matches("GET /").count(), want);
}

#[test]
fn fileserver_logs_nothing_per_request_unless_asked() {
    let s = site_with("fs-quiet", &[]);
    for (path, code) in [("/small.txt", 200), ("/missing", 404), ("/big.bin", 200)] {
        assert_eq!(s.curl(path, &[]).0, code, "{path}");
    }
    assert_eq!(s.curl("/big.bin", &["-r", "0-99"]).0, 206);
    std::thread::sleep(Duration::from_millis(200));
    let log = s.server.log_text();
    assert_eq!(log.lines().count(), 1, "only the start line: {log}");
    // Bad options are refused with the usage.
    let exe = s.root.parent().unwrap().join("fileserver");
    for bad in [&["-s", "99999"][..], &["-t", "0"], &["-x"], &["-s", "12k"]] {
        let o = run(Command::new(&exe).args(bad).arg(&s.root).arg("0"), T);
        assert_eq!(o.status.code(), Some(2), "{bad:?}");
        assert!(stderr_str(&o).contains("usage"), "{bad:?}");
    }
}

#[test]
fn fileserver_says_how_each_body_went() {
    // Default: a small body is read and sent with the headers; a big one
    // goes through sendfile.
    let s = site("fs-how");
    assert_eq!(s.curl("/small.txt", &[]).2, b"hello, zcopy\n");
    assert!(s.curl("/big.bin", &[]).2 == s.big);
    let log = s
        .server
        .log_when(IO_TIMEOUT, |l| l.matches("GET /").count() >= 2);
    assert!(
        log.contains("GET /small.txt -> 200, 13 bytes with pread+send"),
        "{log}"
    );
    assert!(
        log.contains(&format!(
            "GET /big.bin -> 200, {} bytes with sendfile",
            s.big.len()
        )),
        "{log}"
    );
    // -s 0: every body through zcopy_sendfile_at, small ranges too.
    let s = site_with("fs-how0", &["-v", "-s", "0"]);
    assert_eq!(s.curl("/small.txt", &[]).2, b"hello, zcopy\n");
    let (code, _, body) = s.curl("/big.bin", &["-r", "10-4105"]);
    assert_eq!(code, 206);
    assert!(body == s.big[10..4106]);
    let log = s
        .server
        .log_when(IO_TIMEOUT, |l| l.matches("GET /").count() >= 2);
    assert!(
        log.contains("GET /small.txt -> 200, 13 bytes with sendfile"),
        "{log}"
    );
    assert!(log.contains("bytes 10-4105/"), "{log}");
    assert!(log.contains("-> 206, 4096 bytes with sendfile"), "{log}");
}

#[test]
fn fileserver_a_stalled_client_does_not_hold_up_its_loop() {
    // One event loop: a client that stops reading mid-body must not keep
    // it from answering others.
    let s = site_with("fs-stall", &["-v", "-t", "1"]);
    let huge = random_bytes(32 * 1024 * 1024 + 7, 5);
    std::fs::write(s.root.join("huge.bin"), &huge).unwrap();
    let stalled = stalled_get(&s.server.addr(), "/huge.bin", None);
    let deadline = Instant::now() + Duration::from_secs(10);
    while s.fds_on("huge.bin") == 0 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(s.fds_on("huge.bin"), 1, "the stalled response has begun");
    for _ in 0..20 {
        let t0 = Instant::now();
        let (code, _, body) = s.curl("/small.txt", &["--max-time", "5"]);
        assert_eq!((code, body.as_slice()), (200, &b"hello, zcopy\n"[..]));
        assert!(t0.elapsed() < Duration::from_secs(3), "{:?}", t0.elapsed());
    }
    assert!(
        !s.server.log_text().contains("/huge.bin"),
        "the stalled body finished early"
    );
    let (status, body) = read_response(stalled);
    assert_eq!(status, 200);
    let dir = s.root.parent().unwrap().to_path_buf();
    assert_eq!(sha256_bytes(&body, &dir), sha256_bytes(&huge, &dir));
}

#[test]
fn fileserver_closes_connections_whose_client_left_mid_body() {
    let s = site("fs-abort");
    let huge = random_bytes(24 * 1024 * 1024 + 3, 8);
    std::fs::write(s.root.join("huge.bin"), &huge).unwrap();
    let fd_dir = format!("/proc/{}/fd", s.server.bg.child.id());
    let count = || std::fs::read_dir(&fd_dir).unwrap().count();
    assert_eq!(s.curl("/huge.bin", &["-r", "0-0"]).0, 206); // cached from now on
    let baseline = count();
    for i in 0..10 {
        let c = stalled_get(&s.server.addr(), "/huge.bin", Some((i * 1000, 20_000_000)));
        std::thread::sleep(Duration::from_millis(30));
        drop(c); // unread bytes: the kernel answers the server with a reset
    }
    let deadline = Instant::now() + Duration::from_secs(10);
    while count() > baseline && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(count(), baseline, "fds left behind by aborted responses");
    assert_eq!(s.fds_on("huge.bin"), 1);
    assert!(
        !s.server.log_text().contains("20000000 bytes with"),
        "an aborted body was logged as done"
    );
    let (code, _, body) = s.curl("/small.txt", &[]);
    assert_eq!((code, body.as_slice()), (200, &b"hello, zcopy\n"[..]));
}

/// The system call the thread `tid` of `pid` is blocked in (its number,
/// the first field of /proc/PID/task/TID/syscall), or None while it runs.
fn blocked_in(pid: u32, tid: &str) -> Option<i64> {
    let s = std::fs::read_to_string(format!("/proc/{pid}/task/{tid}/syscall")).ok()?;
    s.split_whitespace().next()?.parse().ok()
}

#[test]
fn fileserver_loop_never_waits_on_a_slow_client() {
    // One event loop, eight clients reading a big body slowly (their
    // sockets fill up, take a little, fill up again): the loop must only
    // ever sleep in epoll_wait, never inside a transfer call (zcopy waits
    // with poll(2); ZCOPY_OPT_NOWAIT returns EAGAIN instead), and a fast
    // client next to them is answered promptly.
    let s = site_with("fs-slow", &["-t", "1"]);
    let huge = random_bytes(32 * 1024 * 1024 + 11, 6);
    std::fs::write(s.root.join("huge.bin"), &huge).unwrap();
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let slow: Vec<_> = (0..8)
        .map(|_| {
            let c = stalled_get(&s.server.addr(), "/huge.bin", None);
            let stop = stop.clone();
            std::thread::spawn(move || {
                let mut got = Vec::new();
                let mut buf = [0u8; 4096];
                // Slowly while the loop is watched, then to the end.
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    let n = (&c).read(&mut buf).unwrap();
                    got.extend_from_slice(&buf[..n]);
                    std::thread::sleep(Duration::from_micros(300));
                }
                (&c).read_to_end(&mut got).unwrap();
                got
            })
        })
        .collect();
    let pid = s.server.bg.child.id();
    let tids: Vec<String> = std::fs::read_dir(format!("/proc/{pid}/task"))
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(tids.len(), 1, "-t 1: one thread");
    let (mut in_epoll, mut in_poll, mut samples) = (0, 0, 0);
    let t_end = Instant::now() + Duration::from_secs(2);
    let mut fast = 0;
    while Instant::now() < t_end {
        for _ in 0..200 {
            match blocked_in(pid, &tids[0]) {
                // poll, ppoll, select, pselect6, nanosleep, clock_nanosleep
                Some(7 | 271 | 23 | 270 | 35 | 230) => in_poll += 1,
                Some(232 | 281 | 441) => in_epoll += 1, // epoll_wait, epoll_pwait(2)
                _ => {}
            }
            samples += 1;
        }
        let t0 = Instant::now();
        let (code, _, body) = s.curl("/small.txt", &["--max-time", "5"]);
        assert_eq!((code, body.as_slice()), (200, &b"hello, zcopy\n"[..]));
        assert!(t0.elapsed() < Duration::from_secs(2), "{:?}", t0.elapsed());
        fast += 1;
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    eprintln!("{samples} samples: {in_epoll} in epoll_wait, {in_poll} in another wait; {fast} fast requests");
    assert!(in_epoll > 0, "sampling saw the loop waiting at all");
    assert_eq!(
        in_poll, 0,
        "the loop slept outside epoll_wait in {in_poll} of {samples} samples"
    );
    let dir = s.root.parent().unwrap().to_path_buf();
    let want = sha256_bytes(&huge, &dir);
    for t in slow {
        let all = t.join().unwrap();
        let end = all.windows(4).position(|w| w == b"\r\n\r\n").unwrap() + 4;
        assert_eq!(all.len() - end, huge.len(), "a slow client's body is whole");
        assert_eq!(sha256_bytes(&all[end..], &dir), want);
    }
}
