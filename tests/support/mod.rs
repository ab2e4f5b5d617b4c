//! Helpers shared by the tests that run programs (install, examples,
//! fileserver, ffi_examples): processes (process.rs), tools (tools.rs),
//! files and checksums (files.rs), TCP peers (net.rs), the built library
//! and C examples (build.rs).
#![allow(dead_code)]

// The library lookup rule shared with the other Rust tests.
#[path = "../common/mod.rs"]
mod common;

pub mod build;
pub mod files;
pub mod net;
pub mod process;
pub mod tools;

// Each test uses some of them; the rest are not "unused".
#[allow(unused_imports)]
pub use {build::*, files::*, net::*, process::*, tools::*};
