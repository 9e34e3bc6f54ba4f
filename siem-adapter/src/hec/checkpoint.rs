//! The resume file of a HEC run.
//!
//! Events are numbered in input order (every event that goes out counts,
//! unreadable lines included). The checkpoint holds the number of events
//! settled (delivered, or written to the dead-letter file) as one prefix,
//! plus the requests sent but not yet acknowledged (their channel, ack id and
//! event range). It is replaced atomically (write, fsync, rename) after every
//! change, and tied to its input (path, size, SHA-256 of the first MiB) so it
//! cannot be applied to another file by mistake.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use serde::{Deserialize, Serialize};
use sha2::Digest;

/// Which input a checkpoint belongs to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InputId {
    /// Path as given.
    pub path: String,
    /// Size in bytes.
    pub bytes: u64,
    /// SHA-256 (hex) of the first MiB.
    pub head_sha256: String,
}

impl InputId {
    /// Identify the file at `path`.
    pub fn of(path: &Path) -> Result<InputId> {
        if path.as_os_str() == "-" {
            bail!("--checkpoint needs --input FILE: standard input cannot be read again");
        }
        let mut f =
            std::fs::File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
        let bytes = f.metadata()?.len();
        let mut head = Vec::with_capacity(1 << 20);
        Read::by_ref(&mut f).take(1 << 20).read_to_end(&mut head)?;
        Ok(InputId {
            path: path.display().to_string(),
            bytes,
            head_sha256: hex(&sha2::Sha256::digest(&head)),
        })
    }
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// A request sent and awaiting its ack.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pending {
    /// First event.
    pub first: u64,
    /// One past the last event.
    pub end: u64,
    /// Channel it was sent on.
    pub channel: String,
    /// Its ack id.
    pub ack_id: u64,
    /// Acknowledged (but an earlier request is not yet).
    pub acked: bool,
}

/// The resume state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Checkpoint {
    /// Format version (1).
    pub version: u32,
    /// The input.
    pub input: InputId,
    /// Model id (`name@version`) the events were scored with.
    pub model: String,
    /// Events 0..settled are delivered or dead-lettered.
    pub settled: u64,
    /// Sent, awaiting acks.
    #[serde(default)]
    pub pending: Vec<Pending>,
    /// The run reached the end of its input and delivered everything.
    #[serde(default)]
    pub complete: bool,
}

impl Checkpoint {
    /// A new checkpoint for `input`.
    pub fn new(input: InputId, model: &str) -> Self {
        Checkpoint {
            version: 1,
            input,
            model: model.to_string(),
            settled: 0,
            pending: Vec::new(),
            complete: false,
        }
    }

    /// The checkpoint at `path` if it exists; refused if it belongs to another input.
    pub fn load(path: &Path, input: &InputId) -> Result<Option<Checkpoint>> {
        let text = match std::fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(e).context(format!("cannot read checkpoint {}", path.display())),
        };
        let cp: Checkpoint = serde_json::from_str(&text)
            .with_context(|| format!("checkpoint {} is not readable", path.display()))?;
        if cp.version != 1 {
            bail!(
                "checkpoint {} has version {}, this adapter reads 1",
                path.display(),
                cp.version
            );
        }
        if cp.input.bytes != input.bytes || cp.input.head_sha256 != input.head_sha256 {
            bail!(
                "checkpoint {} belongs to another input ({}, {} bytes); delete it to start over",
                path.display(),
                cp.input.path,
                cp.input.bytes
            );
        }
        Ok(Some(cp))
    }

    /// Replace the file at `path` atomically.
    pub fn save(&self, path: &Path) -> Result<()> {
        let tmp: PathBuf = path.with_extension("tmp");
        let mut opts = std::fs::OpenOptions::new();
        opts.write(true).create(true).truncate(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            opts.mode(0o600);
        }
        let mut f = opts
            .open(&tmp)
            .with_context(|| format!("cannot write checkpoint {}", tmp.display()))?;
        f.write_all(&serde_json::to_vec_pretty(self)?)?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
            .with_context(|| format!("cannot write checkpoint {}", path.display()))?;
        Ok(())
    }

    /// Whether event `n` needs no sending.
    pub fn is_done(&self, n: u64) -> bool {
        n < self.settled
            || self
                .pending
                .iter()
                .any(|p| p.acked && p.first <= n && n < p.end)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_input_binding() {
        let dir = tempfile::tempdir().unwrap();
        let input = dir.path().join("in.jsonl");
        std::fs::write(&input, "{\"a\":1}\n").unwrap();
        let id = InputId::of(&input).unwrap();
        let mut cp = Checkpoint::new(id.clone(), "m@1");
        cp.settled = 5;
        cp.pending.push(Pending {
            first: 7,
            end: 9,
            channel: "c".into(),
            ack_id: 3,
            acked: true,
        });
        let path = dir.path().join("cp.json");
        cp.save(&path).unwrap();
        let back = Checkpoint::load(&path, &id).unwrap().unwrap();
        assert_eq!(back, cp);
        assert!(back.is_done(4) && !back.is_done(5) && back.is_done(8) && !back.is_done(9));
        std::fs::write(&input, "{\"a\":2}\n").unwrap();
        let other = InputId::of(&input).unwrap();
        assert!(Checkpoint::load(&path, &other).is_err());
        assert!(InputId::of(Path::new("-")).is_err());
    }
}
