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
    /// relay --idle-timeout: milliseconds without a byte either way.
    pub idle_timeout_ms: Option<i64>,
    /// relay --close-both: the first end of stream ends the connection.
    pub close_both: bool,
    /// relay --threads: the engine's thread count (0: one per CPU).
    pub threads: Option<u32>,
    /// Operands, in order ("-" is an operand; everything after "--" is).
    pub args: Vec<String>,
}

/// Options may come before, between or after operands, as with GNU tools;
/// each command takes only the options its help lists. An option's value
/// is the next argument or follows `=`.
pub fn parse(cmd: &str, args: &[String]) -> Result<Opts, String> {
    let mut o = Opts::default();
    let mut rest = false;
    let mut it = args.iter();
    // Invariant: everything before `a` is in `o`.
    while let Some(a) = it.next() {
        if rest || a == "-" || !a.starts_with('-') {
            o.args.push(a.clone());
            continue;
        }
        let (name, inline) = match a.split_once('=') {
            Some((n, v)) if n.starts_with("--") => (n, Some(v.to_string())),
            _ => (a.as_str(), None),
        };
        let relay = cmd == "relay";
        let mut value = || {
            inline
                .clone()
                .or_else(|| it.next().cloned())
                .ok_or_else(|| format!("option '{name}' needs a value"))
        };
        match name {
            "--" => rest = true,
            "--stats" => o.stats = true,
            "--progress" => o.progress = true,
            "-h" | "--help" => o.help = true,
            "-p" | "--preserve" if cmd == "cp" => o.preserve = true,
            "--close-both" if relay => o.close_both = true,
            "--idle-timeout" if relay => o.idle_timeout_ms = Some(seconds_to_ms(&value()?)?),
            "--threads" if relay => {
                let v = value()?;
                let n = v.parse::<u32>().ok().filter(|&n| n <= 1024);
                o.threads = Some(n.ok_or(format!("--threads '{v}' is not 0 to 1024"))?);
            }
            _ => return Err(format!("unknown option '{a}'")),
        }
        if inline.is_some() && !matches!(name, "--idle-timeout" | "--threads") {
            return Err(format!("option '{name}' takes no value"));
        }
    }
    Ok(o)
}

/// "1.5" seconds to 1500 ms: positive, at most a year, at least 1 ms.
fn seconds_to_ms(v: &str) -> Result<i64, String> {
    match v.parse::<f64>() {
        Ok(s) if s > 0.0 && s <= 31_536_000.0 => Ok(((s * 1000.0).round() as i64).max(1)),
        _ => Err(format!(
            "--idle-timeout '{v}' is not a number of seconds above 0"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn relay_values_inline_or_next_and_operands_anywhere() {
        let o = parse(
            "relay",
            &args(&[
                "a:1",
                "--idle-timeout=1.5",
                "--threads",
                "0",
                "b:2",
                "--close-both",
            ]),
        )
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(o.idle_timeout_ms, Some(1500));
        assert_eq!(o.threads, Some(0));
        assert!(o.close_both);
        assert_eq!(o.args, ["a:1", "b:2"]);
        let o = parse("relay", &args(&["--idle-timeout", "0.0004", "--", "--x"])).unwrap();
        assert_eq!(o.idle_timeout_ms, Some(1), "at least 1 ms");
        assert_eq!(o.args, ["--x"]);
        assert!(parse("cp", &args(&["--threads", "2"])).is_err());
        assert!(parse("relay", &args(&["--stats=1"])).is_err());
    }
}
