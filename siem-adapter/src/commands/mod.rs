//! The subcommands. Each takes its parsed arguments and returns an exit code
//! (0 success, 1 "done, but some events carry `risk_error`" or "verification
//! failed") or an error for the binary to print (exit 2).

pub mod inspect;
pub mod keys;
pub mod score;
pub mod train;

use std::io::IsTerminal;

/// A spinner on stderr when it is a terminal (hidden otherwise, e.g. under Splunk or CI).
pub fn spinner(message: &str) -> indicatif::ProgressBar {
    let pb = if std::io::stderr().is_terminal() {
        indicatif::ProgressBar::new_spinner()
    } else {
        indicatif::ProgressBar::hidden()
    };
    pb.set_message(message.to_string());
    pb.enable_steady_tick(std::time::Duration::from_millis(120));
    pb
}

/// Load a model file with the given trust settings.
pub fn load_model(
    path: &std::path::Path,
    trusted: &[std::path::PathBuf],
    allow_unsigned: bool,
) -> anyhow::Result<scorer_core::Model> {
    use anyhow::Context;
    let bytes =
        std::fs::read(path).with_context(|| format!("cannot read model {}", path.display()))?;
    let options = scorer_core::LoadOptions {
        trusted_keys: crate::keys::trusted_keys(trusted)?,
        allow_unsigned,
        require_approved: !allow_unsigned,
    };
    if allow_unsigned {
        tracing::warn!("--allow-unsigned: unsigned, untrusted and unapproved artifacts are accepted (development only)");
    }
    scorer_core::Model::load(&bytes, &options).with_context(|| format!("model {}", path.display()))
}
