//! --progress in a real terminal: tmux at 20, 40, 80 and 200 columns runs a
//! recursive copy and a cat from a slow pipe; every capture of the pane
//! shows at most one progress line, none wider than the pane, and at the
//! end exactly one (the final state: 100% and, where there is room, the
//! file name and an ETA).

mod support;

use std::process::Command;
use std::time::{Duration, Instant};
use support::tree::sh;
use support::*;

/// A tmux server of this test's own (its own socket), killed on drop.
struct Tmux(String);

impl Tmux {
    fn new(tag: &str) -> Tmux {
        require("tmux", "apt-get install -y tmux");
        Tmux(format!("zcopy-test-{}-{tag}", std::process::id()))
    }
    fn cmd(&self) -> Command {
        let mut c = Command::new("tmux");
        c.args(["-L", &self.0]);
        c
    }
    fn start(&self, width: u16, line: &str) {
        let w = width.to_string();
        let sh_line = format!("{line}; echo DONE; sleep 120");
        run_ok(
            self.cmd()
                .args(["new-session", "-d", "-s", "t", "-x", &w, "-y", "12"])
                .arg(sh_line),
            T,
        );
    }
    fn capture(&self) -> String {
        stdout_str(&run_ok(
            self.cmd().args(["capture-pane", "-p", "-t", "t"]),
            T,
        ))
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = self.cmd().arg("kill-server").output();
    }
}

/// Captures the pane until DONE shows (at most 60 s); checks each capture
/// and returns the last. `is_bar`: whether a line is a progress line.
fn watch(t: &Tmux, width: usize, is_bar: impl Fn(&str) -> bool) -> String {
    let deadline = Instant::now() + Duration::from_secs(60);
    // Invariant: every capture so far had at most one progress line.
    loop {
        let screen = t.capture();
        let bars: Vec<&str> = screen.lines().filter(|l| is_bar(l)).collect();
        assert!(
            bars.len() <= 1,
            "{width} columns: several bar lines:\n{screen}"
        );
        for l in &bars {
            assert!(
                l.chars().count() < width,
                "{width} columns: {l:?} is too wide"
            );
        }
        if screen.contains("DONE") {
            return screen;
        }
        assert!(
            Instant::now() < deadline,
            "{width} columns: no DONE:\n{screen}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn one_bar_line_at_20_40_80_and_200_columns() {
    let tmp = TempDir::new("cli-tmux");
    sh(
        tmp.path(),
        "mkdir many; for i in $(seq 1 24); do head -c 4000000 /dev/urandom > many/a_file_with_a_long_name_$i.bin; done",
    );
    let z = zcopy_bin();
    let dir = tmp.path().display();
    for width in [20u16, 40, 80, 200] {
        let w = width as usize;
        let t = Tmux::new(&format!("cp{width}"));
        t.start(
            width,
            &format!("{z} cp -r --progress {dir}/many {dir}/copy{width}"),
        );
        let screen = watch(&t, w, |l| l.contains('%'));
        let bars: Vec<&str> = screen.lines().filter(|l| l.contains('%')).collect();
        assert_eq!(bars.len(), 1, "{width} columns, at the end:\n{screen}");
        let bar = bars[0];
        // Percentage and rate at every width; from 40 columns the file
        // being copied (the last one, in name order, cut at its start) and
        // "ETA" (at 20 only its figure).
        assert!(
            bar.contains("100%") && bar.contains("/s"),
            "{width}: {bar:?}"
        );
        if width >= 40 {
            assert!(bar.contains("ETA"), "{width}: {bar:?}");
            assert!(bar.contains("_9.bin"), "{width}: no file name in {bar:?}");
        }
        let same = run(
            Command::new("diff")
                .args(["-r", "many", &format!("copy{width}")])
                .current_dir(tmp.path()),
            T,
        );
        assert!(same.status.success(), "{}", stdout_str(&same));
    }
    // cat from a pipe that pauses: no size, so bytes and a rate, redrawn
    // in place while the copy waits.
    for width in [40u16, 80, 200] {
        let t = Tmux::new(&format!("cat{width}"));
        t.start(
            width,
            &format!("(head -c 30000000 /dev/zero; sleep 1; head -c 30000000 /dev/zero) | {z} cat --progress > /dev/null"),
        );
        let screen = watch(&t, width as usize, |l| l.contains("/s"));
        let bars = screen.lines().filter(|l| l.contains("/s")).count();
        assert_eq!(bars, 1, "{width} columns, at the end:\n{screen}");
    }
    // Not a terminal: nothing at all on stderr.
    let o = run_ok(
        zcopy()
            .args(["--progress", "cp", "-r"])
            .arg(tmp.path().join("many"))
            .arg(tmp.path().join("quiet")),
        T,
    );
    assert!(o.stderr.is_empty(), "{}", stderr_str(&o));
}
