//! The service's optional bearer token: read from `--token-file` (never from
//! the command line, never logged) and checked in constant time.
//!
//! Only the token's SHA-256 is kept. A presented token is hashed and the two
//! digests are compared with a fold over all 32 bytes, so the time taken
//! depends neither on where the first differing byte is nor on the token's
//! length.

use std::path::Path;

use anyhow::{bail, Context, Result};
use sha2::{Digest, Sha256};

/// The token every protected route requires, or none (open service).
#[derive(Clone, Default)]
pub struct Token {
    digest: Option<[u8; 32]>,
}

impl std::fmt::Debug for Token {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.digest.is_some() {
            "Token(<redacted>)"
        } else {
            "Token(none)"
        })
    }
}

impl Token {
    /// The token in `file` (surrounding whitespace trimmed), or none without a file.
    pub fn load(file: Option<&Path>) -> Result<Token> {
        let Some(path) = file else {
            return Ok(Token::default());
        };
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read token file {}", path.display()))?;
        let token = text.trim();
        if token.is_empty() {
            bail!("token file {} is empty", path.display());
        }
        if token.chars().any(|c| c.is_whitespace() || c.is_control()) {
            bail!(
                "token file {}: the token must be one word (no spaces or control characters)",
                path.display()
            );
        }
        Ok(Token::from_secret(token))
    }

    /// A token from its text (tests).
    pub fn from_secret(token: &str) -> Token {
        Token {
            digest: Some(Sha256::digest(token.as_bytes()).into()),
        }
    }

    /// Whether a token is required.
    pub fn is_set(&self) -> bool {
        self.digest.is_some()
    }

    /// Whether a request with this `Authorization` header value may pass:
    /// always when no token is set, else only with `Bearer <token>`.
    pub fn allows(&self, authorization: Option<&[u8]>) -> bool {
        let Some(expected) = &self.digest else {
            return true;
        };
        let Some(presented) = authorization.and_then(bearer) else {
            return false;
        };
        let got: [u8; 32] = Sha256::digest(presented).into();
        got.iter()
            .zip(expected.iter())
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0
    }
}

/// The credentials of a `Bearer` authorization header (scheme case-insensitive).
fn bearer(header: &[u8]) -> Option<&[u8]> {
    let (scheme, rest) = header.split_at(header.iter().position(|&b| b == b' ')?);
    if !scheme.eq_ignore_ascii_case(b"bearer") {
        return None;
    }
    let token = rest.trim_ascii();
    (!token.is_empty()).then_some(token)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bearer_tokens_are_checked() {
        let t = Token::from_secret("s3cret");
        assert!(t.allows(Some(b"Bearer s3cret")));
        assert!(t.allows(Some(b"bearer  s3cret ")));
        assert!(!t.allows(Some(b"Bearer s3cre")));
        assert!(!t.allows(Some(b"Bearer s3cret2")));
        assert!(!t.allows(Some(b"Basic s3cret")));
        assert!(!t.allows(Some(b"Bearer")));
        assert!(!t.allows(None));
        assert!(Token::default().allows(None));
        assert_eq!(format!("{t:?}"), "Token(<redacted>)");
    }

    #[test]
    fn token_files_are_trimmed_and_checked() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("t");
        std::fs::write(&p, "abc\n").unwrap();
        assert!(Token::load(Some(&p)).unwrap().allows(Some(b"Bearer abc")));
        std::fs::write(&p, "\n").unwrap();
        assert!(Token::load(Some(&p)).is_err());
        std::fs::write(&p, "a b").unwrap();
        assert!(Token::load(Some(&p)).is_err());
        assert!(!Token::load(None).unwrap().is_set());
    }
}
