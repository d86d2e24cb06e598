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

/// Ends all of one's own sessions, this one included, and sends the browser to sign in.
#[server(endpoint = "auth/logout_everywhere")]
pub async fn logout_everywhere() -> Result<(), AppError> {
    use super::guard;
    crate::error::respond(
        async move {
            let state = guard::app_state()?;
            let user = guard::require_user().await?;
            crate::users::service::sign_out_everywhere(&state.db, &guard::ctx(&user), user.id)
                .await?;
            guard::auth_session()
                .await?
                .logout()
                .await
                .map_err(crate::error::internal)?;
            leptos_axum::redirect("/login?signed_out=everywhere");
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

/// Only a path on this site is followed after sign-in (no open redirect): it starts with one
/// `/` and holds only the characters a URL path and query may hold, so no browser can read it
/// as another host (browsers drop tabs and newlines, which turned `/\t/evil` into `//evil`) and
/// it is always a valid `Location` header.
pub fn safe_next(next: &str) -> String {
    let allowed = |c: char| c.is_ascii_alphanumeric() || "-._~!$&'()*+,;=:@/?%#".contains(c);
    let local = next.starts_with('/')
        && !next.starts_with("//")
        && next.chars().all(allowed)
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
        assert_eq!(
            safe_next("/changes/4?tab=plan#rows"),
            "/changes/4?tab=plan#rows"
        );
        assert_eq!(safe_next("https://evil.example"), "/");
        assert_eq!(safe_next("//evil.example"), "/");
        assert_eq!(safe_next("/\\evil.example"), "/");
        assert_eq!(safe_next(""), "/");
    }

    #[test]
    fn whitespace_and_control_characters_that_browsers_drop_are_refused() {
        for hostile in [
            "/\t/evil.example",
            "/\n/x",
            "/\r/x",
            "/ /evil.example",
            "/\u{0}/x",
        ] {
            assert_eq!(safe_next(hostile), "/", "{hostile:?}");
        }
    }

    #[test]
    fn every_accepted_path_is_a_valid_location_header() {
        for next in ["/a?b=c&d=%20e", "/x:y@z", "/changes/1"] {
            let kept = safe_next(next);
            assert_eq!(kept, next);
            assert!(http::HeaderValue::from_str(&kept).is_ok());
        }
    }
}
