//! `zcopy`: the zcopy library from a shell.
//!
//! ```text
//! zcopy cp [--stats] [--progress] SRC DST
//! zcopy cat [--stats] [--progress] FILE...
//! zcopy relay [--stats] LISTEN_ADDR:PORT TARGET_ADDR:PORT
//! ```
//!
//! Exit status: 0 success, 1 failure (the message on stderr names the path
//! or address), 2 usage error. No dependencies beyond the zcopy crate.

use std::fs::{File, OpenOptions};
use std::io::{IsTerminal, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream, ToSocketAddrs};
use std::os::fd::AsRawFd;
use std::os::unix::fs::{MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use zcopy::transfer::Transfer;
use zcopy::{ZCOPY_ALL, ZCOPY_METHOD_NONE};

const MAIN_HELP: &str = "\
zcopy - copy data with splice, sendfile and copy_file_range (zcopy library)

Usage:
  zcopy cp [--stats] [--progress] SRC DST
  zcopy cat [--stats] [--progress] FILE...
  zcopy relay [--stats] LISTEN_ADDR:PORT TARGET_ADDR:PORT
  zcopy --version
  zcopy COMMAND --help

Commands:
  cp      copy a file, keeping its mode bits
  cat     write files (or - for stdin) to stdout
  relay   a bidirectional TCP proxy

Options (every command):
  --stats      print the method used, bytes, MB/s and pipe pool counters
               on stderr
  --progress   a progress bar on stderr when stderr is a terminal (cp, cat)
  -h, --help   this help, or a command's help

Exit status: 0 success, 1 failure, 2 usage error.
";

const CP_HELP: &str = "\
Usage: zcopy cp [--stats] [--progress] SRC DST

Copies the file SRC to DST with the library's best path (copy_file_range
between files, falling back to sendfile or read/write) and gives DST the
mode bits of SRC. When DST is a directory, the copy is DST/<name of SRC>.
An existing DST is truncated first.

  --stats      bytes, time, MB/s, method used and pool counters on stderr
  --progress   a progress bar on stderr (only when stderr is a terminal)
  -h, --help   this help
";

const CAT_HELP: &str = "\
Usage: zcopy cat [--stats] [--progress] FILE...

Writes each FILE to stdout in order; - means stdin. stdout may be a pipe,
a terminal, a file or a socket: the library picks sendfile, splice or
read/write for each. A file that cannot be read is reported on stderr and
skipped; the exit status is then 1.

  --stats      per file and total bytes, MB/s, method and pool counters
  --progress   a progress bar on stderr (only when stderr is a terminal)
  -h, --help   this help
";

const RELAY_HELP: &str = "\
Usage: zcopy relay [--stats] LISTEN_ADDR:PORT TARGET_ADDR:PORT

Accepts TCP connections on LISTEN_ADDR:PORT (port 0 picks a free one; the
address is printed on stderr) and connects each to TARGET_ADDR:PORT. Each
direction is a thread moving bytes with splice through the library's pipe
pool; at end of stream the other side gets a half-close (shutdown of its
write side), and both sockets close when both directions are done. Runs
until killed.

  --stats      per connection bytes each way, duration, MB/s, methods and
               pool counters on stderr
  -h, --help   this help
";

/// A failure worth exit status 1, or a usage error (2).
enum Fail {
    Usage(String),
    Error,
}

/// A command's entry point.
type Command = fn(&Opts) -> Result<(), Fail>;

struct Opts {
    stats: bool,
    progress: bool,
    help: bool,
    args: Vec<String>,
}

fn parse(args: &[String]) -> Result<Opts, String> {
    let mut o = Opts {
        stats: false,
        progress: false,
        help: false,
        args: Vec::new(),
    };
    let mut rest = false;
    for a in args {
        if rest || a == "-" || !a.starts_with('-') {
            o.args.push(a.clone());
            continue;
        }
        match a.as_str() {
            "--" => rest = true,
            "--stats" => o.stats = true,
            "--progress" => o.progress = true,
            "-h" | "--help" => o.help = true,
            _ => return Err(format!("unknown option '{a}'")),
        }
    }
    Ok(o)
}

