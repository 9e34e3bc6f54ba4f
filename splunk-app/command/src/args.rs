//! The command's arguments, as splunkd passes them in getinfo
//! (`searchinfo.args`: `["model=threat_rf", "explain=3"]`, quotes removed).

use siem_adapter::engine::EngineKind;

/// Most reasons a user may ask for.
pub const MAX_EXPLAIN: usize = 32;
/// Most threads a search's command may use on an indexer.
pub const MAX_THREADS: usize = 2;

/// `| riskscore model=<name> [threshold=<0..1>] [explain=<k>] [engine=wasm|native]
/// [allow_unsigned=<bool>] [fields=all|model] [threads=1|2]`.
#[derive(Debug, Clone, PartialEq)]
pub struct Args {
    /// Model name, resolved inside the app's `models/` folder.
    pub model: String,
    /// Flag threshold override.
    pub threshold: Option<f64>,
    /// Reasons per record.
    pub explain: usize,
    /// Engine.
    pub engine: EngineKind,
    /// Development: accept unsigned or unapproved artifacts.
    pub allow_unsigned: bool,
    /// Ask splunkd for the model's fields only (`required_fields`).
    pub model_fields_only: bool,
    /// Threads: 2 reads and writes a chunk's CSV on one while the engine
    /// scores on the other; 1 does both in turn.
    pub threads: usize,
}

/// A bad argument, worded for the search UI.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{0}")]
pub struct ArgError(pub String);

const USAGE: &str = "usage: riskscore model=<name> [threshold=<0..1>] [explain=<0..32>] \
                     [engine=wasm|native] [allow_unsigned=<bool>] [fields=all|model] \
                     [threads=1|2]";

/// A Splunk boolean argument (t/true/1/yes/y, f/false/0/no/n).
pub fn boolean(key: &str, v: &str) -> Result<bool, ArgError> {
    match v.to_ascii_lowercase().as_str() {
        "t" | "true" | "1" | "yes" | "y" => Ok(true),
        "f" | "false" | "0" | "no" | "n" => Ok(false),
        _ => Err(ArgError(format!("{key}={v}: expected true or false"))),
    }
}

impl Args {
    /// Parse splunkd's argument list.
    pub fn parse(args: &[String]) -> Result<Args, ArgError> {
        let mut model = None;
        let mut a = Args {
            model: String::new(),
            threshold: None,
            explain: 0,
            engine: EngineKind::Wasm,
            allow_unsigned: false,
            model_fields_only: false,
            threads: MAX_THREADS,
        };
        for arg in args {
            let Some((key, value)) = arg.split_once('=') else {
                return Err(ArgError(format!("unexpected argument `{arg}`; {USAGE}")));
            };
            let value = value.trim();
            match key.trim() {
                "model" => model = Some(value.to_string()),
                "threshold" => {
                    let t: f64 = value.parse().map_err(|_| {
                        ArgError(format!("threshold={value}: expected a number from 0 to 1"))
                    })?;
                    if !(0.0..=1.0).contains(&t) {
                        return Err(ArgError(format!(
                            "threshold={value}: expected a number from 0 to 1"
                        )));
                    }
                    a.threshold = Some(t);
                }
                "explain" => {
                    a.explain = value
                        .parse::<usize>()
                        .ok()
                        .filter(|k| *k <= MAX_EXPLAIN)
                        .ok_or_else(|| {
                            ArgError(format!(
                                "explain={value}: expected a whole number from 0 to {MAX_EXPLAIN}"
                            ))
                        })?;
                }
                "engine" => {
                    a.engine = match value.to_ascii_lowercase().as_str() {
                        "wasm" => EngineKind::Wasm,
                        "native" => EngineKind::Native,
                        _ => {
                            return Err(ArgError(format!(
                                "engine={value}: expected wasm or native"
                            )))
                        }
                    }
                }
                "allow_unsigned" => a.allow_unsigned = boolean("allow_unsigned", value)?,
                "fields" => {
                    a.model_fields_only = match value.to_ascii_lowercase().as_str() {
                        "model" => true,
                        "all" => false,
                        _ => {
                            return Err(ArgError(format!("fields={value}: expected all or model")))
                        }
                    }
                }
                "threads" => {
                    a.threads = value
                        .parse::<usize>()
                        .ok()
                        .filter(|n| (1..=MAX_THREADS).contains(n))
                        .ok_or_else(|| {
                            ArgError(format!(
                                "threads={value}: expected a whole number from 1 to {MAX_THREADS}"
                            ))
                        })?;
                }
                other => return Err(ArgError(format!("unknown option `{other}`; {USAGE}"))),
            }
        }
        a.model = model.ok_or_else(|| ArgError(format!("model= is required; {USAGE}")))?;
        check_model_name(&a.model)?;
        Ok(a)
    }
}

/// A model name is a file name in the models folder: letters, digits,
/// `_ - .`, not starting with a dot — never a path.
pub fn check_model_name(name: &str) -> Result<(), ArgError> {
    let ok = !name.is_empty()
        && name.len() <= 128
        && !name.starts_with('.')
        && !name.contains("..")
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'));
    if ok {
        Ok(())
    } else {
        Err(ArgError(format!(
            "model={name}: a model is named by its file in the app's models folder \
             (letters, digits, _ - .), not by a path"
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Args, ArgError> {
        Args::parse(&args.iter().map(|s| s.to_string()).collect::<Vec<_>>())
    }

    #[test]
    fn every_option_parses() {
        let a = parse(&[
            "model=threat_rf",
            "threshold=0.7",
            "explain=3",
            "engine=native",
            "allow_unsigned=t",
            "fields=model",
            "threads=1",
        ])
        .unwrap();
        assert_eq!(a.model, "threat_rf");
        assert_eq!(a.threshold, Some(0.7));
        assert_eq!(a.explain, 3);
        assert_eq!(a.engine, EngineKind::Native);
        assert!(a.allow_unsigned && a.model_fields_only);
        assert_eq!(a.threads, 1);
        let d = parse(&["model=m"]).unwrap();
        assert_eq!(
            (d.engine, d.allow_unsigned, d.explain, d.threshold),
            (EngineKind::Wasm, false, 0, None)
        );
        assert_eq!(d.threads, 2);
    }

    #[test]
    fn bad_arguments_say_what_is_wrong() {
        for (args, needle) in [
            (&["threshold=0.5"][..], "model= is required"),
            (&["model=m", "threshold=1.5"], "threshold=1.5"),
            (&["model=m", "threshold=NaN"], "threshold=NaN"),
            (&["model=m", "explain=-1"], "explain=-1"),
            (&["model=m", "explain=99"], "explain=99"),
            (&["model=m", "engine=gpu"], "engine=gpu"),
            (&["model=m", "allow_unsigned=maybe"], "allow_unsigned=maybe"),
            (&["model=m", "threads=0"], "threads=0"),
            (&["model=m", "threads=3"], "threads=3"),
            (&["model=m", "colour=red"], "unknown option `colour`"),
            (&["model=m", "stray"], "unexpected argument `stray`"),
            (&["model=../../etc/passwd"], "not by a path"),
            (&["model=/etc/passwd"], "not by a path"),
            (&["model=.hidden"], "not by a path"),
            (&["model=a b"], "not by a path"),
            (&["model="], "not by a path"),
        ] {
            let e = parse(args).unwrap_err();
            assert!(e.0.contains(needle), "{args:?}: {e}");
        }
    }
}
