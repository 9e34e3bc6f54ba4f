//! Integrity of an artifact: a SHA-256 digest of its canonical content and an
//! Ed25519 signature over that digest.
//!
//! **Canonical content** is the artifact's JSON without its top-level
//! `integrity` member, written compactly with object keys sorted by their
//! UTF-8 bytes, strings escaped as serde_json does, and numbers normalised
//! (an integral float below 2^53 is written as an integer, so `1.0` and `1`
//! hash alike; other floats in shortest round-trip form). Whitespace and key
//! order of the file therefore do not matter; any change of a value does.
//!
//! **Signature**: Ed25519 over `"riskscore-artifact-v1\n"` followed by the 32
//! digest bytes. The key id is the first 8 bytes of SHA-256(public key), in hex.
//! A valid signature proves integrity only if the key is trusted: hosts pass
//! their trusted public keys, and production refuses any other.

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::{Error, Result};

const DOMAIN: &[u8] = b"riskscore-artifact-v1\n";
const SECRET_TYPE: &str = "riskscore-ed25519-secret-key";
const PUBLIC_TYPE: &str = "riskscore-ed25519-public-key";

/// The `integrity` member of an artifact.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Integrity {
    /// Hex SHA-256 of the canonical content.
    pub sha256: String,
    /// Signature algorithm (`ed25519`) when signed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub algorithm: Option<String>,
    /// Key id of the signer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_id: Option<String>,
    /// Signer's public key, base64 (informative: trust comes from the host's key set).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub public_key: Option<String>,
    /// Base64 Ed25519 signature.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signature: Option<String>,
}

/// What verification established.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum SignatureStatus {
    /// Signed by a trusted key, digest intact.
    Verified {
        /// The signer's key id.
        key_id: String,
    },
    /// Signature valid, but the key is not among the trusted ones (allowed for development).
    UntrustedKey {
        /// The signer's key id.
        key_id: String,
    },
    /// No signature (allowed for development); `digest_checked` when a digest was present and matched.
    Unsigned {
        /// A recorded digest matched the content.
        digest_checked: bool,
    },
}

impl SignatureStatus {
    /// True only for a trusted, valid signature.
    pub fn is_verified(&self) -> bool {
        matches!(self, SignatureStatus::Verified { .. })
    }
}

fn write_canonical(v: &serde_json::Value, out: &mut Vec<u8>) {
    use serde_json::Value;
    match v {
        Value::Object(map) => write_object(map, None, out),
        Value::Array(items) => {
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_canonical(item, out);
            }
            out.push(b']');
        }
        Value::Number(n) => {
            // Writing into a Vec cannot fail.
            let _ = match (n.as_u64(), n.as_i64(), n.as_f64()) {
                (Some(u), _, _) => serde_json::to_writer(&mut *out, &u),
                (None, Some(i), _) => serde_json::to_writer(&mut *out, &i),
                (None, None, Some(f)) if f.fract() == 0.0 && f.abs() < 9_007_199_254_740_992.0 => {
                    serde_json::to_writer(&mut *out, &(f as i64))
                }
                _ => serde_json::to_writer(&mut *out, n),
            };
        }
        other => {
            let _ = serde_json::to_writer(&mut *out, other);
        }
    }
}

/// An object with sorted keys, `skip` left out.
fn write_object(
    map: &serde_json::Map<String, serde_json::Value>,
    skip: Option<&str>,
    out: &mut Vec<u8>,
) {
    let mut keys: Vec<&String> = map.keys().filter(|k| Some(k.as_str()) != skip).collect();
    keys.sort();
    out.push(b'{');
    for (i, k) in keys.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        let _ = serde_json::to_writer(&mut *out, k);
        out.push(b':');
        write_canonical(&map[*k], out);
    }
    out.push(b'}');
}

/// Canonical bytes of an artifact document (its `integrity` member left out).
pub fn canonical_bytes(doc: &serde_json::Value) -> Vec<u8> {
    let mut out = Vec::with_capacity(1 << 16);
    match doc {
        serde_json::Value::Object(map) => write_object(map, Some("integrity"), &mut out),
        other => write_canonical(other, &mut out),
    }
    out
}

/// Hex SHA-256 of the canonical content.
pub fn content_digest(doc: &serde_json::Value) -> String {
    hex(&Sha256::digest(canonical_bytes(doc)))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
        .collect()
}

/// Key id of a public key: hex of the first 8 bytes of its SHA-256.
pub fn key_id(key: &VerifyingKey) -> String {
    hex(&Sha256::digest(key.as_bytes())[..8])
}

fn message(digest: &[u8]) -> Vec<u8> {
    [DOMAIN, digest].concat()
}