fn main() -> ExitCode {
    let argv: Vec<String> = std::env::args().skip(1).collect();
    let Some(cmd) = argv.first() else {
        eprint!("{MAIN_HELP}");
        return ExitCode::from(2);
    };
    let (help, run): (&str, Command) = match cmd.as_str() {
        "-h" | "--help" | "help" => {
            print!("{MAIN_HELP}");
            return ExitCode::SUCCESS;
        }
        "-V" | "--version" => {
            println!(
                "zcopy {} (library {})",
                env!("CARGO_PKG_VERSION"),
                zcopy::VERSION
            );
            return ExitCode::SUCCESS;
        }
        "cp" => (CP_HELP, cmd_cp),
        "cat" => (CAT_HELP, cmd_cat),
        "relay" => (RELAY_HELP, cmd_relay),
        other => {
            eprintln!("zcopy: unknown command '{other}' (try zcopy --help)");
            return ExitCode::from(2);
        }
    };
    let opts = match parse(&argv[1..]) {
        Ok(o) => o,
        Err(e) => {
            eprintln!("zcopy {cmd}: {e}\n\n{help}");
            return ExitCode::from(2);
        }
    };
    if opts.help {
        print!("{help}");
        return ExitCode::SUCCESS;
    }
    match run(&opts) {
        Ok(()) => ExitCode::SUCCESS,
        Err(Fail::Usage(m)) => {
            eprintln!("zcopy {cmd}: {m}\n\n{help}");
            ExitCode::from(2)
        }
        Err(Fail::Error) => ExitCode::from(1),
    }
}

/// strerror-like text for an errno, without Rust's " (os error N)".
fn errstr(errno: i32) -> String {
    io_errstr(&std::io::Error::from_raw_os_error(errno))
}

fn io_errstr(e: &std::io::Error) -> String {
    let s = e.to_string();
    match s.find(" (os error") {
        Some(i) => s[..i].to_string(),
        None => s,
    }
}

fn print_pool(cmd: &str) {
    let s = zcopy::pool::stats();
    eprintln!(
        "zcopy {cmd}: pool: idle {}, in use {}, created {}, reused {}, discarded {}",
        s.idle, s.in_use, s.created, s.reused, s.discarded
    );
}

fn mb_per_s(bytes: u64, d: Duration) -> f64 {
    let secs = d.as_secs_f64();
    if secs > 0.0 {
        bytes as f64 / secs / 1e6
    } else {
        0.0
    }
}

fn method(m: i32) -> &'static str {
    zcopy::method_name(m).to_str().unwrap_or("unknown")
}

/// A progress bar on stderr, drawn only when stderr is a terminal.
struct Progress {
    on: bool,
    total: Option<u64>,
    done: u64,
    start: Instant,
    last: Option<Instant>,
}

impl Progress {
    fn new(wanted: bool, total: Option<u64>) -> Progress {
        Progress {
            on: wanted && std::io::stderr().is_terminal(),
            total,
            done: 0,
            start: Instant::now(),
            last: None,
        }
    }

    fn add(&mut self, n: u64) {
        self.done += n;
        let now = Instant::now();
        if self.on
            && self
                .last
                .map_or(true, |t| now - t >= Duration::from_millis(100))
        {
            self.last = Some(now);
            self.draw();
        }
    }

    fn draw(&self) {
        const WIDTH: u64 = 30;
        let mib = |b: u64| b as f64 / 1048576.0;
        let rate = mb_per_s(self.done, self.start.elapsed());
        let line = match self.total {
            Some(t) if t > 0 => {
                let frac = self.done.min(t) * WIDTH / t;
                let bar: String = (0..WIDTH)
                    .map(|i| if i < frac { '#' } else { '.' })
                    .collect();
                format!(
                    "\r[{bar}] {:3}% {:.1}/{:.1} MiB {rate:.1} MB/s ",
                    self.done.min(t) * 100 / t,
                    mib(self.done),
                    mib(t)
                )
            }
            _ => format!("\r{:.1} MiB {rate:.1} MB/s ", mib(self.done)),
        };
        let mut e = std::io::stderr().lock();
        let _ = e.write_all(line.as_bytes());
        let _ = e.flush();
    }

    fn finish(&self) {
        if self.on {
            self.draw();
            eprintln!();
        }
    }
}

/// Bytes moved per call while a progress bar is shown.
const CHUNK: i64 = 8 << 20;

/// Copies src to dst until end of file with zcopy's dispatch (zcopy_copy),
/// in chunks when a progress bar is shown. Returns the bytes moved, the
/// last method that moved bytes, and the errno that ended it (0 at EOF).
fn pump(dst: i32, src: i32, progress: &mut Progress) -> Transfer {
    if !progress.on {
        let t = zcopy::copy::copy(dst, src, ZCOPY_ALL);
        progress.add(t.written.max(0) as u64);
        return t;
    }
    let mut total = Transfer::done(ZCOPY_METHOD_NONE, 0, 0);
    loop {
        let t = zcopy::copy::copy(dst, src, CHUNK);
        total.written += t.written;
        if t.written > 0 || total.method == ZCOPY_METHOD_NONE {
            total.method = t.method;
        }
        progress.add(t.written.max(0) as u64);
        if t.error != 0 || t.written == 0 {
            total.error = t.error;
            return total;
        }
    }
}

