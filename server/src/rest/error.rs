//! JSON errors of the REST API: a stable `code`, a `message`, and the `field` at fault.

use axum::{
    http::StatusCode,
    response::{IntoResponse, Response},
    Json,
};
use serde::Serialize;
use utoipa::ToSchema;

use app::error::{AppError, FieldError};

/// An error as API clients receive it.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    /// Stable, machine-readable: `unauthenticated`, `forbidden`, `not_found`, `validation`,
    /// `conflict`, `bad_request`, `payload_too_large`, `idempotency_key_reused`, `internal`.
    pub code: String,
    pub message: String,
    /// The first field at fault, if any (`title`, `components[1]`, …).
    pub field: Option<String>,
    /// Every field at fault.
    pub fields: Vec<FieldErrorBody>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct FieldErrorBody {
    pub field: String,
    pub message: String,
}

#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    pub fields: Vec<FieldError>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
            fields: Vec::new(),
        }
    }

    pub fn unauthenticated(message: &str) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "unauthenticated", message)
    }

    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, "forbidden", message)
    }

    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "bad_request", message)
    }
}

impl From<AppError> for ApiError {
    fn from(e: AppError) -> Self {
        let code = match &e {
            AppError::Unauthenticated | AppError::InvalidCredentials => "unauthenticated",
            AppError::Forbidden | AppError::AccountDeactivated => "forbidden",
            AppError::NotFound { .. } => "not_found",
            AppError::Validation { .. } => "validation",
            AppError::Conflict { .. } => "conflict",
            AppError::Locked { .. } => "locked",
            AppError::BadRequest { .. } => "bad_request",
            AppError::Busy { .. } => "busy",
            AppError::TooLarge { .. } => "payload_too_large",
            AppError::Internal { .. } => "internal",
        };
        let fields = match &e {
            AppError::Validation { fields } => fields.clone(),
            _ => Vec::new(),
        };
        let message = match &e {
            AppError::Validation { fields } => fields
                .iter()
                .map(|f| format!("{}: {}", f.field, f.message))
                .collect::<Vec<_>>()
                .join("; "),
            e => e.to_string(),
        };
        Self {
            status: e.status_code(),
            code,
            message,
            fields,
        }
    }
}

impl From<app::db::DbError> for ApiError {
    fn from(e: app::db::DbError) -> Self {
        AppError::from(e).into()
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = ErrorBody {
            code: self.code.to_string(),
            message: self.message,
            field: self.fields.first().map(|f| f.field.clone()),
            fields: self
                .fields
                .into_iter()
                .map(|f| FieldErrorBody {
                    field: f.field,
                    message: f.message,
                })
                .collect(),
        };
        (self.status, Json(body)).into_response()
    }
}

/// Parses a JSON body; type errors name the path (`components[0].kind`).
pub fn parse_json<T: serde::de::DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let inner = e.inner();
        let message = inner.to_string();
        let message = message
            .split(" at line ")
            .next()
            .unwrap_or(&message)
            .to_string();
        if inner.is_syntax() || inner.is_eof() {
            ApiError::bad_request(format!("the body is not valid JSON: {message}"))
        } else {
            let path = e.path().to_string();
            let field = if path == "." {
                "body".to_string()
            } else {
                path
            };
            AppError::Validation {
                fields: vec![FieldError::new(&field, message)],
            }
            .into()
        }
    })
}
