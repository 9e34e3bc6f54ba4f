//! Splunk's chunked search-command protocol, version 2: the framing.
//!
//! Every message either way is a chunk: a header line
//! `chunked 1.0,<metadata bytes>,<body bytes>\n`, then that many bytes of
//! JSON metadata, then that many bytes of body (CSV for records). splunkd
//! opens with a `getinfo` chunk; the command answers it with its type; then
//! splunkd sends `execute` chunks, each answered by exactly one chunk, until
//! it closes the pipe.
//!
//! The reader is strict about lengths (a short read is an error, never a
//! hang on a partial chunk it will never get) and lenient about blank lines
//! between chunks, which some recorders of the protocol add.

use std::io::{BufRead, Write};

use serde::Deserialize;

/// Largest metadata accepted (splunkd's getinfo is a few KB).
pub const MAX_METADATA: usize = 64 << 20;
/// Largest body accepted (splunkd sends at most `maxinputs` records, tens of MB).
pub const MAX_BODY: usize = 1 << 30;

/// What can go wrong reading the stream.
#[derive(Debug, thiserror::Error)]
pub enum ProtocolError {
    /// The pipe failed.
    #[error("reading from splunkd: {0}")]
    Io(#[from] std::io::Error),
    /// A header line that is not `chunked 1.0,<m>,<b>`.
    #[error("not a chunk header: {0:?}")]
    Header(String),
    /// A length past the limits.
    #[error("chunk too large: {what} of {len} bytes (limit {limit})")]
    TooLarge {
        /// Metadata or body.
        what: &'static str,
        /// Announced length.
        len: usize,
        /// The limit.
        limit: usize,
    },
    /// The stream ended inside a chunk.
    #[error("input ended inside a chunk: {what} announced {expected} bytes, got {got}")]
    Truncated {
        /// Metadata or body.
        what: &'static str,
        /// Announced length.
        expected: usize,
        /// Bytes read.
        got: usize,
    },
    /// Metadata that is not the JSON object expected.
    #[error("chunk metadata is not valid: {0}")]
    Metadata(#[from] serde_json::Error),
}

/// The metadata splunkd sends (fields this command uses; the rest is ignored).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Metadata {
    /// `getinfo` or `execute`.
    #[serde(default)]
    pub action: String,
    /// Last chunk of this search.
    #[serde(default)]
    pub finished: bool,
    /// Search facts (getinfo only).
    #[serde(default)]
    pub searchinfo: Option<SearchInfo>,
}

/// The `searchinfo` object of getinfo.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct SearchInfo {
    /// The command's arguments, unquoted (`["model=threat_rf", "explain=3"]`).
    #[serde(default)]
    pub args: Vec<String>,
    /// Search id.
    #[serde(default)]
    pub sid: String,
    /// The app context of the search.
    #[serde(default)]
    pub app: String,
    /// The user.
    #[serde(default)]
    pub username: String,
    /// The search's dispatch folder.
    #[serde(default)]
    pub dispatch_dir: String,
    /// Most records in one chunk.
    #[serde(default)]
    pub maxresultrows: Option<u64>,
}

/// Reads chunks from splunkd.
pub struct ChunkReader<R> {
    inner: R,
    line: Vec<u8>,
    meta: Vec<u8>,
}

impl<R: BufRead> ChunkReader<R> {
    /// A reader over `inner`.
    pub fn new(inner: R) -> Self {
        ChunkReader {
            inner,
            line: Vec::new(),
            meta: Vec::new(),
        }
    }

    /// The next chunk's metadata, its body read into `body` (replaced);
    /// `None` at a clean end of input (between chunks).
    pub fn next_chunk(&mut self, body: &mut Vec<u8>) -> Result<Option<Metadata>, ProtocolError> {
        let (m, b) = loop {
            self.line.clear();
            if self.inner.read_until(b'\n', &mut self.line)? == 0 {
                return Ok(None);
            }
            if self.line.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            break parse_header(&self.line)?;
        };
        if m > MAX_METADATA {
            return Err(ProtocolError::TooLarge {
                what: "metadata",
                len: m,
                limit: MAX_METADATA,
            });
        }
        if b > MAX_BODY {
            return Err(ProtocolError::TooLarge {
                what: "body",
                len: b,
                limit: MAX_BODY,
            });
        }
        read_exactly(&mut self.inner, &mut self.meta, m, "metadata")?;
        read_exactly(&mut self.inner, body, b, "body")?;
        let meta = if m == 0 {
            Metadata::default()
        } else {
            serde_json::from_slice(&self.meta)?
        };
        Ok(Some(meta))
    }
}

