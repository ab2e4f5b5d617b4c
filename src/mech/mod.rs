//! The mechanisms (Go's internal/poll: one file each) and io.Copy's
//! dispatch over them. Each runs a loop that waits through the call's
//! `Control` and reports an `Outcome`.
//!
//! | file | what |
//! | --- | --- |
//! | splice/ | splice(2): the direct loop, the pooled loop |
//! | sendfile.rs, sendfile_hdr.rs | sendfile(2); header + file + trailer |
//! | copy_file_range.rs | copy_file_range(2) |
//! | read_write.rs, positional.rs | the read/write fallback; pread/pwrite at offsets |
//! | sparse.rs, clone.rs | holes kept; copy-on-write clones |
//! | dispatch/ | `zcopy_copy`: the decision table |

pub mod clone;
pub mod copy_file_range;
pub mod dispatch;
pub mod positional;
pub mod read_write;
pub mod sendfile;
pub mod sendfile_hdr;
pub mod sparse;
pub mod splice;
