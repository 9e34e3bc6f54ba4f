//! The subcommands. Each takes its parsed arguments and returns an exit code
//! (0 success, 1 "done, but some events carry `risk_error`", "verification
//! failed", "performance dropped" with `evaluate --fail-on-drop`, or "not
//! promoted" with `train --promote`) or an error for the binary to print (exit 2).

pub mod champion;
pub mod drift_args;
pub mod evaluate;
pub mod inspect;
pub mod keys;
pub mod model_args;
pub mod mouse;
pub mod replay;
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
