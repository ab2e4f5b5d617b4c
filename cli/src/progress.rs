//! The progress display (indicatif) and the copy loop that feeds it.
//!
//! One line on stderr, redrawn in place, drawn only when stderr is a
//! terminal (a bar in a log file or a pipe is noise). The layout is chosen
//! for the terminal's width, and again whenever the width changes, so that
//! the line never wraps: every field has a fixed width and the file name
//! gets what is left, cut at its start (the end of a path says the most).

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressState, ProgressStyle};
use std::io::IsTerminal;
use std::time::{Duration, Instant};
use zcopy::transfer::Transfer;
use zcopy::{ZCOPY_ALL, ZCOPY_METHOD_NONE};

/// Fixed-width fields (indicatif pads and, with `!`, cuts to the width).
const PCT: &str = "{percent:>3}%";
const RATE: &str = "{binary_bytes_per_sec:>13!}";
/// The rate in at most 7 columns ("1023K/s", "12.3G/s"): see `short_rate`.
const SHORT_RATE: &str = "{short_rate:>7!}";
const ETA: &str = "ETA {eta:>4!}";
const BYTES: &str = "{binary_bytes:>10!}/{binary_total_bytes:<10!}";

/// Bytes per second in binary units, in at most 7 columns.
fn short_rate(per_sec: f64) -> String {
    let mut v = per_sec.max(0.0);
    let mut unit = 0;
    const UNITS: [&str; 5] = ["B", "K", "M", "G", "T"];
    // Invariant: v is per_sec in UNITS[unit].
    while v >= 1024.0 && unit + 1 < UNITS.len() {
        v /= 1024.0;
        unit += 1;
    }
    if v < 10.0 && unit > 0 {
        format!("{v:.1}{}/s", UNITS[unit])
    } else {
        format!("{v:.0}{}/s", UNITS[unit])
    }
}

/// A layout for `width` columns: the template and the columns left for the
/// file name. The line stays one column short of the width, so that the
/// cursor never sits past the edge (where some terminals wrap). Rate and
/// ETA are kept at every width from 20 up; the bar and the name take what
/// the fixed fields leave.
fn layout(width: usize, known_total: bool) -> (String, usize) {
    let w = width.saturating_sub(1);
    if !known_total {
        // stdin or a pipe: no size, so no bar, percentage or ETA.
        let fixed = 10 + 1 + 7;
        let t = "{binary_bytes:>10!} ".to_string() + SHORT_RATE;
        return match w.saturating_sub(fixed + 1) {
            _ if w <= fixed => (SHORT_RATE.to_string(), 0),
            0..=3 => (t, 0),
            n => (format!("{{msg:{n}!}} {t}"), n),
        };
    }
    if w >= 99 {
        // name [bar] pct bytes rate ETA
        let fixed = 2 + 25 + 2 + 4 + 1 + 21 + 1 + 13 + 1 + 8;
        let n = w - fixed - 1;
        let t = format!("{{msg:{n}!}} [{{bar:25}}] {PCT} {BYTES} {RATE} {ETA}");
        return (t, n);
    }
    if w >= 59 {
        // name [bar] pct rate ETA
        let bar = (w - 31) / 3;
        let n = w - 1 - (bar + 2 + 1 + 4 + 1 + 13 + 1 + 8);
        let t = format!("{{msg:{n}!}} [{{bar:{bar}}}] {PCT} {RATE} {ETA}");
        return (t, n);
    }
    if w >= 39 {
        // name bar pct rate ETA: 23 fixed columns and 4 spaces
        let bar = (w - 27) / 3;
        let n = w - 27 - bar;
        let t = format!("{{msg:{n}!}} {{bar:{bar}}} {PCT} {SHORT_RATE} {ETA}");
        return (t, n);
    }
    if w >= 19 {
        // bar pct rate ETA (its number only): 16 fixed columns, 3 spaces
        let bar = w - 19;
        let t = format!("{PCT} {SHORT_RATE} {{eta:>4!}}");
        return match bar {
            0 => (t, 0),
            b => (format!("{{bar:{b}}} {t}"), 0),
        };
    }
    (PCT.to_string(), 0)
}

/// The last `n` columns of `name` ("…" marks a cut), or nothing for n = 0.
pub fn fit(name: &str, n: usize) -> String {
    let chars: Vec<char> = name.chars().collect();
    if chars.len() <= n {
        return name.to_string();
    }
    if n == 0 {
        return String::new();
    }
    let tail: String = chars[chars.len() - (n - 1)..].iter().collect();
    format!("…{tail}")
}

/// The progress line of one command, or nothing (not wanted, or stderr is
/// no terminal).
pub struct Progress {
    bar: Option<ProgressBar>,
    known_total: bool,
    width: usize,
    name_cols: usize,
    name: String,
    checked: Instant,
}

fn term_width() -> usize {
    // SAFETY: TIOCGWINSZ writes one winsize into the zeroed struct.
    let mut ws: libc::winsize = unsafe { std::mem::zeroed() };
    let r = unsafe { libc::ioctl(2, libc::TIOCGWINSZ, &mut ws) };
    if r == 0 && ws.ws_col > 0 {
        ws.ws_col as usize
    } else {
        80
    }
}

