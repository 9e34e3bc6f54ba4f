//! The HTTP surface: the routes, and the layers in front of them — request
//! metrics (outermost), the bearer-token check (`/v1/score`, `/metrics`),
//! admission and the body-size limit (`/v1/score`).
//!
//! | route | answer |
//! |---|---|
//! | `POST /v1/score` | the events scored, same shape (see [`super::body`]); 400 malformed body, 401 token, 413 too large, 503 saturated |
//! | `GET /healthz` | 200, JSON: model id, engine, load time, reload counts (no token needed) |
//! | `GET /metrics` | 200, Prometheus text format (see [`super::metrics`]) |
//!
//! Errors are JSON objects `{"error": "..."}`. Parsing, scoring and rendering
//! run on tokio's blocking pool, never on the async workers.

use std::sync::Arc;
use std::time::Instant;

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;

use super::auth::Token;
use super::body;
use super::limits::{Limits, RETRY_AFTER_SECS};
use super::metrics::{Load, Route, ServeMetrics};
use super::models::Models;
use scorer_core::drift::{DriftAction, DriftStatus};

/// What every handler shares.
pub struct Shared {
    /// The model slot.
    pub models: Arc<Models>,
    /// Counters.
    pub metrics: Arc<ServeMetrics>,
    /// The bearer token, if any.
    pub token: Token,
    /// Body size, concurrency and queue bounds.
    pub limits: Limits,
    /// `risk_reasons` with the top K features (0: none).
    pub explain: usize,
}

type AppState = Arc<Shared>;

/// The service's routes and layers over `state`.
pub fn router(state: AppState) -> Router {
    let score_route = post(score).route_layer(middleware::from_fn_with_state(state.clone(), admit));
    let protected = Router::new()
        .route("/v1/score", score_route)
        .route("/metrics", get(metrics))
        .route_layer(middleware::from_fn_with_state(state.clone(), authorize));
    Router::new()
        .route("/healthz", get(healthz))
        .merge(protected)
        .fallback(not_found)
        .layer(DefaultBodyLimit::max(state.limits.max_body))
        .layer(middleware::from_fn_with_state(state.clone(), observe))
        .with_state(state)
}

/// A JSON error answer.
fn error(status: StatusCode, message: &str) -> Response {
    let body = serde_json::json!({ "error": message }).to_string();
    (status, [(header::CONTENT_TYPE, "application/json")], body).into_response()
}

fn json(value: &serde_json::Value) -> Response {
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "application/json")],
        value.to_string(),
    )
        .into_response()
}

/// Count every answer by route and status, with its latency.
async fn observe(State(s): State<AppState>, req: Request, next: Next) -> Response {
    let route = Route::of(req.uri().path());
    let started = Instant::now();
    let resp = next.run(req).await;
    s.metrics.record_request(
        route,
        resp.status().as_u16(),
        started.elapsed().as_secs_f64(),
    );
    resp
}

/// 401 without the bearer token (when one is set).
async fn authorize(State(s): State<AppState>, req: Request, next: Next) -> Response {
    let presented = req.headers().get(header::AUTHORIZATION);
    if s.token.allows(presented.map(HeaderValue::as_bytes)) {
        return next.run(req).await;
    }
    let (challenge, message) = match presented {
        None => (
            "Bearer realm=\"riskscore\"",
            "missing bearer token (Authorization: Bearer TOKEN)",
        ),
        Some(_) => (
            "Bearer realm=\"riskscore\", error=\"invalid_token\"",
            "invalid bearer token",
        ),
    };
    let mut resp = error(StatusCode::UNAUTHORIZED, message);
    resp.headers_mut().insert(
        header::WWW_AUTHENTICATE,
        HeaderValue::from_static(challenge),
    );
    resp
}

fn too_large(limits: &Limits) -> Response {
    error(
        StatusCode::PAYLOAD_TOO_LARGE,
        &format!(
            "request body larger than {} bytes (--max-body-bytes)",
            limits.max_body
        ),
    )
}

