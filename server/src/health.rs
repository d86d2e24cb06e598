//! `/healthz`: the process answers. `/readyz`: the database answers and is fully migrated.

use axum::{extract::State, http::StatusCode, Json};
use serde_json::{json, Value};

use app::state::AppState;

pub async fn healthz() -> Json<Value> {
    Json(json!({"status": "ok"}))
}

/// Readiness answers within this, database or not (probes give up after a few seconds; waiting
/// for a pool connection while the database is down would take the pool's 10 s).
const READY_WITHIN: std::time::Duration = std::time::Duration::from_secs(2);

pub async fn readyz(State(state): State<AppState>) -> (StatusCode, Json<Value>) {
    let unavailable = || {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({"status": "unavailable", "database": "unreachable"})),
        )
    };
    match tokio::time::timeout(READY_WITHIN, state.db.ping()).await {
        Ok(Ok(())) => {}
        Ok(Err(e)) => {
            tracing::warn!(error = %e, "readiness: database unreachable");
            return unavailable();
        }
        Err(_) => {
            tracing::warn!("readiness: the database did not answer within 2 s");
            return unavailable();
        }
    }
    match state.db.migrations_applied().await {
        Ok(true) => (
            StatusCode::OK,
            Json(json!({"status": "ready", "database": "ok", "migrations": "applied"})),
        ),
        Ok(false) => (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({"status": "unavailable", "migrations": "pending"})),
        ),
        Err(e) => {
            tracing::warn!(error = %e, "readiness: cannot read migrations");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(json!({"status": "unavailable", "migrations": "unknown"})),
            )
        }
    }
}
