//! Just enough HTTP/1.1 for the HEC test server: a request head, a body
//! framed by `Content-Length` or `Transfer-Encoding: chunked`, and a response
//! with a JSON body. No pipelining beyond what a buffered reader gives for
//! free, no multipart, no trailers kept.

use std::io::{self, BufRead, Read, Write};

/// The longest request line or header line accepted, in bytes.
const MAX_LINE: u64 = 16 * 1024;
/// The most header lines accepted in one request.
const MAX_HEADERS: usize = 100;

/// A parsed request head. Header names are lowercased.
#[derive(Debug)]
pub(super) struct Request {
    pub method: String,
    /// The path without the query string.
    pub path: String,
    query: Vec<(String, String)>,
    http_1_0: bool,
    headers: Vec<(String, String)>,
}

impl Request {
    /// The first header named `name` (lowercase), trimmed.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// The first query parameter named `name`, percent-decoded.
    pub fn query(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// Whether the client asked for the connection to end after this
    /// request (`Connection: close`, or HTTP/1.0 without keep-alive).
    pub fn wants_close(&self) -> bool {
        let tokens = self.header("connection").unwrap_or("").to_ascii_lowercase();
        let has = |t: &str| tokens.split(',').any(|x| x.trim() == t);
        has("close") || (self.http_1_0 && !has("keep-alive"))
    }

    /// Whether the client waits for `100 Continue` before sending the body.
    pub fn expects_continue(&self) -> bool {
        self.header("expect")
            .is_some_and(|v| v.eq_ignore_ascii_case("100-continue"))
    }

    /// Whether the body is gzip-compressed (`Content-Encoding: gzip`).
    pub fn is_gzip(&self) -> bool {
        self.header("content-encoding")
            .is_some_and(|v| v.trim().eq_ignore_ascii_case("gzip"))
    }

    /// Whether the body uses chunked transfer encoding.
    pub fn is_chunked(&self) -> bool {
        self.header("transfer-encoding")
            .is_some_and(|v| v.to_ascii_lowercase().contains("chunked"))
    }
}

fn invalid(msg: impl Into<String>) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, msg.into())
}

/// Reads one line ending in `\n`, without the line ending. `Ok(None)` at a
/// clean end of stream.
fn read_line<R: BufRead>(r: &mut R) -> io::Result<Option<String>> {
    let mut buf = Vec::new();
    let n = r.by_ref().take(MAX_LINE).read_until(b'\n', &mut buf)?;
    if n == 0 {
        return Ok(None);
    }
    if buf.last() != Some(&b'\n') {
        return Err(if n as u64 >= MAX_LINE {
            invalid("line too long")
        } else {
            io::Error::new(io::ErrorKind::UnexpectedEof, "connection closed mid-line")
        });
    }
    buf.pop();
    if buf.last() == Some(&b'\r') {
        buf.pop();
    }
    String::from_utf8(buf)
        .map(Some)
        .map_err(|_| invalid("line is not UTF-8"))
}

/// Reads a request head. `Ok(None)` when the client closed the connection
/// between requests; `InvalidData` errors for malformed heads.
pub(super) fn read_head<R: BufRead>(r: &mut R) -> io::Result<Option<Request>> {
    // Tolerate stray empty lines before a request line (RFC 9112 §2.2).
    let line = loop {
        match read_line(r)? {
            None => return Ok(None),
            Some(l) if l.is_empty() => continue,
            Some(l) => break l,
        }
    };
    let mut parts = line.split(' ');
    let (Some(method), Some(target), Some(version), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(invalid(format!("bad request line {line:?}")));
    };
    let http_1_0 = match version {
        "HTTP/1.1" => false,
        "HTTP/1.0" => true,
        v => return Err(invalid(format!("unsupported version {v:?}"))),
    };
    let (path, query) = match target.split_once('?') {
        Some((p, q)) => (p, parse_query(q)),
        None => (target, Vec::new()),
    };
    let mut headers = Vec::new();
    loop {
        let line = read_line(r)?
            .ok_or_else(|| io::Error::new(io::ErrorKind::UnexpectedEof, "closed in headers"))?;
        if line.is_empty() {
            break;
        }
        if headers.len() == MAX_HEADERS {
            return Err(invalid("too many headers"));
        }
        let (name, value) = line
            .split_once(':')
            .ok_or_else(|| invalid(format!("bad header line {line:?}")))?;
        headers.push((name.trim().to_ascii_lowercase(), value.trim().to_string()));
    }
    Ok(Some(Request {
        method: method.to_string(),
        path: path.to_string(),
        query,
        http_1_0,
        headers,
    }))
}

fn parse_query(q: &str) -> Vec<(String, String)> {
    q.split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (percent_decode(k), percent_decode(v))
        })
        .collect()
}

