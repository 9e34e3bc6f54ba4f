//! What bounds the service's work: the request body size, how many requests
//! score at once (one per engine), and how many may wait for an engine.
//!
//! Saturation: a scoring request first takes an *admission* slot (at most
//! `--max-concurrency + --max-queue` requests are admitted at once); when none
//! is free it is answered `503 Service Unavailable` with `Retry-After: 1` at
//! once, before its body is read. An admitted request reads its body and then
//! waits, in arrival order, for one of the `--max-concurrency` *engine*
//! permits; holding one, it parses, scores and renders on tokio's blocking pool.
//! So memory is bounded by (concurrency + queue) × max body, and CPU work by
//! the number of engines.

use std::sync::Arc;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// Seconds a client is told to wait after a 503.
pub const RETRY_AFTER_SECS: u64 = 1;

/// The service's bounds.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Largest request body, bytes (413 above it).
    pub max_body: usize,
    /// Requests scoring at once (= engines per model).
    pub concurrency: usize,
    /// Requests that may wait for an engine.
    pub queue: usize,
    admission: Arc<Semaphore>,
    engines: Arc<Semaphore>,
}

impl Limits {
    /// Bounds of `concurrency` engines, a wait queue of `queue`, bodies of at most `max_body` bytes.
    pub fn new(max_body: usize, concurrency: usize, queue: usize) -> Limits {
        Limits {
            max_body,
            concurrency,
            queue,
            admission: Arc::new(Semaphore::new(concurrency + queue)),
            engines: Arc::new(Semaphore::new(concurrency)),
        }
    }

    /// An admission slot, or None when the service is saturated (answer 503).
    pub fn admit(&self) -> Option<OwnedSemaphorePermit> {
        Arc::clone(&self.admission).try_acquire_owned().ok()
    }

    /// Wait for an engine permit (first come, first served).
    pub async fn engine(&self) -> OwnedSemaphorePermit {
        Arc::clone(&self.engines)
            .acquire_owned()
            .await
            .expect("the engine semaphore is never closed")
    }

    /// Requests admitted now (scoring or waiting).
    pub fn admitted(&self) -> usize {
        self.concurrency + self.queue - self.admission.available_permits()
    }

    /// Requests scoring now.
    pub fn busy(&self) -> usize {
        self.concurrency - self.engines.available_permits()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn admission_is_bounded_and_engines_are_counted() {
        let l = Limits::new(10, 1, 1);
        let a = l.admit().unwrap();
        let b = l.admit().unwrap();
        assert!(
            l.admit().is_none(),
            "concurrency + queue admitted: the next is refused"
        );
        assert_eq!(l.admitted(), 2);
        let e = l.engine().await;
        assert_eq!(l.busy(), 1);
        drop((a, e));
        assert_eq!(l.busy(), 0);
        assert!(l.admit().is_some());
        drop(b);
    }
}
