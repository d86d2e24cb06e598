//! Server functions for signing in and out and for the current user.

use leptos::prelude::*;

use super::CurrentUser;
use crate::error::AppError;

/// Signs in and sends the browser to `next` (a local path) or the home page.
#[server(endpoint = "auth/login")]
pub async fn login(
    username: String,
    password: String,
    #[server(default)] next: String,
) -> Result<(), AppError> {
    use super::{guard, service};
    crate::error::respond(
        async move {
            let state = guard::app_state()?;
            let user_id = service::login(
                &state.db,
                &state.security,
                &username,
                &password,
                guard::request_id(),
            )
            .await?;
            guard::auth_session()
                .await?
                .login(user_id)
                .await
                .map_err(crate::error::internal)?;
            leptos_axum::redirect(&safe_next(&next));
            Ok(())
        }
        .await,
    )
}

/// Signs out (a no-op without a session) and sends the browser to the sign-in page.
#[server(endpoint = "auth/logout")]
pub async fn logout() -> Result<(), AppError> {
    use super::{guard, service};
    crate::error::respond(
        async move {
            let state = guard::app_state()?;
            if let Some(user) = guard::current_user().await? {
                service::logout(&state.db, &guard::ctx(&user)).await?;
            }
            guard::auth_session()
                .await?
                .logout()
                .await
                .map_err(crate::error::internal)?;
            leptos_axum::redirect("/login");
            Ok(())
        }
        .await,
    )
}

/// The signed-in user, or `None`.
#[server(endpoint = "auth/me")]
pub async fn get_current_user() -> Result<Option<CurrentUser>, AppError> {
    crate::error::respond(super::guard::current_user().await)
}

/// Only local paths are followed after sign-in (no open redirect).
pub fn safe_next(next: &str) -> String {
    let local = next.starts_with('/')
        && !next.starts_with("//")
        && !next.contains('\\')
        && !next.starts_with("/login");
    if local {
        next.to_string()
    } else {
        "/".to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::safe_next;

    #[test]
    fn sign_in_only_redirects_to_local_paths() {
        assert_eq!(safe_next("/audit?actor=ana"), "/audit?actor=ana");
        assert_eq!(safe_next("https://evil.example"), "/");
        assert_eq!(safe_next("//evil.example"), "/");
        assert_eq!(safe_next("/\\evil.example"), "/");
        assert_eq!(safe_next(""), "/");
    }
}
