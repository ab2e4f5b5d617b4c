//! The command line, declared for clap (derive): global options that go
//! before or after the command, one struct per command, and cp's options
//! with coreutils' names and meanings.

use clap::{Args, Parser, Subcommand, ValueEnum};

/// A failure worth exit status 1 (already reported on stderr), or a usage
/// error (2) whose one-line message main prints with the command's hint.
pub enum Fail {
    Usage(String),
    Error,
}

#[derive(Parser, Debug)]
#[command(
    name = "zcopy",
    about = "copy data with splice, sendfile and copy_file_range (zcopy library)",
    after_help = "Exit status: 0 success, 1 failure, 2 usage error.\n\
                  'zcopy COMMAND --help' shows a command's options.",
    disable_version_flag = true,
    subcommand_required = false
)]
pub struct Cli {
    #[command(flatten)]
    pub global: Global,
    /// print the version of zcopy and of its library
    #[arg(short = 'V', long, global = false)]
    pub version: bool,
    #[command(subcommand)]
    pub command: Option<Cmd>,
}

/// Options every command takes, before or after the command's name.
#[derive(Args, Debug, Clone, Copy, Default)]
pub struct Global {
    /// print bytes, time, MB/s and the method used on stderr
    #[arg(long, global = true)]
    pub stats: bool,
    /// a progress bar on stderr when stderr is a terminal (cp, cat)
    #[arg(long, global = true)]
    pub progress: bool,
    /// never use splice(2) (the library's kill switch, as ZCOPY_DISABLE=splice)
    #[arg(long, global = true)]
    pub no_splice: bool,
    /// never use sendfile(2)
    #[arg(long, global = true)]
    pub no_sendfile: bool,
    /// never use copy_file_range(2)
    #[arg(long, global = true)]
    pub no_copy_file_range: bool,
}

impl Global {
    /// The library's kill-switch mask these options ask for, added to
    /// what ZCOPY_DISABLE already turned off.
    pub fn disable_mask(&self) -> u32 {
        use zcopy::disable::{
            ZCOPY_DISABLE_COPY_FILE_RANGE, ZCOPY_DISABLE_SENDFILE, ZCOPY_DISABLE_SPLICE,
        };
        [
            (self.no_splice, ZCOPY_DISABLE_SPLICE),
            (self.no_sendfile, ZCOPY_DISABLE_SENDFILE),
            (self.no_copy_file_range, ZCOPY_DISABLE_COPY_FILE_RANGE),
        ]
        .iter()
        .filter(|(on, _)| *on)
        .fold(0, |m, (_, bit)| m | bit)
    }
}

/// A command's help starts with its usage, as coreutils' do.
const CMD_HELP: &str = "{usage-heading} {usage}\n\n{about-with-newline}\n{all-args}{after-help}";

#[derive(Subcommand, Debug)]
pub enum Cmd {
    /// copy files and directory trees as cp does
    Cp(CpArgs),
    /// write files (none, or -, for stdin) to stdout
    Cat(CatArgs),
    /// a bidirectional TCP proxy (zcopy_relay, or the engine)
    Relay(RelayArgs),
}

/// When to make holes (cp --sparse).
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum When {
    #[default]
    Auto,
    Always,
    Never,
}

#[derive(Args, Debug, Default)]
#[command(
    help_template = CMD_HELP,
    override_usage = "zcopy cp [OPTION]... [-T] SOURCE DEST\n       \
                      zcopy cp [OPTION]... SOURCE... DIRECTORY\n       \
                      zcopy cp [OPTION]... -t DIRECTORY SOURCE...",
    after_help = "Every byte goes through the library's best path (copy_file_range \
                  between files, then sendfile, then read/write); holes in a sparse \
                  SOURCE stay holes. See docs/CLI.md."
)]
pub struct CpArgs {
    /// same as -dR --preserve=all
    #[arg(short = 'a', long)]
    pub archive: bool,
    /// copy directories recursively
    #[arg(short = 'r', visible_short_alias = 'R', long)]
    pub recursive: bool,
    /// same as --no-dereference --preserve=links
    #[arg(short = 'd')]
    pub d: bool,
    /// never follow symbolic links in SOURCE
    #[arg(short = 'P', long)]
    pub no_dereference: bool,
    /// always follow symbolic links in SOURCE
    #[arg(short = 'L', long)]
    pub dereference: bool,
    /// follow the symbolic links named on the command line only
    #[arg(short = 'H')]
    pub h: bool,
    /// same as --preserve=mode,ownership,timestamps
    #[arg(short = 'p')]
    pub p: bool,
    /// keep the attributes in LIST: mode, ownership, timestamps, links,
    /// xattr, all (no LIST: mode,ownership,timestamps)
    #[arg(
        long,
        value_name = "LIST",
        num_args = 0..=1,
        require_equals = true,
        default_missing_value = "mode,ownership,timestamps",
        value_delimiter = ','
    )]
    pub preserve: Vec<String>,
    /// remove a destination that cannot be opened, and try again
    #[arg(short = 'f', long)]
    pub force: bool,
    /// ask before overwriting (y or Y on stdin goes on)
    #[arg(short = 'i', long)]
    pub interactive: bool,
    /// never overwrite an existing file
    #[arg(short = 'n', long)]
    pub no_clobber: bool,
    /// say what is copied, as 'SOURCE' -> 'DEST' on stdout
    #[arg(short = 'v', long)]
    pub verbose: bool,
    /// take DEST as a plain destination, never as a directory to copy into
    #[arg(short = 'T', long)]
    pub no_target_directory: bool,
    /// copy every SOURCE into DIRECTORY
    #[arg(short = 't', long, value_name = "DIRECTORY")]
    pub target_directory: Option<String>,
    /// holes: auto keeps SOURCE's, always also makes them of zero blocks,
    /// never fills them
    #[arg(long, value_name = "WHEN", default_value = "auto")]
    pub sparse: When,
    /// clone the data (FICLONE): auto tries, always must, never does not
    #[arg(
        long,
        value_name = "WHEN",
        num_args = 0..=1,
        require_equals = true,
        default_missing_value = "always"
    )]
    pub reflink: Option<When>,
    /// SOURCE... then DEST (or DIRECTORY; with -t, SOURCE... only)
    #[arg(value_name = "FILE")]
    pub operands: Vec<String>,
}

