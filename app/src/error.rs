//! The error every server function returns: safe to show, serializable, with a stable code.

use leptos::server_fn::{
    codec::JsonEncoding,
    error::{FromServerFnError, ServerFnErrorErr},
};
use serde::{Deserialize, Serialize};

/// A problem with one form field: which field, and what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

impl FieldError {
    pub fn new(field: &str, message: impl Into<String>) -> Self {
        Self {
            field: field.to_string(),
            message: message.into(),
        }
    }
}

/// Errors as users and clients see them. Internal details never reach this type: they are
/// logged where they are converted and replaced by `Internal` with a reference id.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
#[serde(tag = "code", rename_all = "snake_case")]
pub enum AppError {
    #[error("Please sign in to continue.")]
    Unauthenticated,
    #[error("You do not have permission to do this.")]
    Forbidden,
    #[error("{entity} was not found.")]
    NotFound { entity: String },
    #[error("Please correct the fields marked below.")]
    Validation { fields: Vec<FieldError> },
    #[error("{message}")]
    Conflict { message: String },
    #[error("The username or password is incorrect.")]
    InvalidCredentials,
    #[error("This account is deactivated. Ask an administrator to reactivate it.")]
    AccountDeactivated,
    #[error("Too many failed sign-in attempts. Try again in {minutes} minute(s).")]
    Locked { minutes: i64 },
    #[error("The request could not be understood: {message}")]
    BadRequest { message: String },
    #[error("The server is busy. Try again in {seconds} seconds.")]
    Busy { seconds: u32 },
    #[error("The request is too large (at most {limit}).")]
    TooLarge { limit: String },
    #[error("Something went wrong on our side. If it persists, quote reference {reference}.")]
    Internal { reference: String },
}

impl AppError {
    pub fn not_found(entity: &str) -> Self {
        Self::NotFound {
            entity: entity.to_string(),
        }
    }

    pub fn conflict(message: impl Into<String>) -> Self {
        Self::Conflict {
            message: message.into(),
        }
    }

    pub fn field(field: &str, message: impl Into<String>) -> Self {
        Self::Validation {
            fields: vec![FieldError::new(field, message)],
        }
    }

    /// The message for one field, if this is a validation error naming it.
    pub fn field_message(&self, field: &str) -> Option<String> {
        match self {
            Self::Validation { fields } => fields
                .iter()
                .find(|f| f.field == field)
                .map(|f| f.message.clone()),
            _ => None,
        }
    }

    pub fn status_code(&self) -> http::StatusCode {
        use http::StatusCode as S;
        match self {
            Self::Unauthenticated | Self::InvalidCredentials => S::UNAUTHORIZED,
            Self::Forbidden | Self::AccountDeactivated => S::FORBIDDEN,
            Self::NotFound { .. } => S::NOT_FOUND,
            Self::Validation { .. } => S::UNPROCESSABLE_ENTITY,
            Self::Conflict { .. } => S::CONFLICT,
            Self::Locked { .. } => S::TOO_MANY_REQUESTS,
            Self::BadRequest { .. } => S::BAD_REQUEST,
            Self::Busy { .. } => S::SERVICE_UNAVAILABLE,
            Self::TooLarge { .. } => S::PAYLOAD_TOO_LARGE,
            Self::Internal { .. } => S::INTERNAL_SERVER_ERROR,
        }
    }
}

impl FromServerFnError for AppError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        match value {
            ServerFnErrorErr::Args(m) | ServerFnErrorErr::MissingArg(m) => {
                Self::BadRequest { message: m }
            }
            ServerFnErrorErr::Request(_) | ServerFnErrorErr::Response(_) => Self::BadRequest {
                message: "the server could not be reached; check your connection".into(),
            },
            _ => Self::BadRequest {
                message: "malformed request".into(),
            },
        }
    }
}

/// Logs an unexpected error once, with a short reference the user can quote, and hides it.
#[cfg(feature = "ssr")]
pub fn internal(e: impl Into<anyhow::Error>) -> AppError {
    let e = e.into();
    let reference = uuid::Uuid::new_v4().simple().to_string()[..8].to_string();
    tracing::error!(%reference, error.cause_chain = ?e, "internal error");
    AppError::Internal { reference }
}

/// Sets the HTTP status from a server function's error: of the API response, or of the page
/// being rendered when a page called it. Plain HTML form posts keep the redirect back to their
/// page (the error travels in the URL), so they are left alone.
#[cfg(feature = "ssr")]
pub fn respond<T>(result: Result<T, AppError>) -> Result<T, AppError> {
    if let Err(e) = &result {
        let plain_form = leptos::prelude::use_context::<http::request::Parts>().is_some_and(|p| {
            p.method == http::Method::POST
                && p.headers
                    .get(http::header::ACCEPT)
                    .and_then(|v| v.to_str().ok())
                    .is_some_and(|v| v.contains("text/html"))
        });
        if let (false, Some(res)) = (
            plain_form,
            leptos::prelude::use_context::<leptos_axum::ResponseOptions>(),
        ) {
            res.set_status(e.status_code());
            if let AppError::Busy { seconds } = e {
                res.insert_header(http::header::RETRY_AFTER, http::HeaderValue::from(*seconds));
            }
        }
    }
    result
}

#[cfg(feature = "ssr")]
impl From<crate::auth::password::PasswordError> for AppError {
    fn from(e: crate::auth::password::PasswordError) -> Self {
        match e {
            crate::auth::password::PasswordError::Busy => AppError::Busy {
                seconds: crate::auth::service::BUSY_RETRY_SECONDS,
            },
            crate::auth::password::PasswordError::Failed(e) => internal(e),
        }
    }
}

#[cfg(feature = "ssr")]
impl From<crate::db::DbError> for AppError {
    fn from(e: crate::db::DbError) -> Self {
        match e {
            crate::db::DbError::NotFound => AppError::not_found("The record"),
            e => internal(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_serialize_with_a_stable_snake_case_code() {
        let json = serde_json::to_value(AppError::field("username", "is required")).unwrap();
        assert_eq!(json["code"], "validation");
        assert_eq!(json["fields"][0]["field"], "username");
    }

    #[test]
    fn field_message_finds_the_named_field_only() {
        let err = AppError::field("username", "is required");
        assert_eq!(
            err.field_message("username").as_deref(),
            Some("is required")
        );
        assert_eq!(err.field_message("password"), None);
    }
}
