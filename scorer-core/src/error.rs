//! The one error type of scorer-core.
//!
//! Messages are lowercase, have no trailing period, and put the context first
//! (`estimator.trees[3].left[7]: child 99 out of range`), so a Splunk admin
//! reading a search error or an adapter log can find the bad spot at once.

use std::fmt;

/// Everything that can go wrong in scorer-core. Scoring itself never fails:
/// all checks happen when an artifact is loaded or a model is fitted.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The artifact is not JSON, or does not have the shape of an artifact.
    #[error("artifact is malformed at {path}: {message}")]
    Parse {
        /// JSON path of the offending value (`.` for the document root).
        path: String,
        /// What serde said.
        message: String,
    },
    /// The artifact is not a riskscore model, or is of a format revision this build cannot read.
    #[error("{0}")]
    Format(String),
    /// The artifact parsed but breaks a rule (index out of range, NaN threshold, width mismatch, over a limit).
    #[error("artifact is invalid at {path}: {message}")]
    Invalid {
        /// Where in the artifact.
        path: String,
        /// What is wrong, with the offending value.
        message: String,
    },
    /// The artifact carries no signature and the caller did not allow unsigned artifacts.
    #[error("artifact is unsigned: refusing it (allow unsigned artifacts for development only)")]
    Unsigned,
    /// The content changed after it was signed: the digest does not match.
    #[error(
        "artifact is tampered: content sha256 {actual} does not match the signed digest {expected}"
    )]
    Tampered {
        /// Digest recorded in the artifact.
        expected: String,
        /// Digest of the content as loaded.
        actual: String,
    },
    /// The digest matches but the signature does not verify.
    #[error(
        "artifact signature is invalid for key {key_id}: the artifact or its signature was altered"
    )]
    BadSignature {
        /// Key id named by the artifact.
        key_id: String,
    },
    /// The signature verifies but the key is not trusted by the caller.
    #[error("artifact is signed by key {key_id}, which is not among the trusted keys")]
    UntrustedKey {
        /// Key id named by the artifact.
        key_id: String,
    },
    /// The artifact's approval status forbids production use.
    #[error("artifact approval status is `{status}`: only `approved` artifacts are accepted in production")]
    NotApproved {
        /// The status found.
        status: String,
    },
    /// A key file or key string could not be read.
    #[error("key is malformed: {0}")]
    Key(String),
    /// Training failed (bad table, bad parameters, estimator failure).
    #[error("training failed: {0}")]
    Train(String),
}

impl Error {
    pub(crate) fn invalid(path: impl fmt::Display, message: impl fmt::Display) -> Self {
        Error::Invalid {
            path: path.to_string(),
            message: message.to_string(),
        }
    }

    /// True when the error is about integrity (unsigned, tampered, bad or untrusted signature).
    pub fn is_integrity(&self) -> bool {
        matches!(
            self,
            Error::Unsigned
                | Error::Tampered { .. }
                | Error::BadSignature { .. }
                | Error::UntrustedKey { .. }
        )
    }
}

/// Result alias for scorer-core.
pub type Result<T, E = Error> = std::result::Result<T, E>;
