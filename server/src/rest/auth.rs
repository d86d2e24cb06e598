//! Bearer-token authentication for `/api/v1`. Session cookies are never read here, so a
//! browser's session cannot be ridden into the API (no CSRF hole); tokens are never accepted
//! by browser pages.

use axum::{extract::FromRequestParts, http::request::Parts};

use app::{
    audit::repo::Ctx,
    state::AppState,
    tokens::{
        model::{Scope, TokenPrincipal},
        service::{authenticate, TokenRefusal},
    },
};

use super::error::ApiError;

/// The authenticated caller of an API request.
pub struct Caller(pub TokenPrincipal, pub Option<String>);

impl Caller {
    /// Refuses unless the token has `scope` and its owner still holds the role behind it.
    pub fn require(&self, scope: Scope) -> Result<(), ApiError> {
        if !self.0.scopes.contains(&scope) {
            return Err(ApiError::forbidden(format!(
                "this token lacks the {} scope",
                scope.as_str()
            )));
        }
        if !self.0.user.can(scope.permission()) {
            return Err(ApiError::forbidden(format!(
                "the token's owner ({}) no longer has a role that allows {}",
                self.0.user.username,
                scope.as_str()
            )));
        }
        Ok(())
    }

    pub fn ctx(&self) -> Ctx {
        Ctx::user(self.0.user.actor(), self.1.clone())
    }
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let header = parts
            .headers
            .get(axum::http::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .ok_or_else(|| {
                ApiError::unauthenticated("send an API token: Authorization: Bearer rg_…")
            })?;
        let secret = header.strip_prefix("Bearer ").ok_or_else(|| {
            ApiError::unauthenticated("the Authorization header must be `Bearer <token>`")
        })?;
        let request_id = parts
            .headers
            .get("x-request-id")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        match authenticate(&state.db, secret).await? {
            Ok(principal) => Ok(Caller(principal, request_id)),
            Err(TokenRefusal::Unknown) => {
                Err(ApiError::unauthenticated("this API token is not valid"))
            }
            Err(TokenRefusal::Revoked) => {
                Err(ApiError::unauthenticated("this API token was revoked"))
            }
            Err(TokenRefusal::OwnerInactive) => Err(ApiError::unauthenticated(
                "this API token's owner is deactivated",
            )),
        }
    }
}
