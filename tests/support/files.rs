//! Paths, temporary directories, test data and its checksums.

use super::process::run_ok;
use super::tools::require;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

/// The repository's top directory.
pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// target/<profile>/ of the running test (target/debug/deps/x -> target/debug).
pub fn profile_dir() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    exe.parent().unwrap().parent().unwrap().to_path_buf()
}

/// A directory under the system temp dir (outside the repository), removed
/// with everything in it on drop.
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new(tag: &str) -> TempDir {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .subsec_nanos();
        let p = std::env::temp_dir().join(format!("zcopy-{tag}-{}-{nanos}", std::process::id()));
        std::fs::create_dir_all(&p).unwrap();
        TempDir(p)
    }
    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Deterministic pseudo-random bytes (xorshift), different per seed.
pub fn random_bytes(n: usize, seed: u64) -> Vec<u8> {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut v = Vec::with_capacity(n + 8);
    while v.len() < n {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        v.extend_from_slice(&x.to_le_bytes());
    }
    v.truncate(n);
    v
}

/// sha256sum of a file, as hex.
pub fn sha256_file(p: &Path) -> String {
    require("sha256sum", "apt-get install -y coreutils");
    let o = run_ok(Command::new("sha256sum").arg(p), Duration::from_secs(60));
    String::from_utf8(o.stdout)
        .unwrap()
        .split_whitespace()
        .next()
        .unwrap()
        .to_string()
}

/// sha256 of bytes (written to a temp file and hashed with sha256sum).
pub fn sha256_bytes(b: &[u8], dir: &Path) -> String {
    let p = dir.join(format!("hash-{}", std::process::id()));
    std::fs::write(&p, b).unwrap();
    let h = sha256_file(&p);
    let _ = std::fs::remove_file(&p);
    h
}

/// Checks a copy example's report, `{prefix}copied N bytes from SRC to DST
/// with METHOD`, and returns METHOD, which must be one zcopy_copy uses
/// between files.
pub fn copy_report_method(out: &str, prefix: &str, n: usize, src: &Path, dst: &Path) -> String {
    let head = format!(
        "{prefix}copied {n} bytes from {} to {} with ",
        src.display(),
        dst.display()
    );
    assert!(out.starts_with(&head), "{out}");
    let method = out[head.len()..].trim();
    assert!(
        ["copy_file_range", "sendfile", "read_write"].contains(&method),
        "unexpected method {method:?}"
    );
    method.to_string()
}
