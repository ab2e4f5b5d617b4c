//! The C harness: compiles every program in `ctests/` with the system C
//! compiler (found through the `cc` crate) against `include/zcopy.h`, links
//! it against the built `libzcopy.so` (not the rlib), runs it with a time
//! limit and asserts that it exits 0. Each program prints one line per check
//! and ends with "N passed, M failed".
//!
//! Environment:
//! - `ZCOPY_VALGRIND=1`: run each program under valgrind memcheck
//!   (`--error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite`);
//!   the programs see the same variable and shrink their sizes.
//! - `ZCOPY_LOAD_SCALE`, `ZCOPY_SOAK=1`: size of the load test (see
//!   ctests/load.c).
//! - `ZCOPY_CTEST_TIMEOUT`: seconds before a program is killed (default 120,
//!   900 under valgrind).

mod common;
#[allow(dead_code)]
#[path = "support/tools.rs"]
mod tools;

use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Programs run one at a time: several are timing-sensitive (CPU use of a
/// stalled transfer, socket timeouts) and the machine may have 2 cores.
static RUN_LOCK: Mutex<()> = Mutex::new(());

fn manifest_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The directory holding the libzcopy.so built with this test.
fn lib_dir() -> PathBuf {
    common::built_library_dir()
}

fn target_triple() -> String {
    if let Ok(t) = std::env::var("TARGET") {
        return t;
    }
    format!("{}-unknown-linux-gnu", std::env::consts::ARCH)
}

fn valgrind() -> bool {
    matches!(std::env::var("ZCOPY_VALGRIND").as_deref(), Ok(v) if !v.is_empty() && v != "0")
}

/// Compiles ctests/<name>.c into target/<profile>/ctests/<name>.
fn compile(name: &str) -> PathBuf {
    let root = manifest_dir();
    let libdir = lib_dir();
    let outdir = libdir.parent().expect("profile dir").join("ctests");
    std::fs::create_dir_all(&outdir).expect("mkdir ctests out dir");
    let src = root.join("ctests").join(format!("{name}.c"));
    assert!(src.exists(), "{} missing", src.display());
    let exe = outdir.join(name);
    let triple = target_triple();
    let compiler = cc::Build::new()
        .opt_level(1)
        .debug(true)
        .host(&triple)
        .target(&triple)
        .cargo_metadata(false)
        .cargo_warnings(false)
        .get_compiler();
    let mut cmd = compiler.to_command();
    cmd.args([
        "-std=c99",
        "-Wall",
        "-Wextra",
        "-Werror",
        "-pedantic",
        "-D_GNU_SOURCE",
        "-pthread",
    ])
    .arg("-I")
    .arg(root.join("include"))
    .arg("-I")
    .arg(root.join("ctests"))
    .arg(&src)
    .arg("-o")
    .arg(&exe)
    .arg(format!("-L{}", libdir.display()))
    .arg("-lzcopy")
    .arg(format!("-Wl,-rpath,{}", libdir.display()))
    .arg("-pthread");
    let shown = std::iter::once(cmd.get_program())
        .chain(cmd.get_args())
        .map(|a| a.to_string_lossy().into_owned())
        .collect::<Vec<_>>()
        .join(" ");
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("cannot run the C compiler ({shown}): {e}"));
    if !out.status.success() {
        panic!(
            "compiling {} failed ({shown}):\n{}{}",
            src.display(),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    exe
}

fn timeout() -> Duration {
    if let Ok(s) = std::env::var("ZCOPY_CTEST_TIMEOUT") {
        if let Ok(n) = s.parse::<u64>() {
            return Duration::from_secs(n);
        }
    }
    Duration::from_secs(if valgrind() { 900 } else { 120 })
}

/// Runs a compiled program (in its own process group, killed with its
/// children on timeout) and returns (exit code or None, output).
fn run(exe: &Path) -> (Option<i32>, String, Duration) {
    let log = exe.with_extension(if valgrind() { "valgrind.log" } else { "log" });
    let logf = std::fs::File::create(&log).expect("create log");
    let mut cmd = if valgrind() {
        let mut c = Command::new("valgrind");
        c.args([
            "-q",
            "--error-exitcode=99",
            "--leak-check=full",
            "--errors-for-leak-kinds=definite",
            "--show-leak-kinds=definite",
            // Deep enough that a leak record's stack reaches the frame a
            // suppression names (engine workers' blocks in a forked child).
            "--num-callers=40",
            // valgrind's default pipe-based thread lock was seen to deadlock
            // with dozens of threads blocked at once; the ticket lock did not.
            "--fair-sched=try",
        ])
        .arg(format!(
            "--suppressions={}",
            manifest_dir()
                .join("ctests")
                .join("valgrind.supp")
                .display()
        ))
        .arg(exe);
        c
    } else {
        Command::new(exe)
    };
    cmd.stdin(Stdio::null())
        .stdout(logf.try_clone().expect("dup log"))
        .stderr(logf)
        .current_dir(manifest_dir())
        .process_group(0);
    let start = Instant::now();
    let mut child = cmd
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {:?}: {e}", cmd));
    let limit = timeout();
    let status = loop {
        match child.try_wait().expect("wait") {
            Some(st) => break Some(st),
            None if start.elapsed() > limit => {
                // SAFETY: kill(2) on the process group we created.
                unsafe { libc::kill(-(child.id() as i32), libc::SIGKILL) };
                let _ = child.wait();
                break None;
            }
            None => std::thread::sleep(Duration::from_millis(20)),
        }
    };
    let elapsed = start.elapsed();
    let out = std::fs::read_to_string(&log).unwrap_or_default();
    match status {
        Some(st) => {
            use std::os::unix::process::ExitStatusExt;
            let code = st.code().or_else(|| st.signal().map(|s| 128 + s));
            (code, out, elapsed)
        }
        None => (
            None,
            out + &format!("\n*** killed after {:?} (timeout)\n", limit),
            elapsed,
        ),
    }
}

/// Tools a program runs itself, installed here when missing (as root, as
/// on a fresh CI machine) or the test fails.
fn tools_for(name: &str) -> &'static [(&'static str, &'static str)] {
    match name {
        "reflink" => &[("mkfs.xfs", "apt-get install -y xfsprogs")],
        _ => &[],
    }
}

fn ctest(name: &str) {
    for (tool, hint) in tools_for(name) {
        tools::require(tool, hint);
    }
    let exe = compile(name);
    let _guard = RUN_LOCK.lock().unwrap_or_else(|e| e.into_inner());
    let (code, out, elapsed) = run(&exe);
    println!(
        "---- {name} output ({:.1} s) ----\n{out}",
        elapsed.as_secs_f64()
    );
    assert_eq!(
        code,
        Some(0),
        "C test program {name} failed (exit {:?}{}); its output is above; failed checks:\n{}",
        code,
        if valgrind() {
            ", valgrind exits 99 on memcheck errors"
        } else {
            ""
        },
        out.lines()
            .filter(|l| l.starts_with("FAIL") || l.starts_with("==") || l.starts_with("***"))
            .collect::<Vec<_>>()
            .join("\n")
    );
    let last = out
        .lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("");
    assert!(
        last.ends_with(" 0 failed") && last.contains(" passed, "),
        "{name}: last line should be 'N passed, 0 failed', got {last:?}"
    );
}

macro_rules! ctests {
    ($($name:ident),* $(,)?) => {
        $(
            #[test]
            fn $name() {
                ctest(stringify!($name));
            }
        )*
        /// Every ctests/*.c program has a #[test] above.
        #[test]
        fn every_c_program_is_registered() {
            let known = [$(stringify!($name)),*];
            let mut missing = Vec::new();
            for e in std::fs::read_dir(manifest_dir().join("ctests")).unwrap() {
                let p = e.unwrap().path();
                if p.extension().and_then(|x| x.to_str()) == Some("c") {
                    let stem = p.file_stem().unwrap().to_str().unwrap().to_string();
                    if !known.contains(&stem.as_str()) {
                        missing.push(stem);
                    }
                }
            }
            assert!(missing.is_empty(), "ctests/*.c without a #[test]: {missing:?}");
        }
    };
}

ctests!(
    core,
    goports,
    pool,
    dispatch,
    dispatch_devices,
    dispatch_at,
    sigpipe,
    fork,
    nospin,
    timeouts,
    exhaustion,
    isolation,
    load,
    hostile,
    splicer_relay,
    splicer_contract,
    splicer_lifecycle,
    urgent,
    seccomp,
    selfpipe,
    abi,
    atfork,
    pipesize,
    pipesoft,
    control_timeout,
    control_cancel,
    control_eintr,
    control_files,
    control_options,
    sigpipe_ignored,
    engine_relay,
    engine_life,
    engine_load,
    relay_stream,
    relay_control,
    relay_errors,
    relay_many,
    relay_urgent,
    relay_copymode,
    relay_smallpipe,
    relay_hostile,
    datagram,
    held_discard,
    engine_fork,
    relay_handles,
    fork_init,
    callpath,
    nowait,
    nowait_many,
    options_v2,
    killswitch,
    splice_refuse,
    stalled_pipe,
    reflink,
    sendfile_hdr,
    sendfile_hdr_wait,
);
