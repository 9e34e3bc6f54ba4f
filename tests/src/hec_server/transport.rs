//! The HEC test server's transport: plain TCP or TLS (rustls, ring provider)
//! with a throwaway self-signed certificate made by rcgen.

use std::io::{self, Read, Write};
use std::net::{Shutdown, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use rustls::{ServerConfig, ServerConnection, StreamOwned};

/// How often a blocked read or write wakes up to check for shutdown.
const POLL: Duration = Duration::from_millis(50);

/// A rustls server configuration and the PEM of its self-signed certificate.
pub(super) struct Identity {
    pub config: Arc<ServerConfig>,
    pub cert_pem: String,
}

/// A fresh self-signed certificate for `127.0.0.1` and `localhost`.
pub(super) fn self_signed() -> io::Result<Identity> {
    let other = |e: &dyn std::fmt::Display| io::Error::other(format!("test TLS identity: {e}"));
    let ck = rcgen::generate_simple_self_signed(vec!["127.0.0.1".into(), "localhost".into()])
        .map_err(|e| other(&e))?;
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(ck.signing_key.serialize_der()));
    let cert = CertificateDer::from(ck.cert.der().to_vec());
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| other(&e))?
        .with_no_client_auth()
        .with_single_cert(vec![cert], key)
        .map_err(|e| other(&e))?;
    Ok(Identity {
        config: Arc::new(config),
        cert_pem: ck.cert.pem(),
    })
}

/// When a connection must end: the whole server shuts down, or the listener
/// that accepted it is closed by a restart.
#[derive(Clone)]
pub(super) struct Stop {
    server: Arc<AtomicBool>,
    listener: Arc<AtomicBool>,
}

impl Stop {
    /// A flag for a new listener of the server whose shutdown flag is `server`.
    pub fn new(server: Arc<AtomicBool>) -> Self {
        Self {
            server,
            listener: Arc::new(AtomicBool::new(false)),
        }
    }

    /// Ends this listener and its connections (not the server).
    pub fn close_listener(&self) {
        self.listener.store(true, Ordering::SeqCst);
    }

    /// Whether the server or this listener has stopped.
    pub fn is_set(&self) -> bool {
        self.server.load(Ordering::SeqCst) || self.listener.load(Ordering::SeqCst)
    }
}

/// A TCP stream whose reads and writes block until data moves or the server
/// (or its listener) stops (they poll the [`Stop`] flags every [`POLL`]), so
/// connection threads never outlive the server handle or a restart.
pub(super) struct PatientStream {
    tcp: TcpStream,
    stop: Stop,
}

impl PatientStream {
    pub fn new(tcp: TcpStream, stop: Stop) -> io::Result<Self> {
        tcp.set_read_timeout(Some(POLL))?;
        tcp.set_write_timeout(Some(POLL))?;
        tcp.set_nodelay(true)?;
        Ok(Self { tcp, stop })
    }

    fn retry<T>(&mut self, mut op: impl FnMut(&mut TcpStream) -> io::Result<T>) -> io::Result<T> {
        loop {
            match op(&mut self.tcp) {
                Err(e)
                    if matches!(
                        e.kind(),
                        io::ErrorKind::WouldBlock
                            | io::ErrorKind::TimedOut
                            | io::ErrorKind::Interrupted
                    ) =>
                {
                    if self.stop.is_set() {
                        return Err(io::Error::new(
                            io::ErrorKind::ConnectionAborted,
                            "HEC test server shutting down",
                        ));
                    }
                }
                r => return r,
            }
        }
    }
}

impl Read for PatientStream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.retry(|t| t.read(buf))
    }
}

impl Write for PatientStream {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.retry(|t| t.write(buf))
    }
    fn flush(&mut self) -> io::Result<()> {
        self.retry(|t| t.flush())
    }
}

/// One accepted connection, plain or TLS.
pub(super) enum Stream {
    Plain(PatientStream),
    Tls(Box<StreamOwned<ServerConnection, PatientStream>>),
}

impl Stream {
    pub fn new(tcp: PatientStream, tls: Option<&Arc<ServerConfig>>) -> io::Result<Self> {
        Ok(match tls {
            None => Stream::Plain(tcp),
            Some(cfg) => {
                let conn = ServerConnection::new(cfg.clone()).map_err(io::Error::other)?;
                Stream::Tls(Box::new(StreamOwned::new(conn, tcp)))
            }
        })
    }

    /// Ends the connection politely (TLS `close_notify`, then FIN).
    pub fn close(&mut self) {
        if let Stream::Tls(s) = self {
            s.conn.send_close_notify();
            let _ = s.conn.complete_io(&mut s.sock);
        }
        let _ = self.tcp().shutdown(Shutdown::Both);
    }

    /// Ends the connection without a word: no TLS alert, just FIN/RST.
    pub fn abort(&mut self) {
        let _ = self.tcp().shutdown(Shutdown::Both);
    }

    /// Resets the connection: `SO_LINGER` 0, so closing the socket (when
    /// `self` is dropped) sends an RST instead of a FIN, discarding unread
    /// and unsent data. No TLS alert either.
    pub fn reset(self) {
        let _ = socket2::SockRef::from(self.tcp()).set_linger(Some(Duration::ZERO));
    }

    fn tcp(&self) -> &TcpStream {
        match self {
            Stream::Plain(s) => &s.tcp,
            Stream::Tls(s) => &s.sock.tcp,
        }
    }
}

impl Read for Stream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Stream::Plain(s) => s.read(buf),
            Stream::Tls(s) => s.read(buf),
        }
    }
}

impl Write for Stream {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Stream::Plain(s) => s.write(buf),
            Stream::Tls(s) => s.write(buf),
        }
    }
    fn flush(&mut self) -> io::Result<()> {
        match self {
            Stream::Plain(s) => s.flush(),
            Stream::Tls(s) => s.flush(),
        }
    }
}