/// 413 on a declared length over the limit; 503 + Retry-After when saturated.
async fn admit(State(s): State<AppState>, req: Request, next: Next) -> Response {
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
    if declared.is_some_and(|n| n > s.limits.max_body as u64) {
        return too_large(&s.limits);
    }
    let Some(_slot) = s.limits.admit() else {
        let mut resp = error(
            StatusCode::SERVICE_UNAVAILABLE,
            "saturated: every engine is busy and the wait queue is full; retry later",
        );
        resp.headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(RETRY_AFTER_SECS));
        return resp;
    };
    next.run(req).await
}

enum Refusal {
    Bad(String),
    NoEngine,
    /// The model's window drifted and the policy's action is `fail`.
    Drift(String),
}

/// `POST /v1/score`.
async fn score(
    State(s): State<AppState>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let body = match body {
        Ok(b) => b,
        Err(r) if r.status() == StatusCode::PAYLOAD_TOO_LARGE => return too_large(&s.limits),
        Err(r) => return error(r.status(), &r.body_text()),
    };
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let permit = s.limits.engine().await;
    // Taken once the engine permit is held: the request runs on the model in
    // service when it starts scoring, to the end.
    let model = s.models.current();
    let explain = s.explain;
    let done = tokio::task::spawn_blocking(move || {
        let _permit = permit;
        let parsed = body::parse(&body, content_type.as_deref()).map_err(Refusal::Bad)?;
        let mut lease = model.lease().ok_or(Refusal::NoEngine)?;
        let (m, engine) = lease.parts();
        let mut scored = body::score(parsed, engine, &m.renderer, explain, m.drift.is_some());
        drop(lease);
        let verdict = model.observe(&mut scored);
        if let Some(v) =
            verdict.filter(|v| v.status == DriftStatus::Drift && v.action == DriftAction::Fail)
        {
            return Err(Refusal::Drift(v.summary));
        }
        Ok::<_, Refusal>((scored, model.id.clone()))
    })
    .await;
    match done {
        Ok(Ok((scored, id))) => {
            s.metrics.record_events(&scored.counts);
            let mut resp = (
                StatusCode::OK,
                [(header::CONTENT_TYPE, scored.shape.content_type())],
                scored.body(),
            )
                .into_response();
            if let Ok(v) = HeaderValue::from_str(&id) {
                resp.headers_mut().insert("x-riskscore-model", v);
            }
            resp
        }
        Ok(Err(Refusal::Bad(message))) => error(StatusCode::BAD_REQUEST, &message),
        Ok(Err(Refusal::Drift(summary))) => error(
            StatusCode::SERVICE_UNAVAILABLE,
            &format!("model drift (action fail): {summary}"),
        ),
        Ok(Err(Refusal::NoEngine)) => {
            tracing::error!("no engine free despite an engine permit");
            error(
                StatusCode::SERVICE_UNAVAILABLE,
                "no engine free; retry later",
            )
        }
        Err(e) => {
            tracing::error!(error = %e, "scoring task failed");
            error(StatusCode::INTERNAL_SERVER_ERROR, "scoring failed")
        }
    }
}

/// `GET /healthz`.
async fn healthz(State(s): State<AppState>) -> Response {
    let m = s.models.current();
    json(&serde_json::json!({
        "status": "ok",
        "model": m.id,
        "engine": m.engine,
        "sha256": m.sha256,
        "threshold": m.threshold,
        "loaded_at": humantime::format_rfc3339_seconds(m.loaded_at).to_string(),
        "reloads": s.metrics.reloads(),
        "reload_failures": s.metrics.reload_failures(),
        "engines": s.limits.concurrency,
    }))
}

/// `GET /metrics`.
async fn metrics(State(s): State<AppState>) -> Response {
    let load = Load {
        admitted: s.limits.admitted(),
        busy: s.limits.busy(),
        engines: s.limits.concurrency,
    };
    let text = s.metrics.render(&s.models.current(), load);
    (
        StatusCode::OK,
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        text,
    )
        .into_response()
}

async fn not_found() -> Response {
    error(
        StatusCode::NOT_FOUND,
        "no such endpoint (POST /v1/score, GET /healthz, GET /metrics)",
    )
}
