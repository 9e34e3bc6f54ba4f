//! End-to-end tests across riskscore's crates live in `tests/tests/`; this
//! library holds what they share.
//!
//! ## Brief overview
//! - [`repo`]: the repository root, to find shipped examples and models.
//! - [`hec_server`]: a loopback Splunk HEC **test server** (not Splunk) with
//!   fault injection, for testing the adapter's write-back to Splunk; also
//!   runnable on its own as the `hec-test-server` binary.
//! - [`synthetic`]: seeded synthetic remediation records of three clients,
//!   for the drift tests.
//! - [`mouse`]: seeded synthetic mouse sessions of different hands, for the
//!   mouse-dynamics tests.
//! - [`soak`]: a soak run of the adapter's HEC write-back under faults and
//!   SIGKILLs, counting sent, stored, duplicated and lost events; runnable
//!   as the `hec-soak` binary.

#![deny(missing_docs)]

pub mod hec_server;
pub mod mouse;
pub mod soak;
pub mod synthetic;

use std::path::{Path, PathBuf};

/// The repository root.
pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}
