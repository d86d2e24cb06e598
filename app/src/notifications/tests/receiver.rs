//! A real HTTP server standing in for Slack, Teams and webhook receivers: it records every
//! request (headers and body, byte for byte) and answers from a script (status, headers, delay).

use std::{
    collections::VecDeque,
    sync::{Arc, Mutex},
    time::Duration,
};

use axum::{body::Bytes, extract::State, http::HeaderMap, response::IntoResponse, Router};

#[derive(Debug, Clone)]
pub struct Request {
    pub path: String,
    pub headers: HeaderMap,
    pub body: String,
}

/// One scripted answer; when the script runs out, 200 "ok".
#[derive(Debug, Clone)]
pub struct Reply {
    pub status: u16,
    pub body: &'static str,
    pub retry_after: Option<&'static str>,
    pub delay: Duration,
}

impl Reply {
    pub fn status(status: u16, body: &'static str) -> Self {
        Self {
            status,
            body,
            retry_after: None,
            delay: Duration::ZERO,
        }
    }
}

#[derive(Default)]
struct Inner {
    script: VecDeque<Reply>,
    seen: Vec<Request>,
}

#[derive(Clone, Default)]
pub struct Receiver(Arc<Mutex<Inner>>);

impl Receiver {
    /// Serves on a free port; returns the base URL.
    pub async fn start(script: Vec<Reply>) -> (Self, String) {
        let me = Self::default();
        me.0.lock().unwrap().script = script.into();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let app = Router::new().fallback(answer).with_state(me.clone());
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        (me, base)
    }

    pub fn seen(&self) -> Vec<Request> {
        self.0.lock().unwrap().seen.clone()
    }
}

async fn answer(
    State(r): State<Receiver>,
    uri: axum::http::Uri,
    headers: HeaderMap,
    body: Bytes,
) -> impl IntoResponse {
    let reply = {
        let mut inner = r.0.lock().unwrap();
        inner.seen.push(Request {
            path: uri.path().to_string(),
            headers,
            body: String::from_utf8_lossy(&body).into_owned(),
        });
        inner.script.pop_front()
    };
    let reply = reply.unwrap_or_else(|| Reply::status(200, "ok"));
    tokio::time::sleep(reply.delay).await;
    let mut out = HeaderMap::new();
    if let Some(v) = reply.retry_after {
        out.insert("retry-after", v.parse().unwrap());
    }
    (
        axum::http::StatusCode::from_u16(reply.status).unwrap(),
        out,
        reply.body,
    )
}