/// Record the digest (and, given a key, the signature) in `doc["integrity"]`.
pub fn seal(doc: &mut serde_json::Value, key: Option<&SigningKey>) -> Result<()> {
    let digest = content_digest(doc);
    let mut integrity = Integrity {
        sha256: digest.clone(),
        algorithm: None,
        key_id: None,
        public_key: None,
        signature: None,
    };
    if let Some(key) = key {
        let raw = unhex(&digest).unwrap_or_default();
        let sig = key.sign(&message(&raw));
        let public = key.verifying_key();
        integrity.algorithm = Some("ed25519".into());
        integrity.key_id = Some(key_id(&public));
        integrity.public_key = Some(B64.encode(public.as_bytes()));
        integrity.signature = Some(B64.encode(sig.to_bytes()));
    }
    let obj = doc
        .as_object_mut()
        .ok_or_else(|| Error::Format("artifact is not a JSON object".into()))?;
    obj.insert(
        "integrity".into(),
        serde_json::to_value(&integrity).map_err(|e| Error::Format(e.to_string()))?,
    );
    Ok(())
}

/// Check `doc`'s integrity against the trusted keys.
///
/// Always an error: a digest that does not match (tampered), a signature that
/// does not verify, or a malformed integrity member. An error unless
/// `allow_unsigned`: no signature, or a signature by an untrusted key.
pub fn verify(
    doc: &serde_json::Value,
    trusted: &[VerifyingKey],
    allow_unsigned: bool,
) -> Result<SignatureStatus> {
    let Some(raw) = doc.get("integrity") else {
        return if allow_unsigned {
            Ok(SignatureStatus::Unsigned {
                digest_checked: false,
            })
        } else {
            Err(Error::Unsigned)
        };
    };
    let integrity: Integrity = serde_json::from_value(raw.clone()).map_err(|e| Error::Parse {
        path: "integrity".into(),
        message: e.to_string(),
    })?;
    let actual = content_digest(doc);
    if !integrity.sha256.eq_ignore_ascii_case(&actual) {
        return Err(Error::Tampered {
            expected: integrity.sha256,
            actual,
        });
    }
    let Some(sig_b64) = integrity.signature else {
        return if allow_unsigned {
            Ok(SignatureStatus::Unsigned {
                digest_checked: true,
            })
        } else {
            Err(Error::Unsigned)
        };
    };
    let key_id_named = integrity.key_id.unwrap_or_default();
    let bad = || Error::BadSignature {
        key_id: key_id_named.clone(),
    };
    if integrity
        .algorithm
        .as_deref()
        .is_some_and(|a| a != "ed25519")
    {
        return Err(bad());
    }
    let sig_bytes: [u8; 64] = B64
        .decode(sig_b64.trim())
        .ok()
        .and_then(|b| b.try_into().ok())
        .ok_or_else(bad)?;
    let sig = Signature::from_bytes(&sig_bytes);
    let msg = message(&unhex(&actual).unwrap_or_default());
    // A trusted key with the named id must verify it.
    if let Some(key) = trusted.iter().find(|k| key_id(k) == key_id_named) {
        return match key.verify_strict(&msg, &sig) {
            Ok(()) => Ok(SignatureStatus::Verified {
                key_id: key_id_named,
            }),
            Err(_) => Err(bad()),
        };
    }
    // Otherwise check it against the embedded key, to tell tampering from mere lack of trust.
    let embedded = integrity
        .public_key
        .as_deref()
        .and_then(|k| B64.decode(k.trim()).ok())
        .and_then(|b| <[u8; 32]>::try_from(b).ok())
        .and_then(|b| VerifyingKey::from_bytes(&b).ok())
        .ok_or_else(bad)?;
    if key_id(&embedded) != key_id_named || embedded.verify_strict(&msg, &sig).is_err() {
        return Err(bad());
    }
    if allow_unsigned {
        Ok(SignatureStatus::UntrustedKey {
            key_id: key_id_named,
        })
    } else {
        Err(Error::UntrustedKey {
            key_id: key_id_named,
        })
    }
}

/// A key file as written by `siem-adapter keygen`.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct KeyFile {
    #[serde(rename = "type")]
    kind: String,
    key_id: String,
    key: String,
    #[serde(default)]
    comment: String,
}

fn key_bytes(text: &str, want_type: &str) -> Result<[u8; 32]> {
    let text = text.trim();
    let b64 = if text.starts_with('{') {
        let f: KeyFile = serde_json::from_str(text).map_err(|e| Error::Key(e.to_string()))?;
        if f.kind != want_type {
            return Err(Error::Key(format!(
                "expected a key of type `{want_type}`, found `{}`",
                f.kind
            )));
        }
        f.key
    } else {
        text.to_string()
    };
    B64.decode(b64.trim())
        .ok()
        .and_then(|b| <[u8; 32]>::try_from(b).ok())
        .ok_or_else(|| Error::Key("expected 32 bytes of base64".into()))
}