impl Progress {
    /// `total`: the bytes expected, when known (regular files).
    pub fn new(wanted: bool, total: Option<u64>) -> Progress {
        let mut p = Progress {
            bar: None,
            known_total: total.is_some(),
            width: 0,
            name_cols: 0,
            name: String::new(),
            checked: Instant::now(),
        };
        if wanted && std::io::stderr().is_terminal() {
            let bar = ProgressBar::with_draw_target(total, ProgressDrawTarget::stderr());
            p.bar = Some(bar);
            p.restyle(term_width());
        }
        p
    }

    pub fn on(&self) -> bool {
        self.bar.is_some()
    }

    fn restyle(&mut self, width: usize) {
        let Some(bar) = &self.bar else { return };
        let (template, cols) = layout(width, self.known_total);
        if let Ok(style) = ProgressStyle::with_template(&template) {
            let rate = |st: &ProgressState, out: &mut dyn std::fmt::Write| {
                let _ = out.write_str(&short_rate(st.per_sec()));
            };
            bar.set_style(style.with_key("short_rate", rate).progress_chars("=> "));
        }
        self.width = width;
        self.name_cols = cols;
        bar.set_message(fit(&self.name, cols));
    }

    /// The file being copied now (multi-file and recursive copies).
    pub fn set_file(&mut self, name: &str) {
        self.name = name.to_string();
        if let Some(bar) = &self.bar {
            bar.set_message(fit(name, self.name_cols));
        }
    }

    pub fn add(&mut self, n: u64) {
        let Some(bar) = &self.bar else { return };
        bar.inc(n);
        // The terminal may have been resized: look again a few times a
        // second (one ioctl), and lay the line out anew when it was.
        if self.checked.elapsed() >= Duration::from_millis(200) {
            self.checked = Instant::now();
            let w = term_width();
            if w != self.width {
                self.restyle(w);
            }
        }
    }

    /// Prints a line on stderr without breaking the bar.
    pub fn say(&self, line: &str) {
        match &self.bar {
            Some(b) => b.suspend(|| eprintln!("{line}")),
            None => eprintln!("{line}"),
        }
    }

    /// Runs `f` (a prompt) with the bar off the screen.
    pub fn suspend(&self, f: impl FnOnce()) {
        match &self.bar {
            Some(b) => b.suspend(f),
            None => f(),
        }
    }

    /// Leaves the last state of the bar on its line; later messages start
    /// on a line of their own.
    pub fn finish(&self) {
        if let Some(b) = &self.bar {
            b.finish();
        }
    }
}

/// Bytes moved per call while a progress bar is shown.
const CHUNK: i64 = 8 << 20;

/// Copies src to dst until end of file with zcopy's dispatch (zcopy_copy),
/// in chunks when a progress bar is shown. Returns the bytes moved, the
/// last method that moved bytes, and the errno that ended it (0 at EOF).
pub fn pump(dst: i32, src: i32, progress: &mut Progress) -> Transfer {
    pump_with(dst, src, progress, zcopy::dispatch::copy)
}

/// `pump` with another copy call of zcopy_copy's shape (dst, src, limit).
pub fn pump_with(
    dst: i32,
    src: i32,
    progress: &mut Progress,
    copy: fn(i32, i32, i64) -> Transfer,
) -> Transfer {
    if !progress.on() {
        return copy(dst, src, ZCOPY_ALL);
    }
    let mut total = Transfer::done(ZCOPY_METHOD_NONE, 0, 0);
    // Invariant: total holds every chunk so far; a chunk that moved nothing
    // without an error is end of file.
    loop {
        let t = copy(dst, src, CHUNK);
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layouts_fit_every_width() {
        // The widest each field can be drawn (see the constants above).
        let field = |t: &str| -> usize {
            let mut s = t.to_string();
            for (k, v) in [
                ("{percent:>3}%", 4),
                ("{binary_bytes_per_sec:>13!}", 13),
                ("{short_rate:>7!}", 7),
                ("{eta:>4!}", 4),
                ("{binary_bytes:>10!}", 10),
                ("{binary_total_bytes:<10!}", 10),
            ] {
                s = s.replace(k, &"x".repeat(v));
            }
            // {msg:N!} and {bar:N}: N columns.
            while let Some(i) = s.find('{') {
                let j = s[i..].find('}').unwrap() + i;
                let inner = &s[i + 1..j];
                let n: usize = inner
                    .split(':')
                    .nth(1)
                    .unwrap()
                    .trim_end_matches('!')
                    .parse()
                    .unwrap();
                s.replace_range(i..=j, &"x".repeat(n));
            }
            s.chars().count()
        };
        for w in 20..=300 {
            for known in [true, false] {
                let (t, _) = layout(w, known);
                assert!(field(&t) < w, "{w} columns: {t} is {} wide", field(&t));
            }
        }
        assert_eq!(fit("abcdef", 4), "…def");
        for r in [
            0.0,
            9.99,
            1023.0,
            1024.0 * 1023.9,
            1e9,
            12.3 * (1u64 << 30) as f64,
            1e15,
        ] {
            assert!(short_rate(r).chars().count() <= 7, "{r}: {}", short_rate(r));
        }
        assert_eq!(short_rate(1.5 * 1048576.0), "1.5M/s");
        assert_eq!(fit("abc", 4), "abc");
    }
}
