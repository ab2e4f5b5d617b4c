//! Rust tests of each mechanism module, through the plain-Rust API, one
//! file a topic under tests/mechanisms/.
#[path = "../common/mod.rs"]
mod common;

mod copy_file_range;
mod dispatch;
mod sendfile;
mod splice;
mod splicer;