/// Read a signing key: a key file's JSON, or the bare base64 seed (as an environment variable holds it).
pub fn parse_signing_key(text: &str) -> Result<SigningKey> {
    Ok(SigningKey::from_bytes(&key_bytes(text, SECRET_TYPE)?))
}

/// Read a public key: a key file's JSON or bare base64.
pub fn parse_public_key(text: &str) -> Result<VerifyingKey> {
    VerifyingKey::from_bytes(&key_bytes(text, PUBLIC_TYPE)?).map_err(|e| Error::Key(e.to_string()))
}

/// Key files for a new key pair made from 32 random bytes the caller supplies
/// (scorer-core has no randomness source): `(secret file, public file)`.
pub fn key_files(seed: [u8; 32], comment: &str) -> (String, String) {
    let sk = SigningKey::from_bytes(&seed);
    let pk = sk.verifying_key();
    let id = key_id(&pk);
    let secret = KeyFile {
        kind: SECRET_TYPE.into(),
        key_id: id.clone(),
        key: B64.encode(sk.to_bytes()),
        comment: comment.into(),
    };
    let public = KeyFile {
        kind: PUBLIC_TYPE.into(),
        key_id: id,
        key: B64.encode(pk.as_bytes()),
        comment: comment.into(),
    };
    (
        serde_json::to_string_pretty(&secret).unwrap_or_default() + "\n",
        serde_json::to_string_pretty(&public).unwrap_or_default() + "\n",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc() -> serde_json::Value {
        serde_json::json!({"b": [1.0, 2.5, "x"], "a": {"z": null, "y": true}, "format_version": 1})
    }

    #[test]
    fn canonical_form_ignores_order_whitespace_and_integral_floats() {
        let a = canonical_bytes(&doc());
        let b: serde_json::Value = serde_json::from_str(
            r#"{ "format_version": 1.0, "a": {"y": true, "z": null}, "b": [1, 2.5, "x"] }"#,
        )
        .unwrap();
        assert_eq!(a, canonical_bytes(&b));
        assert_eq!(
            String::from_utf8(a).unwrap(),
            r#"{"a":{"y":true,"z":null},"b":[1,2.5,"x"],"format_version":1}"#
        );
    }

    #[test]
    fn sign_verify_tamper_and_trust() {
        let (secret, public) = key_files([7u8; 32], "test");
        let sk = parse_signing_key(&secret).unwrap();
        let pk = parse_public_key(&public).unwrap();
        let mut d = doc();
        seal(&mut d, Some(&sk)).unwrap();
        assert!(verify(&d, &[pk], false).unwrap().is_verified());
        // Untrusted key: refused in production, reported in development.
        assert!(matches!(
            verify(&d, &[], false),
            Err(Error::UntrustedKey { .. })
        ));
        assert!(matches!(
            verify(&d, &[], true),
            Ok(SignatureStatus::UntrustedKey { .. })
        ));
        // Any change of content is tampering, even when unsigned artifacts are allowed.
        let mut t = d.clone();
        t["b"][1] = serde_json::json!(2.6);
        assert!(matches!(
            verify(&t, &[pk], true),
            Err(Error::Tampered { .. })
        ));
        // A re-computed digest without a new signature fails the signature.
        let mut t2 = t.clone();
        t2["integrity"]["sha256"] = serde_json::json!(content_digest(&t));
        assert!(matches!(
            verify(&t2, &[pk], true),
            Err(Error::BadSignature { .. })
        ));
        // Unsigned.
        let plain = doc();
        assert!(matches!(verify(&plain, &[pk], false), Err(Error::Unsigned)));
        let mut sealed = doc();
        seal(&mut sealed, None).unwrap();
        assert_eq!(
            verify(&sealed, &[], true).unwrap(),
            SignatureStatus::Unsigned {
                digest_checked: true
            }
        );
    }

    #[test]
    fn keys_from_env_style_base64() {
        let (secret, _) = key_files([9u8; 32], "");
        let f: serde_json::Value = serde_json::from_str(&secret).unwrap();
        let bare = f["key"].as_str().unwrap();
        assert_eq!(parse_signing_key(bare).unwrap().to_bytes(), [9u8; 32]);
        assert!(parse_public_key(&secret)
            .unwrap_err()
            .to_string()
            .contains("expected a key of type"));
        assert!(parse_signing_key("not base64!").is_err());
    }
}
