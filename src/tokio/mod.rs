//! zcopy for tokio (feature `tokio`): `copy_bidirectional` with the
//! relay's zero-copy directions, and `copy` from a file on sendfile.
//!
//! Both are driven by tokio's readiness: each call registers its own
//! duplicate of the fds with the runtime's reactor (`AsyncFd`), steps the
//! same state machine as [`relay`](crate::relay()) and the
//! [`Engine`](crate::Engine) (copy small messages, splice bulk data
//! through pooled pipes, half-close at end of stream) whenever the fds
//! are ready, and sleeps in the reactor otherwise. No thread of its own;
//! a runtime with I/O (and, for an idle timeout, time) enabled is needed.
//!
//! ```no_run
//! use tokio::net::{TcpListener, TcpStream};
//! # async fn proxy() -> std::io::Result<()> {
//! let listener = TcpListener::bind("127.0.0.1:8080").await?;
//! loop {
//!     let (mut client, _) = listener.accept().await?;
//!     tokio::spawn(async move {
//!         let mut upstream = TcpStream::connect("127.0.0.1:9090").await?;
//!         zcopy::tokio::copy_bidirectional(&mut client, &mut upstream).await
//!     });
//! }
//! # }
//! ```

mod bidi;
mod file;
mod ready;
mod short;

pub use bidi::{copy_bidirectional, copy_bidirectional_with};
pub use file::copy;
