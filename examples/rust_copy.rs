//! Sends a file to a TCP peer with zcopy::copy (sendfile underneath): no
//! byte passes through this program's memory.
//!
//!     cargo run --example rust_copy -- FILE HOST:PORT
//!
//! Prints how many bytes went and by which mechanism.
#![forbid(unsafe_code)]

use std::fs::File;
use std::net::TcpStream;
use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [path, addr] = args.as_slice() else {
        eprintln!("usage: rust_copy FILE HOST:PORT");
        return ExitCode::from(2);
    };
    match send(path, addr) {
        Ok(c) => {
            println!("rust_copy: sent {} bytes by {}", c.bytes, c.method);
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("rust_copy: {path} -> {addr}: {e}");
            ExitCode::FAILURE
        }
    }
}

fn send(path: &str, addr: &str) -> std::io::Result<zcopy::Copied> {
    let file = File::open(path)?;
    let sock = TcpStream::connect(addr)?;
    // None: until the end of the file. The file's position advances.
    let copied = zcopy::copy(&sock, &file, None)?;
    // Tell the peer we are done; it may still answer.
    sock.shutdown(std::net::Shutdown::Write)?;
    Ok(copied)
}
