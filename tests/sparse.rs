//! zcopy_copy file -> file keeps holes (src/mech/sparse.rs): du-style block
//! counts (st_blocks) of the copy, its bytes, its length and both file
//! positions, from the start and from a position with a limit, into a new
//! and into an existing file.

use std::fs::{File, OpenOptions};
use std::io::{Seek, SeekFrom};
use std::os::fd::AsRawFd;
use std::os::unix::fs::{FileExt, MetadataExt};
use std::path::{Path, PathBuf};
use zcopy::{ZCOPY_ALL, ZCOPY_METHOD_NONE};

const MIB: u64 = 1 << 20;
/// The source: 256 MiB long, four 256 KiB data extents, a hole at the end.
const SIZE: u64 = 256 * MIB;
const EXTENTS: [u64; 4] = [0, 70 * MIB, 140 * MIB + 4096, 200 * MIB];
const EXTENT: u64 = 256 * 1024;

struct Tmp(PathBuf);

impl Tmp {
    fn new(tag: &str) -> Tmp {
        let p = std::env::temp_dir().join(format!("zcopy-sparse-{tag}-{}", std::process::id()));
        std::fs::create_dir_all(&p).unwrap();
        Tmp(p)
    }
}

impl Drop for Tmp {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn sparse_source(dir: &Path) -> File {
    let p = dir.join("src");
    let f = File::create(&p).unwrap();
    for (i, &at) in EXTENTS.iter().enumerate() {
        let data: Vec<u8> = (0..EXTENT)
            .map(|j| (j * 7 + i as u64 * 13 + 1) as u8)
            .collect();
        f.write_all_at(&data, at).unwrap();
    }
    f.set_len(SIZE).unwrap();
    f.sync_all().unwrap();
    let f = File::open(&p).unwrap();
    let used = allocated(&f);
    // The test means nothing on a filesystem without holes.
    assert!(used <= 2 * MIB, "the source itself takes {used} bytes");
    f
}

/// Bytes allocated on disk (du's count: st_blocks of 512 bytes).
fn allocated(f: &File) -> u64 {
    f.metadata().unwrap().blocks() * 512
}

fn position(mut f: &File) -> u64 {
    f.stream_position().unwrap()
}

/// Whether `a` at `a_off` and `b` at `b_off` hold the same `len` bytes.
fn same_bytes(a: &File, a_off: u64, b: &File, b_off: u64, len: u64) -> bool {
    let (mut x, mut y) = (vec![0u8; 4 << 20], vec![0u8; 4 << 20]);
    let mut done = 0;
    while done < len {
        let n = (len - done).min(x.len() as u64) as usize;
        a.read_exact_at(&mut x[..n], a_off + done).unwrap();
        b.read_exact_at(&mut y[..n], b_off + done).unwrap();
        if x[..n] != y[..n] {
            return false;
        }
        done += n as u64;
    }
    true
}

fn rw(p: &Path) -> File {
    OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(p)
        .unwrap()
}

#[test]
fn whole_file_keeps_its_holes() {
    let tmp = Tmp::new("whole");
    let src = sparse_source(&tmp.0);
    let dst = rw(&tmp.0.join("dst"));
    let t = zcopy::dispatch::copy(dst.as_raw_fd(), src.as_raw_fd(), ZCOPY_ALL);
    assert_eq!((t.written, t.error), (SIZE as i64, 0), "{t:?}");
    assert_ne!(t.method, ZCOPY_METHOD_NONE, "{t:?}");
    dst.sync_all().unwrap();
    assert_eq!(dst.metadata().unwrap().len(), SIZE);
    let used = allocated(&dst);
    assert!(used <= 2 * MIB, "the copy takes {used} bytes, not ~1 MiB");
    assert!(same_bytes(&src, 0, &dst, 0, SIZE));
    assert_eq!((position(&src), position(&dst)), (SIZE, SIZE));
    // At the end: nothing more, nothing changed.
    let t = zcopy::dispatch::copy(dst.as_raw_fd(), src.as_raw_fd(), ZCOPY_ALL);
    assert_eq!((t.written, t.error), (0, 0), "{t:?}");
    assert_eq!(dst.metadata().unwrap().len(), SIZE);
}

#[test]
fn from_a_position_with_a_limit() {
    let tmp = Tmp::new("limit");
    let src = sparse_source(&tmp.0);
    // Start in the hole before the second extent, stop inside the fourth.
    let start = 70 * MIB - 1000;
    let len = 200 * MIB + 1000 + 100_000 - start;
    (&src).seek(SeekFrom::Start(start)).unwrap();
    let dst = rw(&tmp.0.join("dst"));
    let t = zcopy::dispatch::copy(dst.as_raw_fd(), src.as_raw_fd(), len as i64);
    assert_eq!((t.written, t.error), (len as i64, 0), "{t:?}");
    dst.sync_all().unwrap();
    assert_eq!(dst.metadata().unwrap().len(), len);
    assert!(allocated(&dst) <= 2 * MIB, "{} bytes", allocated(&dst));
    assert!(same_bytes(&src, start, &dst, 0, len));
    assert_eq!((position(&src), position(&dst)), (start + len, len));

    // A limit that ends in a hole: dst gets its full length by ftruncate.
    let dst2 = rw(&tmp.0.join("dst2"));
    (&src).seek(SeekFrom::Start(EXTENT - 10)).unwrap();
    let t = zcopy::dispatch::copy(dst2.as_raw_fd(), src.as_raw_fd(), (5 * MIB) as i64);
    assert_eq!((t.written, t.error), ((5 * MIB) as i64, 0), "{t:?}");
    assert_eq!(dst2.metadata().unwrap().len(), 5 * MIB);
    assert!(same_bytes(&src, EXTENT - 10, &dst2, 0, 5 * MIB));
    assert_eq!(position(&dst2), 5 * MIB);

    // All hole: nothing moved by a mechanism, the length is there.
    let dst3 = rw(&tmp.0.join("dst3"));
    (&src).seek(SeekFrom::Start(10 * MIB)).unwrap();
    let t = zcopy::dispatch::copy(dst3.as_raw_fd(), src.as_raw_fd(), MIB as i64);
    assert_eq!(
        (t.written, t.error, t.method),
        (MIB as i64, 0, ZCOPY_METHOD_NONE)
    );
    assert_eq!(dst3.metadata().unwrap().len(), MIB);
    assert_eq!(allocated(&dst3), 0);
    assert!(same_bytes(&src, 10 * MIB, &dst3, 0, MIB));
    assert_eq!((position(&src), position(&dst3)), (11 * MIB, MIB));
}

#[test]
fn into_an_existing_file_holes_overwrite_its_bytes() {
    let tmp = Tmp::new("existing");
    let src = sparse_source(&tmp.0);
    let dst = rw(&tmp.0.join("dst"));
    dst.write_all_at(&vec![0xAA; (8 * MIB) as usize], 0)
        .unwrap();
    // dst at 4 MiB, src at 69 MiB (1 MiB of hole, then data): dst's bytes
    // from 4 to 8 MiB face src's hole and must become zeros.
    (&dst).seek(SeekFrom::Start(4 * MIB)).unwrap();
    (&src).seek(SeekFrom::Start(69 * MIB)).unwrap();
    let len = 8 * MIB;
    let t = zcopy::dispatch::copy(dst.as_raw_fd(), src.as_raw_fd(), len as i64);
    assert_eq!((t.written, t.error), (len as i64, 0), "{t:?}");
    assert_eq!(dst.metadata().unwrap().len(), 12 * MIB);
    assert!(same_bytes(&src, 69 * MIB, &dst, 4 * MIB, len));
    let mut head = vec![0u8; (4 * MIB) as usize];
    dst.read_exact_at(&mut head, 0).unwrap();
    assert!(
        head.iter().all(|&b| b == 0xAA),
        "bytes before dst's position changed"
    );
    assert_eq!((position(&src), position(&dst)), (77 * MIB, 12 * MIB));

    // A longer existing dst is not shortened by a copy ending in a hole.
    let long = rw(&tmp.0.join("long"));
    long.set_len(300 * MIB).unwrap();
    long.write_all_at(b"tail", 300 * MIB - 4).unwrap();
    (&src).seek(SeekFrom::Start(0)).unwrap();
    let t = zcopy::dispatch::copy(long.as_raw_fd(), src.as_raw_fd(), ZCOPY_ALL);
    assert_eq!((t.written, t.error), (SIZE as i64, 0), "{t:?}");
    assert_eq!(long.metadata().unwrap().len(), 300 * MIB);
    let mut tail = [0u8; 4];
    long.read_exact_at(&mut tail, 300 * MIB - 4).unwrap();
    assert_eq!(&tail, b"tail");
    assert!(same_bytes(&src, 0, &long, 0, SIZE));
}

#[test]
fn in_chunks_as_the_cli_progress_bar_copies() {
    // `zcopy cp --progress` calls zcopy_copy for 8 MiB at a time: each call
    // starts where dst's last ftruncate left it, and no hole is filled.
    let tmp = Tmp::new("chunks");
    let src = sparse_source(&tmp.0);
    let dst = rw(&tmp.0.join("dst"));
    let mut total = 0;
    loop {
        let t = zcopy::dispatch::copy(dst.as_raw_fd(), src.as_raw_fd(), 8 << 20);
        assert_eq!(t.error, 0, "{t:?}");
        if t.written == 0 {
            break;
        }
        total += t.written as u64;
        assert_eq!(dst.metadata().unwrap().len(), total);
    }
    assert_eq!(total, SIZE);
    assert!(allocated(&dst) <= 2 * MIB, "{} bytes", allocated(&dst));
    assert!(same_bytes(&src, 0, &dst, 0, SIZE));
}

#[test]
fn a_sysfs_file_shorter_than_its_size() {
    // sysfs reports 4096 bytes and no blocks for a file of a few bytes: it
    // looks sparse, and the copy must end where its content does, without
    // padding dst to 4096 with zeros.
    let p = "/sys/devices/system/cpu/online";
    let src = File::open(p).unwrap();
    let m = src.metadata().unwrap();
    assert!(
        m.blocks() * 512 < m.len(),
        "{p} does not look sparse: {m:?}"
    );
    let want = std::fs::read(p).unwrap();
    assert!(!want.is_empty() && (want.len() as u64) < m.len());
    let tmp = Tmp::new("sysfs");
    let dst = rw(&tmp.0.join("dst"));
    let t = zcopy::dispatch::copy(dst.as_raw_fd(), src.as_raw_fd(), ZCOPY_ALL);
    assert_eq!((t.written, t.error), (want.len() as i64, 0), "{t:?}");
    assert_eq!(std::fs::read(tmp.0.join("dst")).unwrap(), want);
    assert_eq!(position(&dst), want.len() as u64);
}
