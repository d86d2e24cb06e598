//! Explicit request body limits, answered with 413 and the limit in words.
//!
//! Uploads (a catalog file, a dbt manifest) take up to 25 MB and their handlers enforce it
//! while reading; the REST API takes 1 MiB of JSON; everything else (server functions, forms)
//! 256 KiB. A larger body is still read and dropped up to a ceiling, so the client receives
//! the answer instead of a reset connection.

use axum::{
    body::Body,
    http::{header, Request, StatusCode},
    middleware::Next,
    response::{IntoResponse, Response},
    Json,
};
use http_body_util::BodyExt;

use crate::rest::ApiError;

pub const FORM_LIMIT: usize = 256 * 1024;
pub const API_LIMIT: usize = 1024 * 1024;
/// A body over the limit is drained up to this, then the connection is closed.
const DRAIN_LIMIT: usize = 32 * 1024 * 1024;

/// The limit for a path, or `None` where the handler enforces its own (uploads).
pub fn limit_for(path: &str) -> Option<usize> {
    match path {
        "/api/catalog/import" | "/api/v1/catalog/dbt" => None,
        p if p.starts_with("/api/v1/") => Some(API_LIMIT),
        _ => Some(FORM_LIMIT),
    }
}

pub async fn limit_bodies(req: Request<Body>, next: Next) -> Response {
    let Some(limit) = limit_for(req.uri().path()) else {
        return next.run(req).await;
    };
    let rest = req.uri().path().starts_with("/api/v1/");
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    let (parts, body) = req.into_parts();
    if declared.is_some_and(|n| n > DRAIN_LIMIT) {
        return too_large(limit, rest);
    }
    match read_limited(body, limit).await {
        Ok(bytes) => {
            next.run(Request::from_parts(parts, Body::from(bytes)))
                .await
        }
        Err(Refused::TooLarge) => too_large(limit, rest),
        Err(Refused::CutOff) => (
            StatusCode::BAD_REQUEST,
            "The request body was cut off: retry.",
        )
            .into_response(),
    }
}

enum Refused {
    TooLarge,
    CutOff,
}

async fn read_limited(mut body: Body, limit: usize) -> Result<Vec<u8>, Refused> {
    let mut buf = Vec::new();
    let mut total = 0usize;
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|_| Refused::CutOff)?;
        let Ok(data) = frame.into_data() else {
            continue;
        };
        total += data.len();
        if total <= limit {
            buf.extend_from_slice(&data);
        } else if total > DRAIN_LIMIT {
            break;
        }
    }
    if total > limit {
        Err(Refused::TooLarge)
    } else {
        Ok(buf)
    }
}

fn too_large(limit: usize, rest: bool) -> Response {
    let words = words(limit);
    if rest {
        return ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
            format!("the request body is larger than {words}"),
        )
        .into_response();
    }
    let error = app::error::AppError::TooLarge { limit: words };
    (StatusCode::PAYLOAD_TOO_LARGE, Json(error)).into_response()
}

fn words(limit: usize) -> String {
    if limit >= 1024 * 1024 {
        format!("{} MiB", limit / (1024 * 1024))
    } else {
        format!("{} KiB", limit / 1024)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uploads_keep_their_own_limit_and_everything_else_has_one() {
        assert_eq!(limit_for("/api/catalog/import"), None);
        assert_eq!(limit_for("/api/v1/catalog/dbt"), None);
        assert_eq!(limit_for("/api/v1/changes"), Some(API_LIMIT));
        assert_eq!(limit_for("/api/auth/login"), Some(FORM_LIMIT));
        assert_eq!(limit_for("/changes"), Some(FORM_LIMIT));
        assert_eq!(words(FORM_LIMIT), "256 KiB");
        assert_eq!(words(API_LIMIT), "1 MiB");
    }
}