fn cmd_cp(o: &Opts) -> Result<(), Fail> {
    let [src, dst] = &o.args[..] else {
        return Err(Fail::Usage(format!(
            "expected SRC DST, got {} argument(s)",
            o.args.len()
        )));
    };
    let fail = |what: String| {
        eprintln!("zcopy cp: {what}");
        Fail::Error
    };
    let src_path = Path::new(src);
    let input = File::open(src_path)
        .map_err(|e| fail(format!("cannot open '{src}': {}", io_errstr(&e))))?;
    let meta = input
        .metadata()
        .map_err(|e| fail(format!("cannot stat '{src}': {}", io_errstr(&e))))?;
    if meta.is_dir() {
        return Err(fail(format!("'{src}' is a directory")));
    }
    let mut dst_path = PathBuf::from(dst);
    if dst_path.is_dir() {
        match src_path.file_name() {
            Some(name) => dst_path.push(name),
            None => return Err(fail(format!("cannot name a file in '{dst}' after '{src}'"))),
        }
    }
    let shown = dst_path.display().to_string();
    if let Ok(dm) = std::fs::metadata(&dst_path) {
        if dm.dev() == meta.dev() && dm.ino() == meta.ino() {
            return Err(fail(format!("'{src}' and '{shown}' are the same file")));
        }
    }
    let mode = meta.permissions().mode() & 0o7777;
    let output = OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(mode)
        .open(&dst_path)
        .map_err(|e| fail(format!("cannot create '{shown}': {}", io_errstr(&e))))?;
    let size = meta.is_file().then_some(meta.len());
    let mut progress = Progress::new(o.progress, size);
    let start = Instant::now();
    let t = pump(output.as_raw_fd(), input.as_raw_fd(), &mut progress);
    let took = start.elapsed();
    progress.finish();
    if t.error != 0 {
        return Err(fail(format!(
            "copying '{src}' to '{shown}': {} (after {} bytes)",
            errstr(t.error),
            t.written
        )));
    }
    // The mode bits exactly, whatever the umask or an existing file's mode.
    output
        .set_permissions(std::fs::Permissions::from_mode(mode))
        .map_err(|e| {
            fail(format!(
                "cannot set the mode of '{shown}': {}",
                io_errstr(&e)
            ))
        })?;
    if o.stats {
        eprintln!(
            "zcopy cp: '{src}' -> '{shown}': {} bytes in {:.3} s, {:.1} MB/s, method {}",
            t.written,
            took.as_secs_f64(),
            mb_per_s(t.written as u64, took),
            method(t.method)
        );
        print_pool("cp");
    }
    Ok(())
}

fn cmd_cat(o: &Opts) -> Result<(), Fail> {
    if o.args.is_empty() {
        return Err(Fail::Usage(
            "expected at least one FILE (- for stdin)".into(),
        ));
    }
    let stdout = std::io::stdout();
    let _lock = stdout.lock(); // nothing else writes to stdout meanwhile
    let out_fd = stdout.as_raw_fd();
    let mut failed = false;
    let mut opened: Vec<(String, Option<File>)> = Vec::new();
    let mut total_size = Some(0u64);
    for name in &o.args {
        if name == "-" {
            total_size = None;
            opened.push((name.clone(), None));
            continue;
        }
        match File::open(name) {
            Ok(f) => {
                match f.metadata() {
                    Ok(m) if m.is_file() => total_size = total_size.map(|t| t + m.len()),
                    _ => total_size = None,
                }
                opened.push((name.clone(), Some(f)));
            }
            Err(e) => {
                eprintln!("zcopy cat: cannot open '{name}': {}", io_errstr(&e));
                failed = true;
            }
        }
    }
    let mut progress = Progress::new(o.progress, total_size);
    let start = Instant::now();
    let mut total = 0u64;
    for (name, file) in &opened {
        let (fd, shown) = match file {
            Some(f) => (f.as_raw_fd(), name.as_str()),
            None => (0, "stdin"),
        };
        let t0 = Instant::now();
        let t = pump(out_fd, fd, &mut progress);
        total += t.written.max(0) as u64;
        if t.error == libc_epipe() {
            // The reader went away (`zcopy cat f | head`): stop quietly.
            progress.finish();
            return Err(Fail::Error);
        }
        if t.error != 0 {
            eprintln!(
                "zcopy cat: '{shown}': {} (after {} bytes)",
                errstr(t.error),
                t.written
            );
            failed = true;
            continue;
        }
        if o.stats {
            eprintln!(
                "zcopy cat: '{shown}': {} bytes in {:.3} s, {:.1} MB/s, method {}",
                t.written,
                t0.elapsed().as_secs_f64(),
                mb_per_s(t.written as u64, t0.elapsed()),
                method(t.method)
            );
        }
    }
    progress.finish();
    if o.stats {
        let took = start.elapsed();
        eprintln!(
            "zcopy cat: total {total} bytes in {:.3} s, {:.1} MB/s",
            took.as_secs_f64(),
            mb_per_s(total, took)
        );
        print_pool("cat");
    }
    if failed {
        Err(Fail::Error)
    } else {
        Ok(())
    }
}

