//! A program outside the repository, built with pkg-config against the
//! installed library (C, C++, the static archive), run and its output
//! checked.
use super::*;

/// A program that knows nothing of the repository: it copies a file with the
/// library and prints what happened. Valid C99 and C++.
const PROGRAM: &str = r#"#define _POSIX_C_SOURCE 200809L
#include <zcopy.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int main(int argc, char **argv) {
    int in, out;
    zcopy_result r;
    zcopy_pool_stats st;
    if (argc != 3) {
        fprintf(stderr, "usage: %s SRC DST\n", argv[0]);
        return 2;
    }
    in = open(argv[1], O_RDONLY | O_CLOEXEC);
    if (in < 0) { perror(argv[1]); return 1; }
    out = open(argv[2], O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (out < 0) { perror(argv[2]); close(in); return 1; }
    r = zcopy_copy(out, in, ZCOPY_ALL);
    if (r.error != 0) {
        fprintf(stderr, "%s: %s\n", zcopy_method_name(r.method), strerror(r.error));
        return 1;
    }
    zcopy_pool_get_stats(&st);
    printf("zcopy %s\n", zcopy_version());
    printf("copied %lld bytes with %s\n", (long long)r.written, zcopy_method_name(r.method));
    printf("pool in_use %llu\n", (unsigned long long)st.in_use);
    close(in);
    close(out);
    return 0;
}
"#;

fn compile_and_run(compiler: &str, lang_flags: &[&str], static_link: bool, tag: &str) {
    require(compiler, "apt-get install -y build-essential");
    let p = &installed().prefix;
    let work = TempDir::new(&format!("consumer-{tag}"));
    let src = work.path().join("consumer.c");
    std::fs::write(&src, PROGRAM).unwrap();
    let exe = work.path().join("consumer");
    let mut cmd = Command::new(compiler);
    cmd.args(lang_flags)
        .args(["-Wall", "-Wextra", "-Werror", "-pedantic"])
        .arg(&src)
        .arg("-o")
        .arg(&exe)
        .args(split(&pkg_config(p, &["--cflags", "zcopy"])));
    if static_link {
        // Same flags, but the archive instead of the .so.
        let libs = pkg_config(p, &["--static", "--libs", "zcopy"]);
        for f in split(&libs) {
            if f == "-lzcopy" {
                cmd.args(["-Wl,-Bstatic", "-lzcopy", "-Wl,-Bdynamic"]);
            } else {
                cmd.arg(f);
            }
        }
    } else {
        cmd.args(split(&pkg_config(p, &["--libs", "zcopy"])));
    }
    cmd.current_dir(work.path());
    run_ok(&mut cmd, STEP);

    // Which libzcopy the program loads.
    let ld_path = p.join("lib");
    let ldd = run_ok(
        Command::new("ldd")
            .arg(&exe)
            .env("LD_LIBRARY_PATH", &ld_path),
        STEP,
    );
    let ldd = stdout_str(&ldd);
    if static_link {
        assert!(
            !ldd.contains("libzcopy"),
            "static build still needs the .so: {ldd}"
        );
    } else {
        let line = ldd.lines().find(|l| l.contains("libzcopy")).unwrap_or("");
        assert!(
            line.contains(&format!("libzcopy.so.{SOMAJOR} => {}", ld_path.display())),
            "the program must load the installed libzcopy.so.{SOMAJOR}: {ldd}"
        );
    }

    let data = random_bytes(3 * 1024 * 1024 + 17, 7);
    let input = work.path().join("input.bin");
    let output = work.path().join("output.bin");
    std::fs::write(&input, &data).unwrap();
    let o = run_ok(
        Command::new(&exe)
            .arg(&input)
            .arg(&output)
            .env("LD_LIBRARY_PATH", &ld_path)
            .current_dir(work.path()),
        STEP,
    );
    let text = stdout_str(&o);
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some(&*format!("zcopy {VERSION}")), "{text}");
    let copied = lines.next().unwrap_or("");
    // File to file: copy_file_range, or a fallback where the filesystem
    // cannot do it.
    assert!(
        ["copy_file_range", "sendfile", "read_write"]
            .iter()
            .any(|m| copied == format!("copied {} bytes with {m}", data.len())),
        "{text}"
    );
    assert_eq!(lines.next(), Some("pool in_use 0"), "{text}");
    assert!(
        std::fs::read(&output).unwrap() == data,
        "the copy differs from the input"
    );
}

#[test]
fn c_program_builds_with_pkg_config_and_runs() {
    compile_and_run("gcc", &["-std=c99"], false, "c99");
}

#[test]
fn cxx_program_builds_with_pkg_config_and_runs() {
    compile_and_run("g++", &["-x", "c++", "-std=c++11"], false, "cxx");
}

#[test]
fn c_program_links_the_static_archive() {
    compile_and_run("gcc", &["-std=c99"], true, "static");
}
