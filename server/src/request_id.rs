//! Request ids: always generated here. A client's own id is kept only if it is short and
//! plain (letters, digits, `-`, `_`, `.`, at most 64), as `x-client-request-id` for the logs;
//! it never reaches the audit log.

use axum::{
    body::Body,
    http::{HeaderName, HeaderValue, Request},
    middleware::Next,
    response::Response,
};

pub static REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");
pub static CLIENT_REQUEST_ID: HeaderName = HeaderName::from_static("x-client-request-id");

pub async fn assign_request_ids(mut req: Request<Body>, next: Next) -> Response {
    let client = req
        .headers()
        .get(&REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .filter(|v| plain_id(v))
        .and_then(|v| HeaderValue::from_str(v).ok());
    let id = HeaderValue::from_str(&uuid::Uuid::new_v4().to_string())
        .expect("a UUID is a valid header value");
    let headers = req.headers_mut();
    headers.insert(&REQUEST_ID, id.clone());
    headers.remove(&CLIENT_REQUEST_ID);
    if let Some(client) = &client {
        headers.insert(&CLIENT_REQUEST_ID, client.clone());
    }
    let mut res = next.run(req).await;
    res.headers_mut().insert(&REQUEST_ID, id);
    if let Some(client) = client {
        res.headers_mut().insert(&CLIENT_REQUEST_ID, client);
    }
    res
}

fn plain_id(v: &str) -> bool {
    !v.is_empty()
        && v.len() <= 64
        && v.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
}

#[cfg(test)]
mod tests {
    use super::plain_id;

    #[test]
    fn only_short_plain_client_ids_are_kept() {
        assert!(plain_id("ci-run-42.step_3"));
        assert!(!plain_id(""));
        assert!(!plain_id(&"a".repeat(65)));
        assert!(!plain_id("id with spaces"));
        assert!(!plain_id("<script>"));
    }
}
