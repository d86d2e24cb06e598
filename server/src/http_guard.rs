//! Cross-cutting HTTP protections: refuse cross-origin writes, set security headers.

use axum::{
    body::Body,
    http::{header, HeaderValue, Method, Request, StatusCode},
    middleware::Next,
    response::{IntoResponse, Response},
};

/// Browsers send `Origin` on POSTs: a write whose origin is not this host is refused
/// (defence in depth next to the SameSite=Lax session cookie).
pub async fn reject_cross_origin_writes(req: Request<Body>, next: Next) -> Response {
    let unsafe_method = !matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    if unsafe_method && !same_origin(&req) {
        tracing::warn!(origin = ?req.headers().get(header::ORIGIN), "cross-origin write refused");
        return (
            StatusCode::FORBIDDEN,
            "Cross-origin requests are not allowed.",
        )
            .into_response();
    }
    next.run(req).await
}

fn same_origin(req: &Request<Body>) -> bool {
    let Some(origin) = req
        .headers()
        .get(header::ORIGIN)
        .and_then(|o| o.to_str().ok())
    else {
        return true; // not a browser form or fetch: nothing to compare
    };
    if origin == "null" {
        return false;
    }
    let host = req
        .headers()
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or_default();
    origin.split_once("://").map(|(_, rest)| rest) == Some(host)
}

/// Server functions answer 500 for requests they cannot even parse (a missing or malformed
/// argument). Those are the client's mistake: give them the status their error code names.
pub async fn server_fn_status(req: Request<Body>, next: Next) -> Response {
    let server_fn = req.uri().path().starts_with("/api/");
    let res = next.run(req).await;
    if !server_fn || res.status() != StatusCode::INTERNAL_SERVER_ERROR {
        return res;
    }
    let (mut parts, body) = res.into_parts();
    let bytes = axum::body::to_bytes(body, 64 * 1024)
        .await
        .unwrap_or_default();
    if let Ok(error) = serde_json::from_slice::<app::error::AppError>(&bytes) {
        parts.status = error.status_code();
    }
    Response::from_parts(parts, Body::from(bytes))
}

pub async fn security_headers(req: Request<Body>, next: Next) -> Response {
    let mut res = next.run(req).await;
    let h = res.headers_mut();
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    res
}

/// Loads the signed-in user before a page renders, so pages decide synchronously what to show
/// (and the browser receives the same user with the page).
pub async fn load_page_user(
    axum::extract::State(state): axum::extract::State<app::state::AppState>,
    mut req: Request<Body>,
    next: Next,
) -> Response {
    let path = req.uri().path();
    let page = req.method() == axum::http::Method::GET
        && !path.starts_with("/api/")
        && !path.starts_with("/pkg/")
        && !matches!(path, "/healthz" | "/readyz" | "/favicon.ico");
    if page {
        if let Some(session) = req.extensions().get::<tower_sessions::Session>().cloned() {
            let session = app::auth::session::AuthSession(session);
            let user = app::auth::guard::session_user(&state.db, &session)
                .await
                .unwrap_or_else(|e| {
                    tracing::warn!(error = %e, "could not load the signed-in user; rendering as signed out");
                    None
                });
            req.extensions_mut()
                .insert(app::auth::ui::RequestUser(user));
        }
    }
    next.run(req).await
}
