//! `zcopy`: the zcopy library from a shell.
//!
//! ```text
//! zcopy [--stats] [--progress] cp [-aRrpfinvTLPd] [--preserve=LIST] SRC... DST
//! zcopy [--stats] [--progress] cat [FILE...]
//! zcopy [--stats] relay [--idle-timeout S] [--close-both] [--threads N]
//!       [HOST]:PORT HOST:PORT
//! ```
//!
//! One module per job: `args` (the command line, for clap), `early` (what
//! the process inherited), `progress` (the bar and the copy loop that feeds
//! it), `stats` (the --stats figures) and one per command. Exit status: 0
//! success, 1 failure (the message on stderr names the path or address), 2
//! usage error.

mod args;
mod cat;
mod cp;
mod early;
mod progress;
mod relay;
mod stats;

use args::{Cli, Cmd, Fail};
use clap::error::ErrorKind;
use clap::Parser;
use std::process::ExitCode;

/// The command a usage error belongs to: the first operand naming one.
fn command_named(argv: &[String]) -> Option<&'static str> {
    let first = argv.iter().skip(1).find(|a| !a.starts_with('-'))?;
    ["cp", "cat", "relay"].into_iter().find(|c| c == first)
}

/// A usage error: one line saying what is wrong, then where to read more
/// (the command's own help when there is a command), exit status 2.
fn usage_error(cmd: Option<&str>, msg: &str) -> ExitCode {
    match cmd {
        Some(c) => eprintln!("zcopy {c}: {msg}\nTry 'zcopy {c} --help' for more information."),
        None => eprintln!("zcopy: {msg}\nTry 'zcopy --help' for more information."),
    }
    ExitCode::from(2)
}

fn main() -> ExitCode {
    let argv: Vec<String> = std::env::args().collect();
    let cli = match Cli::try_parse_from(&argv) {
        Ok(c) => c,
        Err(e) if matches!(e.kind(), ErrorKind::DisplayHelp | ErrorKind::DisplayVersion) => {
            let _ = e.print();
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            // clap's first line, without its "error: " and the usage block
            // that follows: the help is one command away.
            let text = e.render().to_string();
            let first = text.lines().next().unwrap_or("invalid arguments");
            let msg = first.strip_prefix("error: ").unwrap_or(first);
            return usage_error(command_named(&argv), msg);
        }
    };
    if cli.version {
        println!(
            "zcopy {} (library {})",
            env!("CARGO_PKG_VERSION"),
            zcopy::VERSION
        );
        return ExitCode::SUCCESS;
    }
    let g = cli.global;
    if g.disable_mask() != 0 {
        zcopy::disable::set(zcopy::disable::disabled() | g.disable_mask());
    }
    let (name, result) = match cli.command {
        None => return usage_error(None, "missing command (cp, cat or relay)"),
        Some(Cmd::Cp(a)) => ("cp", cp::run(&g, &a)),
        Some(Cmd::Cat(a)) => ("cat", cat::run(&g, &a)),
        Some(Cmd::Relay(a)) => ("relay", relay::run(&g, &a)),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(Fail::Usage(m)) => usage_error(Some(name), &m),
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