/// EPIPE without a libc dependency.
fn libc_epipe() -> i32 {
    std::io::Error::from(std::io::ErrorKind::BrokenPipe)
        .raw_os_error()
        .unwrap_or(32)
}

fn resolve(what: &str, s: &str) -> Result<SocketAddr, Fail> {
    match s.to_socket_addrs().map(|mut a| a.next()) {
        Ok(Some(a)) => Ok(a),
        Ok(None) => Err(Fail::Usage(format!("{what} '{s}' resolves to no address"))),
        Err(e) => Err(Fail::Usage(format!(
            "{what} '{s}' is not ADDR:PORT ({})",
            io_errstr(&e)
        ))),
    }
}

fn cmd_relay(o: &Opts) -> Result<(), Fail> {
    let [listen, target] = &o.args[..] else {
        return Err(Fail::Usage(format!(
            "expected LISTEN_ADDR:PORT TARGET_ADDR:PORT, got {} argument(s)",
            o.args.len()
        )));
    };
    let listen_addr = resolve("listen address", listen)?;
    let target_addr = resolve("target address", target)?;
    let listener = TcpListener::bind(listen_addr).map_err(|e| {
        eprintln!("zcopy relay: cannot listen on {listen}: {}", io_errstr(&e));
        Fail::Error
    })?;
    let local = listener.local_addr().map_err(|_| Fail::Error)?;
    eprintln!("zcopy relay: listening on {local}, forwarding to {target_addr}");
    let stats = o.stats;
    loop {
        let (client, peer) = match listener.accept() {
            Ok(c) => c,
            Err(e) => {
                // EMFILE and friends: report, breathe, go on.
                eprintln!("zcopy relay: accept on {local}: {}", io_errstr(&e));
                std::thread::sleep(Duration::from_millis(100));
                continue;
            }
        };
        let spawned = std::thread::Builder::new()
            .name(format!("relay {peer}"))
            .spawn(move || serve(client, peer, target_addr, stats));
        if let Err(e) = spawned {
            eprintln!("zcopy relay: cannot start a thread for {peer}: {e}");
        }
    }
}

/// One direction: src -> dst until EOF, then half-close dst. On an error
/// both sockets are shut down so that the other direction ends too.
fn one_way(dst: &TcpStream, src: &TcpStream) -> Transfer {
    let t = zcopy::copy::copy(dst.as_raw_fd(), src.as_raw_fd(), ZCOPY_ALL);
    if t.error == 0 {
        let _ = dst.shutdown(Shutdown::Write);
    } else {
        let _ = dst.shutdown(Shutdown::Both);
        let _ = src.shutdown(Shutdown::Both);
    }
    t
}

fn serve(client: TcpStream, peer: SocketAddr, target: SocketAddr, stats: bool) {
    let upstream = match TcpStream::connect_timeout(&target, Duration::from_secs(10)) {
        Ok(s) => s,
        Err(e) => {
            eprintln!(
                "zcopy relay: {peer}: cannot connect to {target}: {}",
                io_errstr(&e)
            );
            return;
        }
    };
    let _ = client.set_nodelay(true);
    let _ = upstream.set_nodelay(true);
    let start = Instant::now();
    let client = Arc::new(client);
    let upstream = Arc::new(upstream);
    let (c2, u2) = (Arc::clone(&client), Arc::clone(&upstream));
    let up = std::thread::Builder::new()
        .name(format!("relay {peer} up"))
        .spawn(move || one_way(&u2, &c2));
    let down = one_way(&client, &upstream);
    let up = match up {
        Ok(h) => h.join().unwrap_or(Transfer::done(ZCOPY_METHOD_NONE, 0, 0)),
        Err(e) => {
            eprintln!("zcopy relay: {peer}: cannot start a thread: {e}");
            return;
        }
    };
    for (dir, t) in [("to target", &up), ("to client", &down)] {
        if t.error != 0 && t.error != libc_epipe() {
            eprintln!(
                "zcopy relay: {peer}: {dir}: {} after {} bytes",
                errstr(t.error),
                t.written
            );
        }
    }
    if stats {
        let took = start.elapsed();
        eprintln!(
            "zcopy relay: {peer} <-> {target}: {} bytes to target ({}), {} bytes to client ({}), {:.3} s, {:.1} MB/s",
            up.written,
            method(up.method),
            down.written,
            method(down.method),
            took.as_secs_f64(),
            mb_per_s((up.written + down.written).max(0) as u64, took)
        );
        print_pool("relay");
    }
}
