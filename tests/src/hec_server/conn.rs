//! The HEC test server's threads: one accepting connections, one per
//! connection serving keep-alive requests in order.

use std::io::{self, BufRead, BufReader, Read};
use std::net::TcpListener;
use std::sync::Arc;
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use super::http::{self, BodyError};
use super::protocol::{self, Route};
use super::transport::{PatientStream, Stop, Stream};
use super::{faults, Shared};

/// Accepts connections until `stop` is set (server drop or restart; the one
/// waking it is not served), then closes the listener and waits for its
/// connections to end. `epoch` tags what those connections may store.
pub(super) fn accept_loop(
    listener: TcpListener,
    shared: Arc<Shared>,
    tls: Option<Arc<rustls::ServerConfig>>,
    stop: Stop,
    epoch: u64,
) {
    let mut workers: Vec<JoinHandle<()>> = Vec::new();
    for tcp in listener.incoming() {
        if stop.is_set() {
            break;
        }
        let Ok(tcp) = tcp else { continue };
        shared.lock().stats.connections += 1;
        workers.retain(|w| !w.is_finished());
        let (shared, tls, stop) = (shared.clone(), tls.clone(), stop.clone());
        let spawned = thread::Builder::new()
            .name("hec-test-conn".into())
            .spawn(move || {
                let tcp = PatientStream::new(tcp, stop.clone());
                if let Ok(stream) = tcp.and_then(|t| Stream::new(t, tls.as_ref())) {
                    serve_connection(&shared, stream, &stop, epoch);
                }
            });
        if let Ok(w) = spawned {
            workers.push(w);
        }
    }
    // Refuse new connections at once; the open ones notice `stop` within
    // one poll of their stream.
    drop(listener);
    for w in workers {
        let _ = w.join();
    }
}

/// Serves requests on one connection until the client closes it, asks for
/// `Connection: close`, a fault drops or resets it, or the server shuts down
/// or restarts.
fn serve_connection(shared: &Shared, stream: Stream, stop: &Stop, epoch: u64) {
    let mut conn = BufReader::new(stream);
    loop {
        let req = match http::read_head(&mut conn) {
            Ok(Some(req)) => req,
            Ok(None) => break,
            Err(e) if e.kind() == io::ErrorKind::InvalidData => {
                let body = protocol::text_body(&format!("Bad request: {e}"));
                count_response(shared, 400, None);
                let _ = http::write_response(conn.get_mut(), 400, &body, true);
                break;
            }
            Err(_) => break,
        };
        let route = protocol::route(&req.path);
        let is_event = route == Route::Event && req.method == "POST";
        {
            let mut state = shared.lock();
            state.stats.total += 1;
            if is_event {
                state.stats.event_posts += 1;
            }
            if route == Route::Ack {
                state.stats.ack_polls += 1;
            }
            shared.changed.notify_all();
        }
        if is_event && !stall(shared, stop) {
            break;
        }
        let max = shared.config.max_content_length;
        let too_big = req
            .header("content-length")
            .and_then(|v| v.parse::<usize>().ok())
            .is_some_and(|n| n > max);
        // A body that will be refused is not asked for.
        if req.expects_continue() && !too_big && http::write_continue(conn.get_mut()).is_err() {
            break;
        }
        if is_event && faults::take_reset(shared) {
            if shared.config.log_requests {
                eprintln!("hec-test-server: {} {} -> reset", req.method, req.path);
            }
            read_part_of_body(&mut conn, &req);
            conn.into_inner().reset();
            return;
        }
        let body = match http::read_body(&mut conn, &req, max) {
            Ok(body) => body,
            Err(BodyError::TooLarge) => {
                let body = protocol::text_body("Request entity too large");
                count_response(shared, 413, None);
                let _ = http::write_response(conn.get_mut(), 413, &body, true);
                break;
            }
            Err(BodyError::Io(e)) => {
                if e.kind() == io::ErrorKind::InvalidData {
                    let body = protocol::text_body(&format!("Bad request: {e}"));
                    count_response(shared, 400, None);
                    let _ = http::write_response(conn.get_mut(), 400, &body, true);
                }
                break;
            }
        };
        {
            let mut state = shared.lock();
            let stats = &mut state.stats;
            stats.gzip += u64::from(req.is_gzip());
            stats.chunked += u64::from(req.is_chunked());
            stats.max_body_bytes = stats.max_body_bytes.max(body.len());
        }
        if is_event && faults::take_drop(shared) {
            if shared.config.log_requests {
                eprintln!("hec-test-server: {} {} -> dropped", req.method, req.path);
            }
            conn.get_mut().abort();
            return;
        }
        let Some(reply) = protocol::handle(shared, route, &req, &body, epoch) else {
            // The server restarted under this request: no answer.
            conn.get_mut().abort();
            return;
        };
        let close = req.wants_close();
        count_response(shared, reply.status, reply.code);
        if shared.config.log_requests {
            eprintln!(
                "hec-test-server: {} {} -> {} {}",
                req.method, req.path, reply.status, reply.body
            );
        }
        let written =
            http::write_response(conn.get_mut(), reply.status, reply.body.as_bytes(), close);
        if close || written.is_err() {
            break;
        }
    }
    conn.get_mut().close();
}

/// Reads about half of a request's body (at least a byte; for a chunked
/// body, what has arrived) and leaves the rest unread, for the reset fault.
fn read_part_of_body(conn: &mut BufReader<Stream>, req: &http::Request) {
    let half = req
        .header("content-length")
        .and_then(|v| v.parse::<u64>().ok())
        .map(|n| n.div_ceil(2));
    match half {
        Some(half) => {
            let _ = io::copy(&mut conn.by_ref().take(half), &mut io::sink());
        }
        None => {
            if let Ok(buf) = conn.fill_buf() {
                let n = buf.len().div_ceil(2);
                conn.consume(n);
            }
        }
    }
}

/// Applies `pause` and `delay` to an event POST. False if the server shut
/// down or restarted meanwhile.
fn stall(shared: &Shared, stop: &Stop) -> bool {
    let mut state = shared.lock();
    if state.faults.paused || !state.faults.delay.is_zero() {
        state.stats.stalled += 1;
    }
    while state.faults.paused && !stop.is_set() {
        state = shared
            .changed
            .wait_timeout(state, Duration::from_millis(50))
            .unwrap_or_else(|e| e.into_inner())
            .0;
    }
    let until = Instant::now() + state.faults.delay;
    drop(state);
    while !stop.is_set() {
        let left = until.saturating_duration_since(Instant::now());
        if left.is_zero() {
            break;
        }
        thread::sleep(left.min(Duration::from_millis(20)));
    }
    !stop.is_set()
}

fn count_response(shared: &Shared, status: u16, code: Option<i64>) {
    let mut state = shared.lock();
    *state.stats.by_status.entry(status).or_default() += 1;
    if let Some(code) = code {
        *state.stats.by_code.entry(code).or_default() += 1;
    }
    shared.changed.notify_all();
}