#[derive(Args, Debug, Default)]
#[command(help_template = CMD_HELP, after_help = "A closed or failing stdout is an error (exit 1), as with cat(1); \
                        a reader that went away ends the command as it ends cat.")]
pub struct CatArgs {
    /// files to write, in order; - (or none) is stdin
    #[arg(value_name = "FILE", allow_hyphen_values = false)]
    pub files: Vec<String>,
}

#[derive(Args, Debug, Default)]
#[command(help_template = CMD_HELP)]
pub struct RelayArgs {
    /// close a connection that moved no byte either way for SECONDS
    #[arg(long, value_name = "SECONDS", value_parser = seconds_to_ms)]
    pub idle_timeout: Option<i64>,
    /// the first end of stream closes both directions
    #[arg(long)]
    pub close_both: bool,
    /// relay every connection on an engine of N threads (0: one per CPU)
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(0..=1024))]
    pub threads: Option<u32>,
    /// [HOST]:PORT to listen on (port 0: a free one), then HOST:PORT to
    /// connect each connection to
    #[arg(value_name = "ADDRESS")]
    pub addresses: Vec<String>,
}

/// "1.5" seconds to 1500 ms: positive, at most a year, at least 1 ms.
fn seconds_to_ms(v: &str) -> Result<i64, String> {
    match v.parse::<f64>() {
        Ok(s) if s > 0.0 && s <= 31_536_000.0 => Ok(((s * 1000.0).round() as i64).max(1)),
        _ => Err("not a number of seconds above 0".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(v: &[&str]) -> Result<Cli, clap::Error> {
        Cli::try_parse_from(std::iter::once("zcopy").chain(v.iter().copied()))
    }

    #[test]
    fn globals_anywhere_and_cp_clusters() {
        let c = parse(&["cp", "-dR", "--preserve=mode,xattr", "a", "--stats", "b"]).unwrap();
        assert!(c.global.stats);
        let Some(Cmd::Cp(cp)) = c.command else {
            panic!("not cp")
        };
        assert!(cp.d && cp.recursive);
        assert_eq!(cp.preserve, ["mode", "xattr"]);
        assert_eq!(cp.operands, ["a", "b"]);
        let c = parse(&["--stats", "--progress", "cat", "x"]).unwrap();
        assert!(c.global.stats && c.global.progress);
        let c = parse(&["cp", "--no-splice", "a", "b", "--no-copy-file-range"]).unwrap();
        assert_eq!(c.global.disable_mask(), 1 | 4);
        let c = parse(&["cp", "--preserve", "a", "b"]).unwrap();
        let Some(Cmd::Cp(cp)) = c.command else {
            panic!("not cp")
        };
        assert_eq!(cp.preserve, ["mode", "ownership", "timestamps"]);
        assert_eq!(cp.operands, ["a", "b"], "--preserve takes no next argument");
    }

    #[test]
    fn relay_values_inline_or_next() {
        let c = parse(&[
            "relay",
            "a:1",
            "--idle-timeout=1.5",
            "--threads",
            "0",
            "b:2",
            "--close-both",
        ])
        .unwrap();
        let Some(Cmd::Relay(r)) = c.command else {
            panic!("not relay")
        };
        assert_eq!(r.idle_timeout, Some(1500));
        assert_eq!(r.threads, Some(0));
        assert!(r.close_both);
        assert_eq!(r.addresses, ["a:1", "b:2"]);
        assert!(parse(&["cp", "--threads", "2", "a", "b"]).is_err());
        assert!(parse(&["relay", "--stats=1", "a:1", "b:2"]).is_err());
        assert!(parse(&["relay", "--threads=5000", "a:1", "b:2"]).is_err());
    }
}
