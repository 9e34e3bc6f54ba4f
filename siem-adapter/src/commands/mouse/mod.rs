//! `siem-adapter mouse`: user behaviour analytics on mouse dynamics.
//!
//! - `mouse gestures`: the gesture feature table of a stream of mouse events
//!   (for inspection and for other tools);
//! - `mouse train`: one artifact per account — a random forest of the
//!   owner's gestures against other accounts' gestures, plus the owner's
//!   gesture distributions for the Kolmogorov–Smirnov method;
//! - `mouse score`: a stream of mouse events grouped by user and session in,
//!   one scored event per session out.
//!
//! Segmentation, features and session scores are scorer-core's
//! ([`scorer_core::mouse`]), so every runtime scores alike.

mod input;
mod score;
mod train;

use std::io::Write;
use std::path::PathBuf;

use anyhow::{Context, Result};
use scorer_core::mouse::{feature_names, FeatureExtractor, GestureParams, Segmenter, N_FEATURES};

use crate::sources::InputFormat;
pub use input::{sessions, FieldArgs, Session};

/// `siem-adapter mouse …`
#[derive(Debug, clap::Args)]
pub struct MouseArgs {
    /// Which subcommand.
    #[command(subcommand)]
    pub command: MouseCommand,
}

/// The mouse subcommands.
#[derive(Debug, clap::Subcommand)]
pub enum MouseCommand {
    /// Write the gesture feature table of a stream of mouse events.
    Gestures(Box<GesturesArgs>),
    /// Train one session model per account.
    Train(Box<train::MouseTrainArgs>),
    /// Score sessions of mouse events: one scored event per session.
    Score(Box<score::MouseScoreArgs>),
}

/// Run a mouse subcommand.
pub fn run(a: &MouseArgs) -> Result<i32> {
    match &a.command {
        MouseCommand::Gestures(g) => gestures(g),
        MouseCommand::Train(t) => train::run(t),
        MouseCommand::Score(s) => score::run(s),
    }
}

/// Segmentation options.
#[derive(Debug, Clone, clap::Args)]
pub struct GestureArgs {
    /// A gap longer than this (seconds) ends a gesture.
    #[arg(long, default_value_t = GestureParams::default().pause_s)]
    pub pause_s: f64,
    /// Gestures with fewer points are dropped.
    #[arg(long, default_value_t = GestureParams::default().min_points)]
    pub min_points: usize,
    /// Gestures are cut after this many points.
    #[arg(long, default_value_t = GestureParams::default().max_points)]
    pub max_points: usize,
}

impl GestureArgs {
    /// As scorer-core's parameters, checked.
    pub fn params(&self) -> Result<GestureParams> {
        let p = GestureParams {
            pause_s: self.pause_s,
            min_points: self.min_points,
            max_points: self.max_points,
        };
        p.validate().map_err(anyhow::Error::msg)?;
        Ok(p)
    }
}

/// `mouse gestures` options.
#[derive(Debug, clap::Args)]
pub struct GesturesArgs {
    /// Mouse events: CSV or JSON lines (gzip allowed), `-` for stdin.
    #[arg(long)]
    pub input: PathBuf,
    /// Input format.
    #[arg(long, value_enum, default_value = "auto")]
    pub format: InputFormat,
    /// Where to write the CSV table (`-` for stdout).
    #[arg(long, default_value = "-")]
    pub output: PathBuf,
    /// Event field names.
    #[command(flatten)]
    pub fields: FieldArgs,
    /// Segmentation.
    #[command(flatten)]
    pub gestures: GestureArgs,
}

/// Gesture feature rows (row-major, [`N_FEATURES`] wide) of a session's records.
pub fn gesture_rows(s: &Session, params: GestureParams) -> Vec<f64> {
    let mut seg = Segmenter::new(params);
    let mut ex = FeatureExtractor::default();
    let mut rows = Vec::new();
    let mut emit = |g: scorer_core::mouse::Gesture<'_>| {
        let at = rows.len();
        rows.resize(at + N_FEATURES, 0.0);
        ex.extract(&g, &mut rows[at..]);
    };
    for r in &s.records {
        seg.push(*r, &mut emit);
    }
    seg.finish(&mut emit);
    rows
}

/// `path` for writing, `-` for stdout.
pub fn create_output(path: &std::path::Path) -> Result<Box<dyn Write>> {
    Ok(if path.as_os_str() == "-" {
        Box::new(std::io::stdout().lock())
    } else {
        Box::new(
            std::fs::File::create(path)
                .with_context(|| format!("cannot create {}", path.display()))?,
        )
    })
}

fn gestures(a: &GesturesArgs) -> Result<i32> {
    let params = a.gestures.params()?;
    let out = create_output(&a.output)?;
    let mut w = csv::Writer::from_writer(std::io::BufWriter::new(out));
    let mut header = vec!["user".to_string(), "session".into(), "gesture".into()];
    header.extend(feature_names());
    w.write_record(&header)?;
    let (mut n_sessions, mut n_gestures) = (0u64, 0u64);
    for s in sessions(&a.input, a.format, &a.fields)? {
        n_sessions += 1;
        if let Some(e) = &s.first_error {
            tracing::warn!(user = %s.user, session = %s.session, invalid = s.invalid, "invalid mouse events skipped: {e}");
        }
        for (i, row) in gesture_rows(&s, params)
            .chunks_exact(N_FEATURES)
            .enumerate()
        {
            n_gestures += 1;
            let mut rec = vec![s.user.clone(), s.session.clone(), i.to_string()];
            rec.extend(row.iter().map(|v| v.to_string()));
            w.write_record(&rec)?;
        }
    }
    w.flush()?;
    tracing::info!(
        sessions = n_sessions,
        gestures = n_gestures,
        "gesture table written"
    );
    Ok(0)
}

/// An account name that can name its model file `<user>.json` in the models
/// folder: no path separators, no leading dot (so no `..`), nothing else odd.
pub(crate) fn is_model_file_name(user: &str) -> bool {
    !user.is_empty()
        && !user.starts_with('.')
        && user
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | '@'))
}

#[cfg(test)]
mod name_tests {
    #[test]
    fn account_names_cannot_leave_the_models_folder() {
        for ok in ["user7", "a.b@corp", "x-1_2"] {
            assert!(super::is_model_file_name(ok), "{ok}");
        }
        for bad in ["", "..", "../x", "/etc/x", "a/b", ".hidden", "a\\b", "ü"] {
            assert!(!super::is_model_file_name(bad), "{bad}");
        }
    }
}
