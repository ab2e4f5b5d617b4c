//! `zcopy`: the zcopy library from a shell.
//!
//! ```text
//! zcopy cp [-p] [--stats] [--progress] SRC... DST
//! zcopy cat [--stats] [--progress] [FILE...]
//! zcopy relay [--stats] [--idle-timeout S] [--close-both] [--threads N]
//!             [HOST]:PORT HOST:PORT
//! ```
//!
//! One module per job: `args` (the command line), `progress` (the bar, the
//! copy loop that feeds it, the --stats lines), and one per command (`cp`,
//! `cat`, `relay`). Exit status: 0 success, 1 failure (the message on
//! stderr names the path or address), 2 usage error.

mod args;
mod cat;
mod cp;
mod progress;
mod relay;

use args::{Fail, Opts};
use std::process::ExitCode;

const MAIN_HELP: &str = "\
zcopy - copy data with splice, sendfile and copy_file_range (zcopy library)

Usage:
  zcopy cp [-p] [--stats] [--progress] SRC DST
  zcopy cp [-p] [--stats] [--progress] SRC... DIR
  zcopy cat [--stats] [--progress] [FILE...]
  zcopy relay [--stats] [--idle-timeout SECONDS] [--close-both] [--threads N]
              [HOST]:PORT HOST:PORT
  zcopy --version
  zcopy COMMAND --help

Commands:
  cp      copy files as cp does (holes kept; -p keeps mode and times)
  cat     write files (none, or -, for stdin) to stdout
  relay   a bidirectional TCP proxy (zcopy_relay, or the engine)

Options (every command):
  --stats      print the method used, bytes, MB/s and pipe pool counters
               on stderr
  --progress   a progress bar on stderr when stderr is a terminal (cp, cat)
  -h, --help   this help, or a command's help

Exit status: 0 success, 1 failure, 2 usage error.
";

/// A command's entry point.
type Command = fn(&Opts) -> Result<(), Fail>;

/// The second line of every usage error (the first says what is wrong).
const TRY: &str = "Try 'zcopy --help' for more information.";

/// A usage error: one line naming the command, the hint, exit status 2.
fn usage_error(cmd: Option<&str>, msg: &str) -> ExitCode {
    match cmd {
        Some(c) => eprintln!("zcopy {c}: {msg}\n{TRY}"),
        None => eprintln!("zcopy: {msg}\n{TRY}"),
    }
    ExitCode::from(2)
}

fn main() -> ExitCode {
    let argv: Vec<String> = std::env::args().skip(1).collect();
    let Some(cmd) = argv.first() else {
        return usage_error(None, "missing command (cp, cat or relay)");
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
        "cp" => (cp::HELP, cp::run),
        "cat" => (cat::HELP, cat::run),
        "relay" => (relay::HELP, relay::run),
        other => return usage_error(None, &format!("unknown command '{other}'")),
    };
    let opts = match args::parse(cmd, &argv[1..]) {
        Ok(o) => o,
        Err(e) => return usage_error(Some(cmd), &e),
    };
    if opts.help {
        print!("{help}");
        return ExitCode::SUCCESS;
    }
    match run(&opts) {
        Ok(()) => ExitCode::SUCCESS,
        Err(Fail::Usage(m)) => usage_error(Some(cmd), &m),
        Err(Fail::Error) => ExitCode::from(1),
    }
}

/// strerror-like text for an errno, without Rust's " (os error N)".
pub fn errstr(errno: i32) -> String {
    io_errstr(&std::io::Error::from_raw_os_error(errno))
}

/// An io::Error's text without Rust's " (os error N)", as cp prints it.
pub fn io_errstr(e: &std::io::Error) -> String {
    let s = e.to_string();
    match s.find(" (os error") {
        Some(i) => s[..i].to_string(),
        None => s,
    }
}
