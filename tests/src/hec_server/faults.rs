//! The faults a test arms on a [`HecTestServer`], and its restart. See the
//! [module docs](super#faults) for what each one stands for.

use std::io;
use std::net::TcpListener;
use std::thread;
use std::time::{Duration, Instant};

use super::{spawn_acceptor, HecTestServer, Shared};

/// How long a restart keeps trying to listen on its old port again.
const REBIND_FOR: Duration = Duration::from_secs(10);

/// Faults armed from the test thread; the counters count down per event POST.
#[derive(Debug, Default)]
pub(super) struct Faults {
    pub busy: u32,
    pub too_many: u32,
    pub drop: u32,
    pub reset: u32,
    pub lose_acks: u32,
    pub delay: Duration,
    pub paused: bool,
    pub ack_after_polls: u32,
}

/// Uses up one armed drop fault, if any (counted in the stats).
pub(super) fn take_drop(shared: &Shared) -> bool {
    let mut state = shared.lock();
    if state.faults.drop == 0 {
        return false;
    }
    state.faults.drop -= 1;
    state.stats.dropped += 1;
    shared.changed.notify_all();
    true
}

/// Uses up one armed reset fault, if any (counted in the stats).
pub(super) fn take_reset(shared: &Shared) -> bool {
    let mut state = shared.lock();
    if state.faults.reset == 0 {
        return false;
    }
    state.faults.reset -= 1;
    state.stats.reset += 1;
    shared.changed.notify_all();
    true
}

impl HecTestServer {
    fn faults(&self, f: impl FnOnce(&mut Faults)) {
        f(&mut self.shared.lock().faults);
        self.shared.changed.notify_all();
    }

    /// The next `n` event POSTs get 503 code 9 "Server is busy"; the health
    /// endpoint says busy until they are used up.
    pub fn busy_next(&self, n: u32) {
        self.faults(|f| f.busy = n);
    }

    /// The next `n` event POSTs get HTTP 429.
    pub fn too_many_next(&self, n: u32) {
        self.faults(|f| f.too_many = n);
    }

    /// The next `n` event POSTs are read in full, then the connection is
    /// closed without a response; nothing is stored.
    pub fn drop_next(&self, n: u32) {
        self.faults(|f| f.drop = n);
    }

    /// The next `n` event POSTs are cut mid-body: the server reads the head
    /// and about half of the body (half the `Content-Length`, rounded up;
    /// for a chunked body, half of what has arrived), then closes the socket
    /// with `SO_LINGER` 0, so the client gets an RST (connection reset) while
    /// sending or waiting for the reply. No response, nothing stored, no ack
    /// id used. Checked after [`pause`](Self::pause)/[`delay`](Self::delay)
    /// and `100 Continue`, before [`drop_next`](Self::drop_next) and the
    /// reply faults.
    pub fn reset_next(&self, n: u32) {
        self.faults(|f| f.reset = n);
    }

    /// Every event POST from now on waits `d` after its head arrives and
    /// before its body is read (so before anything is stored).
    /// `Duration::ZERO` turns it off.
    pub fn delay(&self, d: Duration) {
        self.faults(|f| f.delay = d);
    }

    /// The next `n` accepted event POSTs (with acks on) get an ack id that
    /// never turns true; their events are discarded, as if never indexed.
    pub fn lose_acks_next(&self, n: u32) {
        self.faults(|f| f.lose_acks = n);
    }

    /// Acks of event POSTs accepted from now on report false for `polls`
    /// polls before turning true.
    pub fn ack_after_polls(&self, polls: u32) {
        self.faults(|f| f.ack_after_polls = polls);
    }

    /// Holds every event POST after its head arrives (counted by
    /// [`requests_received`](Self::requests_received)) and before its body is
    /// read, until [`resume`](Self::resume) or drop.
    pub fn pause(&self) {
        self.faults(|f| f.paused = true);
    }

    /// Lets paused event POSTs go on.
    pub fn resume(&self) {
        self.faults(|f| f.paused = false);
    }

    /// Restarts the server at once: see [`restart_after`](Self::restart_after).
    pub fn restart(&self) -> io::Result<()> {
        self.restart_after(Duration::ZERO)
    }

    /// Restarts the server as a crashed and restarted Splunk would appear to
    /// a client, staying down for `down`:
    ///
    /// 1. Every channel is forgotten, with its pending acks and its ack id
    ///    counter (see the [module docs](super#faults) for what clients then
    ///    get). Stored events stay, as indexed data does; a request still
    ///    being handled stores nothing and gets no response.
    /// 2. The listener closes (new connections are refused) and every open
    ///    connection is closed without a response, stalled ones included;
    ///    this returns once their threads have ended.
    /// 3. After `down`, the server listens again on the same address and
    ///    port, with the same TLS certificate, tokens and armed faults.
    ///
    /// Errors if the port cannot be bound again within 10 seconds; the
    /// server then stays down.
    pub fn restart_after(&self, down: Duration) -> io::Result<()> {
        let mut acceptor = self.acceptor.lock().unwrap_or_else(|e| e.into_inner());
        let epoch = {
            let mut state = self.shared.lock();
            state.epoch += 1;
            state.channels.clear();
            state.stats.restarts += 1;
            if self.shared.config.log_requests {
                eprintln!("hec-test-server: restart (down {down:?})");
            }
            // Under the state lock, so a request storing now either finished
            // before or sees the new epoch.
            if let Some(a) = acceptor.as_ref() {
                a.stop.close_listener();
            }
            self.shared.changed.notify_all();
            state.epoch
        };
        if let Some(a) = acceptor.take() {
            if !a.wake_and_join(self.addr, REBIND_FOR) {
                return Err(io::Error::other(
                    "HEC test server restart: cannot wake the listener",
                ));
            }
        }
        thread::sleep(down);
        let started = Instant::now();
        let listener = loop {
            match TcpListener::bind(self.addr) {
                Ok(l) => break l,
                Err(e) if started.elapsed() >= REBIND_FOR => return Err(e),
                Err(_) => thread::sleep(Duration::from_millis(20)),
            }
        };
        *acceptor = Some(spawn_acceptor(
            listener,
            &self.shared,
            self.tls.clone(),
            epoch,
        )?);
        Ok(())
    }
}
