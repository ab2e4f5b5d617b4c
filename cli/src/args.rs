//! The command line: options shared by every command, then operands.

/// A failure worth exit status 1 (already reported on stderr), or a usage
/// error (2) whose message main prints.
pub enum Fail {
    Usage(String),
    Error,
}

/// The parsed command line of one command.
pub struct Opts {
    pub stats: bool,
    pub progress: bool,
    pub help: bool,
    /// Operands, in order ("-" is an operand; everything after "--" is).
    pub args: Vec<String>,
}

/// Options may come before, between or after operands, as with GNU tools.
pub fn parse(args: &[String]) -> Result<Opts, String> {
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
