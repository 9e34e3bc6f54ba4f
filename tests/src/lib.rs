//! End-to-end tests across riskscore's crates live in `tests/tests/`; this
//! library only holds their shared helpers.

use std::path::{Path, PathBuf};

/// The repository root.
pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}
