//! The command line: options, then operands, checked per command.

/// A failure worth exit status 1 (already reported on stderr), or a usage
/// error (2) whose one-line message main prints.
pub enum Fail {
    Usage(String),
    Error,
}

/// The parsed command line of one command.
#[derive(Default)]
pub struct Opts {
    pub stats: bool,
    pub progress: bool,
    pub help: bool,
    /// cp -p: the source's mode bits (setuid/setgid too) and times.
    pub preserve: bool,
    /// Operands, in order ("-" is an operand; everything after "--" is).
    pub args: Vec<String>,
}

/// Options may come before, between or after operands, as with GNU tools;
/// each command takes only the options its help lists.
pub fn parse(cmd: &str, args: &[String]) -> Result<Opts, String> {
    let mut o = Opts::default();
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
            "-p" | "--preserve" if cmd == "cp" => o.preserve = true,
            _ => return Err(format!("unknown option '{a}'")),
        }
    }
    Ok(o)
}