fn hex(c: u8) -> Option<u8> {
    (c as char).to_digit(16).map(|d| d as u8)
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < b.len() => match (hex(b[i + 1]), hex(b[i + 2])) {
                (Some(h), Some(l)) => {
                    out.push(h << 4 | l);
                    i += 2;
                }
                _ => out.push(b'%'),
            },
            c => out.push(c),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Why a body could not be read.
#[derive(Debug)]
pub(super) enum BodyError {
    /// Longer than the limit; the connection must be closed.
    TooLarge,
    /// Bad framing (`InvalidData`) or a transport error.
    Io(io::Error),
}

impl From<io::Error> for BodyError {
    fn from(e: io::Error) -> Self {
        BodyError::Io(e)
    }
}

/// Reads the request body as framed by its headers, at most `max` bytes.
pub(super) fn read_body<R: BufRead>(
    r: &mut R,
    req: &Request,
    max: usize,
) -> Result<Vec<u8>, BodyError> {
    if req.is_chunked() {
        return read_chunked(r, max);
    }
    let Some(len) = req.header("content-length") else {
        return Ok(Vec::new());
    };
    let len: usize = len
        .parse()
        .map_err(|_| invalid(format!("bad Content-Length {len:?}")))?;
    if len > max {
        return Err(BodyError::TooLarge);
    }
    let mut body = Vec::with_capacity(len.min(1 << 20));
    r.by_ref().take(len as u64).read_to_end(&mut body)?;
    if body.len() < len {
        return Err(io::Error::new(io::ErrorKind::UnexpectedEof, "body cut short").into());
    }
    Ok(body)
}

fn read_chunked<R: BufRead>(r: &mut R, max: usize) -> Result<Vec<u8>, BodyError> {
    let mut body = Vec::new();
    loop {
        let line = read_line(r)?
            .ok_or_else(|| io::Error::new(io::ErrorKind::UnexpectedEof, "closed in chunk"))?;
        let size = line.split(';').next().unwrap_or("").trim();
        let size = usize::from_str_radix(size, 16)
            .map_err(|_| invalid(format!("bad chunk size {line:?}")))?;
        if size == 0 {
            // Trailer fields, then an empty line.
            while read_line(r)?.is_some_and(|l| !l.is_empty()) {}
            return Ok(body);
        }
        if body.len().saturating_add(size) > max {
            return Err(BodyError::TooLarge);
        }
        let start = body.len();
        r.by_ref().take(size as u64).read_to_end(&mut body)?;
        if body.len() - start < size {
            return Err(io::Error::new(io::ErrorKind::UnexpectedEof, "chunk cut short").into());
        }
        if read_line(r)?.is_none_or(|l| !l.is_empty()) {
            return Err(invalid("chunk not followed by CRLF").into());
        }
    }
}

fn reason(status: u16) -> &'static str {
    match status {
        100 => "Continue",
        200 => "OK",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        413 => "Payload Too Large",
        415 => "Unsupported Media Type",
        429 => "Too Many Requests",
        503 => "Service Unavailable",
        _ => "Unknown",
    }
}

/// Writes `100 Continue`.
pub(super) fn write_continue<W: Write>(w: &mut W) -> io::Result<()> {
    w.write_all(b"HTTP/1.1 100 Continue\r\n\r\n")?;
    w.flush()
}

/// Writes a complete response with a JSON body, in one write.
pub(super) fn write_response<W: Write>(
    w: &mut W,
    status: u16,
    body: &[u8],
    close: bool,
) -> io::Result<()> {
    let mut out = format!(
        "HTTP/1.1 {status} {}\r\nContent-Type: application/json; charset=UTF-8\r\n\
         Content-Length: {}\r\nConnection: {}\r\nServer: riskscore-hec-test-server\r\n\r\n",
        reason(status),
        body.len(),
        if close { "close" } else { "keep-alive" },
    )
    .into_bytes();
    out.extend_from_slice(body);
    w.write_all(&out)?;
    w.flush()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Cursor;

    #[test]
    fn parses_head_query_and_chunked_body() {
        let raw = b"POST /services/collector/event?channel=a%2Db&x HTTP/1.1\r\n\
                    Host: x\r\nTransfer-Encoding: chunked\r\n\r\n\
                    3\r\nabc\r\n2;ext=1\r\nde\r\n0\r\nTrailer: t\r\n\r\n";
        let mut r = Cursor::new(&raw[..]);
        let req = read_head(&mut r).unwrap().unwrap();
        assert_eq!(req.method, "POST");
        assert_eq!(req.path, "/services/collector/event");
        assert_eq!(req.query("channel"), Some("a-b"));
        assert_eq!(req.query("x"), Some(""));
        assert!(req.is_chunked() && !req.wants_close());
        assert_eq!(read_body(&mut r, &req, 100).unwrap(), b"abcde");
        assert!(read_head(&mut r).unwrap().is_none());
    }

    #[test]
    fn content_length_limit_and_close() {
        let raw = b"POST / HTTP/1.0\r\nContent-Length: 5\r\n\r\nhello";
        let mut r = Cursor::new(&raw[..]);
        let req = read_head(&mut r).unwrap().unwrap();
        assert!(req.wants_close());
        assert!(matches!(
            read_body(&mut r, &req, 4),
            Err(BodyError::TooLarge)
        ));
    }

    #[test]
    fn percent_decoding_keeps_bad_escapes() {
        assert_eq!(percent_decode("a%20b+c%zz%4"), "a b c%zz%4");
    }
}