fn read_exactly(
    r: &mut impl BufRead,
    buf: &mut Vec<u8>,
    len: usize,
    what: &'static str,
) -> Result<(), ProtocolError> {
    buf.clear();
    crate::buffers::reserve(buf, len);
    let got = std::io::Read::take(&mut *r, len as u64).read_to_end(buf)?;
    if got < len {
        return Err(ProtocolError::Truncated {
            what,
            expected: len,
            got,
        });
    }
    Ok(())
}

use std::io::Read as _;

/// `chunked 1.0,<m>,<b>` with optional spaces, as splunklib's pattern allows.
fn parse_header(line: &[u8]) -> Result<(usize, usize), ProtocolError> {
    let bad = || ProtocolError::Header(String::from_utf8_lossy(line).chars().take(80).collect());
    let text = std::str::from_utf8(line).map_err(|_| bad())?.trim();
    let rest = text.strip_prefix("chunked").ok_or_else(bad)?;
    if !rest.starts_with(char::is_whitespace) {
        return Err(bad());
    }
    let mut parts = rest.trim_start().split(',');
    let (Some(version), Some(m), Some(b), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(bad());
    };
    if version.trim() != "1.0" {
        return Err(bad());
    }
    let num = |s: &str| {
        let s = s.trim();
        if s.is_empty() || !s.bytes().all(|c| c.is_ascii_digit()) {
            return Err(bad());
        }
        s.parse::<usize>().map_err(|_| bad())
    };
    Ok((num(m)?, num(b)?))
}

/// Write one chunk and flush it (splunkd waits for it).
pub fn write_chunk(out: &mut impl Write, metadata: &[u8], body: &[u8]) -> std::io::Result<()> {
    writeln!(out, "chunked 1.0,{},{}", metadata.len(), body.len())?;
    out.write_all(metadata)?;
    out.write_all(body)?;
    out.flush()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read_all(input: &[u8]) -> Result<Vec<(Metadata, Vec<u8>)>, ProtocolError> {
        let mut r = ChunkReader::new(input);
        let mut out = Vec::new();
        let mut body = Vec::new();
        while let Some(m) = r.next_chunk(&mut body)? {
            out.push((m, body.clone()));
        }
        Ok(out)
    }

    #[test]
    fn reads_chunks_back_to_back_and_with_blank_lines_between() {
        let mut s = Vec::new();
        write_chunk(&mut s, br#"{"action":"getinfo"}"#, b"").unwrap();
        s.extend_from_slice(b"\r\n");
        write_chunk(
            &mut s,
            br#"{"action":"execute","finished":true}"#,
            b"a,b\n1,2\n",
        )
        .unwrap();
        let chunks = read_all(&s).unwrap();
        assert_eq!(chunks.len(), 2);
        assert_eq!(chunks[0].0.action, "getinfo");
        assert!(chunks[1].0.finished);
        assert_eq!(chunks[1].1, b"a,b\n1,2\n");
    }

    #[test]
    fn headers_follow_splunklibs_pattern() {
        assert_eq!(parse_header(b"chunked 1.0,20,0\n").unwrap(), (20, 0));
        assert_eq!(parse_header(b"chunked  1.0 , 3 , 4 \r\n").unwrap(), (3, 4));
        for bad in [
            &b"chunked 2.0,1,1\n"[..],
            b"chunked1.0,1,1\n",
            b"chunked 1.0,1\n",
            b"chunked 1.0,-1,1\n",
            b"chunked 1.0,1,1,1\n",
            b"hello\n",
            b"chunked 1.0,99999999999999999999999,0\n",
        ] {
            assert!(
                parse_header(bad).is_err(),
                "{:?}",
                String::from_utf8_lossy(bad)
            );
        }
    }

    #[test]
    fn a_short_chunk_is_an_error_not_a_hang() {
        let s = b"chunked 1.0,2,10\n{}abc";
        match read_all(s) {
            Err(ProtocolError::Truncated {
                what: "body",
                expected: 10,
                got: 3,
            }) => {}
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            read_all(b"chunked 1.0,50,0\n{\"action\""),
            Err(ProtocolError::Truncated {
                what: "metadata",
                ..
            })
        ));
    }

    #[test]
    fn oversized_and_malformed_chunks_are_refused() {
        let huge = format!("chunked 1.0,0,{}\n", MAX_BODY + 1);
        assert!(matches!(
            read_all(huge.as_bytes()),
            Err(ProtocolError::TooLarge { what: "body", .. })
        ));
        assert!(matches!(
            read_all(b"chunked 1.0,3,0\nabc"),
            Err(ProtocolError::Metadata(_))
        ));
    }

    #[test]
    fn written_chunks_carry_exact_lengths() {
        let mut s = Vec::new();
        write_chunk(&mut s, "{\"é\":1}".as_bytes(), "ü\n".as_bytes()).unwrap();
        assert!(s.starts_with(b"chunked 1.0,8,3\n"));
    }
}
