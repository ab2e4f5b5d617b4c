//! `zcopy`: the zcopy library from a shell.
//!
//! ```text
//! zcopy cp [--stats] [--progress] SRC DST
//! zcopy cat [--stats] [--progress] FILE...
//! zcopy relay [--stats] LISTEN_ADDR:PORT TARGET_ADDR:PORT
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

/// A command's entry point.
type Command = fn(&Opts) -> Result<(), Fail>;

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
        "cp" => (cp::HELP, cp::run),
        "cat" => (cat::HELP, cat::run),
        "relay" => (relay::HELP, relay::run),
        other => {
            eprintln!("zcopy: unknown command '{other}' (try zcopy --help)");
            return ExitCode::from(2);
        }
    };
    let opts = match args::parse(&argv[1..]) {
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

/// Whether an errno says the reader went away (EPIPE), without a libc
/// dependency: std maps the raw value to its kind.
pub fn is_broken_pipe(errno: i32) -> bool {
    std::io::Error::from_raw_os_error(errno).kind() == std::io::ErrorKind::BrokenPipe
}
