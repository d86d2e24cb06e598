//! The authorization guard every server function calls first. A hidden button is never the
//! protection: this is.

use leptos::prelude::use_context;
use tower_sessions::Session;

use super::{model::Permission, session::AuthSession, CurrentUser};
use crate::{
    audit::repo::Ctx,
    db::{Conn, DbError},
    error::{internal, AppError},
    state::AppState,
    users::repo::get_user,
};

/// The server's state. Missing only for a resource refetch that outlives its page render (its
/// reactive owner is gone, and its result is discarded), so that case is a warning.
pub fn app_state() -> Result<AppState, AppError> {
    use_context::<AppState>().ok_or_else(|| {
        tracing::warn!("a server function ran outside a request (a cancelled render); skipped");
        AppError::Internal {
            reference: "no-request".into(),
        }
    })
}

pub async fn auth_session() -> Result<AuthSession, AppError> {
    let session = leptos_axum::extract::<Session>()
        .await
        .map_err(|e| internal(anyhow::anyhow!("no session layer: {e}")))?;
    Ok(AuthSession(session))
}

/// The request id set by the HTTP layer, recorded in audit events.
pub fn request_id() -> Option<String> {
    use_context::<http::request::Parts>().and_then(|p| {
        p.headers
            .get("x-request-id")
            .and_then(|v| v.to_str().ok().map(str::to_string))
    })
}

/// The signed-in, active user, if any. A deactivated user's session no longer counts.
pub async fn current_user() -> Result<Option<CurrentUser>, AppError> {
    let state = app_state()?;
    session_user(&state.db, &auth_session().await?).await
}

/// The active user signed in with this session, if any.
pub async fn session_user(
    db: &crate::db::Db,
    session: &AuthSession,
) -> Result<Option<CurrentUser>, AppError> {
    let Some(id) = session.user_id().await.map_err(internal)? else {
        return Ok(None);
    };
    let login_at = session.login_at_ms().await.map_err(internal)?;
    let ended = |u: &crate::users::model::User| {
        u.sessions_revoked_at
            .is_some_and(|t| login_at <= t.timestamp_millis())
    };
    match get_user(&mut Conn::Db(db), id).await {
        Ok(u) if u.active && !u.service && !ended(&u) => Ok(Some(CurrentUser {
            id: u.id,
            username: u.username,
            display_name: u.display_name,
            roles: u.roles,
            groups: u.groups,
        })),
        Ok(_) | Err(DbError::NotFound) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

pub async fn require_user() -> Result<CurrentUser, AppError> {
    current_user().await?.ok_or(AppError::Unauthenticated)
}

/// The signed-in user if they hold `permission`; `Unauthenticated` or `Forbidden` otherwise.
pub async fn require(permission: Permission) -> Result<CurrentUser, AppError> {
    let user = require_user().await?;
    if user.can(permission) {
        Ok(user)
    } else {
        tracing::info!(user = user.username, ?permission, "forbidden");
        Err(AppError::Forbidden)
    }
}

/// The audit context for an action by `user` in this request.
pub fn ctx(user: &CurrentUser) -> Ctx {
    Ctx::user(user.actor(), request_id())
}
