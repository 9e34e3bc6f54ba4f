//! The HEC test server's threads: one accepting connections, one per
//! connection serving keep-alive requests in order.

use std::io::{self, BufReader};
use std::net::TcpListener;
use std::sync::Arc;
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use super::http::{self, BodyError};
use super::protocol::{self, Route};
use super::transport::{PatientStream, Stream};
use super::Shared;

pub(super) fn accept_loop(
    listener: TcpListener,
    shared: Arc<Shared>,
    tls: Option<Arc<rustls::ServerConfig>>,
) {
    let mut workers: Vec<JoinHandle<()>> = Vec::new();
    for tcp in listener.incoming() {
        if shared.is_shutdown() {
            break;
        }
        let Ok(tcp) = tcp else { continue };
        shared.lock().stats.connections += 1;
        workers.retain(|w| !w.is_finished());
        let (shared, tls) = (shared.clone(), tls.clone());
        let spawned = thread::Builder::new()
            .name("hec-test-conn".into())
            .spawn(move || {
                let tcp = PatientStream::new(tcp, shared.shutdown.clone());
                if let Ok(stream) = tcp.and_then(|t| Stream::new(t, tls.as_ref())) {
                    serve_connection(&shared, stream);
                }
            });
        if let Ok(w) = spawned {
            workers.push(w);
        }
    }
    for w in workers {
        let _ = w.join();
    }
}

/// Serves requests on one connection until the client closes it, asks for
/// `Connection: close`, a fault drops it, or the server shuts down.
fn serve_connection(shared: &Shared, stream: Stream) {
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
        if is_event && !stall(shared) {
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
        if is_event && take_drop_fault(shared) {
            if shared.config.log_requests {
                eprintln!("hec-test-server: {} {} -> dropped", req.method, req.path);
            }
            conn.get_mut().abort();
            return;
        }
        let reply = protocol::handle(shared, route, &req, &body);
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

/// Applies `pause` and `delay` to an event POST. False if the server shut
/// down meanwhile.
fn stall(shared: &Shared) -> bool {
    let mut state = shared.lock();
    while state.faults.paused && !shared.is_shutdown() {
        state = shared
            .changed
            .wait_timeout(state, Duration::from_millis(50))
            .unwrap_or_else(|e| e.into_inner())
            .0;
    }
    let until = Instant::now() + state.faults.delay;
    drop(state);
    while !shared.is_shutdown() {
        let left = until.saturating_duration_since(Instant::now());
        if left.is_zero() {
            break;
        }
        thread::sleep(left.min(Duration::from_millis(20)));
    }
    !shared.is_shutdown()
}

fn take_drop_fault(shared: &Shared) -> bool {
    let mut state = shared.lock();
    if state.faults.drop == 0 {
        return false;
    }
    state.faults.drop -= 1;
    state.stats.dropped += 1;
    shared.changed.notify_all();
    true
}

fn count_response(shared: &Shared, status: u16, code: Option<i64>) {
    let mut state = shared.lock();
    *state.stats.by_status.entry(status).or_default() += 1;
    if let Some(code) = code {
        *state.stats.by_code.entry(code).or_default() += 1;
    }
    shared.changed.notify_all();
}
