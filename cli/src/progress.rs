//! The progress bar, the copy loop that feeds it, and the --stats figures.

use std::io::{IsTerminal, Write};
use std::time::{Duration, Instant};
use zcopy::transfer::Transfer;
use zcopy::{ZCOPY_ALL, ZCOPY_METHOD_NONE};

/// A progress bar on stderr, drawn only when stderr is a terminal (a bar
/// in a log file or a pipe is noise), at most every 100 ms.
pub struct Progress {
    pub on: bool,
    total: Option<u64>,
    done: u64,
    start: Instant,
    last: Option<Instant>,
}

impl Progress {
    /// `total`: the bytes expected, when known (regular files).
    pub fn new(wanted: bool, total: Option<u64>) -> Progress {
        Progress {
            on: wanted && std::io::stderr().is_terminal(),
            total,
            done: 0,
            start: Instant::now(),
            last: None,
        }
    }

    pub fn add(&mut self, n: u64) {
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

    /// The last state of the bar and a newline, so later messages start on
    /// a line of their own.
    pub fn finish(&self) {
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
pub fn pump(dst: i32, src: i32, progress: &mut Progress) -> Transfer {
    if !progress.on {
        let t = zcopy::dispatch::copy(dst, src, ZCOPY_ALL);
        progress.add(t.written.max(0) as u64);
        return t;
    }
    let mut total = Transfer::done(ZCOPY_METHOD_NONE, 0, 0);
    // Invariant: total holds every chunk so far; a chunk that moved nothing
    // without an error is end of file.
    loop {
        let t = zcopy::dispatch::copy(dst, src, CHUNK);
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

/// The pool counters line of --stats.
pub fn print_pool(cmd: &str) {
    let s = zcopy::pool::stats();
    eprintln!(
        "zcopy {cmd}: pool: idle {}, in use {}, created {}, reused {}, discarded {}",
        s.idle, s.in_use, s.created, s.reused, s.discarded
    );
}

/// Decimal megabytes per second (as dd and iperf report), 0 for no time.
pub fn mb_per_s(bytes: u64, d: Duration) -> f64 {
    let secs = d.as_secs_f64();
    if secs > 0.0 {
        bytes as f64 / secs / 1e6
    } else {
        0.0
    }
}

/// A ZCOPY_METHOD_* value's name.
pub fn method(m: i32) -> &'static str {
    zcopy::method_name(m).to_str().unwrap_or("unknown")
}
