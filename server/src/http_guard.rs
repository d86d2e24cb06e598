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

/// The nonce of this response's inline scripts (Leptos' hydration and resource scripts
/// carry it), generated per request.
#[derive(Clone)]
pub struct CspNonce(pub String);

/// The browser-side protections of every response. Scripts run only from this origin or with
/// the response's nonce; WebAssembly may compile (`'wasm-unsafe-eval'`, never `'unsafe-eval'`);
/// nothing may frame a page; HSTS where the cookie is marked secure (the site is on HTTPS).
pub async fn security_headers(
    axum::extract::State(hsts): axum::extract::State<bool>,
    mut req: Request<Body>,
    next: Next,
) -> Response {
    let nonce = {
        use rand::RngCore;
        let mut bytes = [0u8; 16];
        rand::rngs::OsRng.fill_bytes(&mut bytes);
        hex::encode(bytes)
    };
    req.extensions_mut().insert(CspNonce(nonce.clone()));
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
    if let Ok(csp) = HeaderValue::from_str(&content_security_policy(&nonce)) {
        h.insert(header::CONTENT_SECURITY_POLICY, csp);
    }
    if hsts {
        h.insert(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=31536000; includeSubDomains"),
        );
    }
    res
}

pub fn content_security_policy(nonce: &str) -> String {
    format!(
        "default-src 'self'; script-src 'self' 'nonce-{nonce}' 'wasm-unsafe-eval'; \
         style-src 'self'; img-src 'self' data:; font-src 'self'; connect-src 'self'; \
         object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    )
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
            let open_items = match &user {
                Some(u) => {
                    app::action_items::repo::open_count(&mut app::db::Conn::Db(&state.db), u.id)
                        .await
                        .unwrap_or_else(|e| {
                            tracing::warn!(error = %e, "could not count the user's action items");
                            0
                        })
                }
                None => 0,
            };
            req.extensions_mut()
                .insert(app::auth::ui::NavCounts { open_items });
            req.extensions_mut()
                .insert(app::auth::ui::RequestUser(user));
        }
    }
    next.run(req).await
}

/// Keeps a signed-in session alive while it is used, reads included: the idle timeout counts
/// from the last request, not from the last write. The session is rewritten at most every
/// `every` seconds (a sixtieth of the timeout, at most a minute).
pub async fn keep_session_alive(
    axum::extract::State(every): axum::extract::State<i64>,
    req: Request<Body>,
    next: Next,
) -> Response {
    let path = req.uri().path();
    let counts = !path.starts_with("/pkg/") && !matches!(path, "/healthz" | "/readyz");
    if counts {
        if let Some(session) = req.extensions().get::<tower_sessions::Session>().cloned() {
            let session = app::auth::session::AuthSession(session);
            if matches!(session.user_id().await, Ok(Some(_))) {
                if let Err(e) = session.touch(every).await {
                    tracing::warn!(error = %e, "could not refresh the session's idle timeout");
                }
            }
        }
    }
    next.run(req).await
}
