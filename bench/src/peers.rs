//! The relays scenario 1 compares: zcopy's C relay and its pipe-size sweep,
//! zcopy's Python relays, Go's io.Copy (splice and generic), the Python
//! peers and the raw splice(2) ceiling.

use crate::relay::{Relay, RelaySetup};
use crate::setup::{cc, ensure_so, Link, Peers};
use crate::tools::which;
use std::path::Path;

/// Builds (or finds) every relay of scenario 1; what cannot be had is in
/// the result's `skipped`.
pub fn relays(root: &Path, work: &Path, peers: &Peers, log: &mut Vec<String>) -> RelaySetup {
    let mut rs = RelaySetup {
        relays: Vec::new(),
        skipped: Vec::new(),
        zcopy_c: None,
        go: None,
    };
    let so = root.join("target/release/libzcopy.so");
    let have_so = ensure_so(root, &so, log);
    // bench/zrelay.c: the same thread-per-direction design as
    // examples/relay.c, with the pool's pipe size from ZRELAY_PIPE_SIZE.
    // Built once: it stands in for examples/relay.c when the tree lacks it,
    // and runs the pipe-size sweep.
    let zrelay = work.join("zrelay");
    let zrelay_built = match &have_so {
        Ok(()) => cc(
            peers,
            root,
            &root.join("bench/zrelay.c"),
            &zrelay,
            &[],
            Link::Zcopy,
        ),
        Err(e) => Err(e.clone()),
    };
    let relay_c = root.join("examples/relay.c");
    if relay_c.is_file() {
        let cname = "zcopy C relay (examples/relay.c)";
        let bin = work.join("zcopy-relay");
        match have_so
            .clone()
            .and_then(|()| cc(peers, root, &relay_c, &bin, &[], Link::Zcopy))
        {
            Ok(()) => {
                let mut argv = vec![bin.to_string_lossy().to_string()];
                argv.extend(addr_args(&relay_c));
                rs.relays.push(Relay::new(cname, argv, &[]));
                rs.zcopy_c = Some(cname.into());
            }
            Err(e) => rs.skipped.push(format!("{}: {}", cname, e)),
        }
    } else {
        let cname = "zcopy C relay (bench/zrelay.c)";
        match &zrelay_built {
            Ok(()) => {
                rs.relays.push(Relay::ports(cname, &zrelay, &[]));
                rs.zcopy_c = Some(cname.into());
            }
            Err(e) => rs.skipped.push(format!("{}: {}", cname, e)),
        }
    }
    // Pipe-size sweep: does a smaller pool pipe move more Gbit/s?
    match &zrelay_built {
        Ok(()) => {
            for (label, sz) in [("64 KiB", "65536"), ("256 KiB", "262144")] {
                let name = format!("zcopy bench/zrelay.c, pool pipe {}", label);
                rs.relays
                    .push(Relay::ports(&name, &zrelay, &[("ZRELAY_PIPE_SIZE", sz)]));
            }
        }
        Err(e) => rs.skipped.push(format!("bench/zrelay.c: {}", e)),
    }
    python_relays(root, &so, &mut rs);
    go_relays(peers, &mut rs);
    if let Some(a) = &peers.anchors {
        anchor_relays(root, work, a, peers, &mut rs);
    }
    rs
}

/// zcopy's Python relays (threads, and asyncio on zcopy.aio).
fn python_relays(root: &Path, so: &Path, rs: &mut RelaySetup) {
    for (file, name) in [
        (
            "relay.py",
            "zcopy Python relay, threads (bindings/python/examples/relay.py)",
        ),
        (
            "aiorelay.py",
            "zcopy Python asyncio relay (bindings/python/examples/aiorelay.py)",
        ),
    ] {
        let script = root.join("bindings/python/examples").join(file);
        if !script.is_file() {
            rs.skipped.push(format!("{}: not in this tree", name));
            continue;
        }
        if which("python3").is_none() {
            rs.skipped.push(format!("{}: python3 not installed", name));
            continue;
        }
        let mut argv = vec!["python3".to_string(), script.to_string_lossy().to_string()];
        argv.extend(addr_args(&script));
        let pypath = root.join("bindings/python/src");
        let env = [
            ("PYTHONPATH", pypath.to_string_lossy().to_string()),
            ("ZCOPY_LIBRARY", so.to_string_lossy().to_string()),
        ];
        let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
        rs.relays.push(Relay::new(name, argv, &env));
    }
}

/// Go's io.Copy relay, with splice and with -generic (32 KiB read/write).
fn go_relays(peers: &Peers, rs: &mut RelaySetup) {
    let Some(g) = peers.go_bin.get("relay") else {
        rs.skipped.push("Go relays: relay.go was not built".into());
        return;
    };
    let g = g.to_string_lossy().to_string();
    for (name, generic) in [
        ("Go io.Copy (splice, Go's pipe pool)", false),
        ("Go io.Copy -generic (32 KiB read/write)", true),
    ] {
        let mut argv = vec![g.clone()];
        if generic {
            argv.push("-generic".into());
        }
        for a in ["-listen", "127.0.0.1:{lp}", "-to", "127.0.0.1:{tp}"] {
            argv.push(a.into());
        }
        rs.relays.push(Relay::new(name, argv, &[]));
        if !generic {
            rs.go = Some(name.into());
        }
    }
}

/// The anchors' Python relays and the raw splice(2) relay (the ceiling).
fn anchor_relays(root: &Path, work: &Path, a: &Path, peers: &Peers, rs: &mut RelaySetup) {
    if which("python3").is_some() {
        for (name, file) in [
            (
                "Python threads, 256 KiB read/write (pyrelay.py)",
                "pyrelay.py",
            ),
            (
                "Python asyncio streams, 256 KiB reads (aiorelay.py)",
                "aiorelay.py",
            ),
        ] {
            let script = a.join(file).to_string_lossy().to_string();
            let argv = vec!["python3".into(), script, "{lp}".into(), "{tp}".into()];
            rs.relays.push(Relay::new(name, argv, &[]));
        }
    }
    for (name, bin, psz) in [
        (
            "raw splice(2), 1 MiB pipe per direction (rawrelay.c, the ceiling)",
            "rawrelay",
            "-DPSZ=1048576",
        ),
        (
            "raw splice(2), 64 KiB pipe per direction (rawrelay.c -DPSZ=65536)",
            "rawrelay-64k",
            "-DPSZ=65536",
        ),
    ] {
        let bin = work.join(bin);
        let src = a.join("rawrelay.c");
        match cc(peers, root, &src, &bin, &[psz, "-DFLAGS=0"], Link::Libc) {
            Ok(()) => rs.relays.push(Relay::ports(name, &bin, &[])),
            Err(e) => rs.skipped.push(format!("rawrelay.c {}: {}", psz, e)),
        }
    }
}

/// A relay's listen and target arguments, read off its usage text:
/// `--listen A --to B`, `HOST:PORT HOST:PORT`, or two bare ports.
fn addr_args(src: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(src).unwrap_or_default();
    let v: &[&str] = if text.contains("--listen") {
        &["--listen", "127.0.0.1:{lp}", "--to", "127.0.0.1:{tp}"]
    } else if text.contains("ADDR:PORT")
        || text.contains("HOST:PORT")
        || text.contains("127.0.0.1:9000")
    {
        &["127.0.0.1:{lp}", "127.0.0.1:{tp}"]
    } else {
        &["{lp}", "{tp}"]
    };
    v.iter().map(|x| x.to_string()).collect()
}
