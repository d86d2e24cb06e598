//! The REST API for CI (`/api/v1`): bearer tokens, JSON errors with stable codes,
//! idempotency keys, and an OpenAPI 3.1 document generated from these handlers.

mod auth;
mod catalog;
mod changes;
mod dto;
mod error;
mod idempotency;

use axum::{
    extract::{DefaultBodyLimit, Request},
    http::StatusCode,
    middleware::{self, Next},
    response::Response,
    routing::{get, post},
    Json, Router,
};
use utoipa::{
    openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme},
    Modify, OpenApi,
};

use app::{catalog::import::MAX_BYTES, state::AppState};
pub use error::ApiError;

#[derive(OpenApi)]
#[openapi(
    info(title = "Rollgate API", description = "Record changes and declare lineage from CI. Authenticate with `Authorization: Bearer <token>` (create tokens on the API tokens page)."),
    paths(changes::create, changes::get, changes::list, catalog::declare, catalog::import_dbt),
    components(schemas(error::ErrorBody, error::FieldErrorBody, dto::TagName, dto::ComponentName, dto::ChangeStatusName)),
    modifiers(&BearerToken),
    tags((name = "changes", description = "The change log"), (name = "catalog", description = "Components and lineage"))
)]
pub struct ApiDoc;

struct BearerToken;

impl Modify for BearerToken {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "token",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("rg_…")
                    .build(),
            ),
        );
    }
}

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/changes", post(changes::create).get(changes::list))
        .route("/changes/{id}", get(changes::get))
        .route("/catalog/components", post(catalog::declare))
        .route("/catalog/dbt", post(catalog::import_dbt))
        .route("/openapi.json", get(|| async { Json(ApiDoc::openapi()) }))
        .fallback(|| async {
            ApiError::new(StatusCode::NOT_FOUND, "not_found", "no such API endpoint")
        })
        // Handlers read bodies with `read_body`, which enforces the limit itself.
        .layer(DefaultBodyLimit::disable())
        .layer(middleware::from_fn(json_rejections))
}

/// Past the limit a body is still read (and dropped) up to this much, so the client gets the
/// answer instead of a broken connection.
const DRAIN_LIMIT: usize = 256 * 1024 * 1024;

/// The request body, up to `MAX_BYTES`; a larger one is answered 413 with its size.
pub async fn read_body(body: axum::body::Body) -> Result<Vec<u8>, ApiError> {
    use http_body_util::BodyExt;
    let mut body = body;
    let mut buf = Vec::new();
    let mut total = 0usize;
    while let Some(frame) = body.frame().await {
        let frame =
            frame.map_err(|_| ApiError::bad_request("the request body was cut off; retry"))?;
        if let Ok(data) = frame.into_data() {
            total += data.len();
            if total <= MAX_BYTES {
                buf.extend_from_slice(&data);
            } else if total > DRAIN_LIMIT {
                break;
            }
        }
    }
    if total > MAX_BYTES {
        return Err(too_large(total));
    }
    Ok(buf)
}

pub fn too_large(len: usize) -> ApiError {
    ApiError::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        "payload_too_large",
        format!(
            "the body is {:.1} MB; the largest accepted is {} MB",
            len as f64 / 1_048_576.0,
            MAX_BYTES / 1_048_576
        ),
    )
}

/// Axum's own rejections (body too large, bad path parameter) become JSON errors too.
async fn json_rejections(req: Request, next: Next) -> Response {
    use axum::response::IntoResponse;
    let declared = req
        .headers()
        .get(axum::http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    let res = next.run(req).await;
    let is_json = res
        .headers()
        .get(axum::http::header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"application/json"));
    if is_json || res.status().is_success() {
        return res;
    }
    match res.status() {
        StatusCode::PAYLOAD_TOO_LARGE => {
            too_large(declared.unwrap_or(MAX_BYTES + 1)).into_response()
        }
        StatusCode::METHOD_NOT_ALLOWED => ApiError::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "method_not_allowed",
            "this endpoint does not take that method",
        )
        .into_response(),
        s if s.is_client_error() => ApiError::new(
            s,
            "bad_request",
            "the request could not be understood (check the path and parameters)",
        )
        .into_response(),
        _ => res,
    }
}
