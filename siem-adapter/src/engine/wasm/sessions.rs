//! Session scoring in the sandbox: sessions of mouse events go to the
//! guest's `rs_score_mouse` in one buffer ([`scorer_core::mouse::batch`]).

use scorer_core::mouse::{batch, Record, SessionMethod, SessionScore};

use super::{classify, read, EngineError, WasmEngine};

impl WasmEngine {
    /// Score sessions of mouse events (a session model): one copy in, one
    /// call, one copy out.
    pub fn score_sessions(
        &mut self,
        sessions: &[&[Record]],
        method: Option<SessionMethod>,
    ) -> Result<Vec<SessionScore>, EngineError> {
        let result = self.score_sessions_once(sessions, method);
        self.recover_if_broken(result)
    }

    fn score_sessions_once(
        &mut self,
        sessions: &[&[Record]],
        method: Option<SessionMethod>,
    ) -> Result<Vec<SessionScore>, EngineError> {
        let f = self.ex.score_mouse.clone().ok_or_else(|| {
            EngineError::Module(
                "this scorer module does not score sessions (no rs_score_mouse)".into(),
            )
        })?;
        let mut request = Vec::new();
        batch::encode_request(sessions, method, &mut request);
        let ptr = self.put(&request)?;
        self.store.set_epoch_deadline(self.ticks);
        let rc = f
            .call(&mut self.store, (self.handle, ptr, request.len() as u32))
            .map_err(|e| classify(e, &self.limits, self.limits.call_timeout))?;
        if rc != 0 {
            return Err(EngineError::Batch(self.message()));
        }
        let (p, n) = self.output_range()?;
        let bytes = read(&self.store, &self.ex.memory, p, n)?;
        batch::decode_response(&bytes, sessions.len()).map_err(EngineError::Module)
    }
}
