//! The sign-in page, the auth context every page reads, and the page guard.

use leptos::prelude::*;
use leptos_router::{
    components::Redirect,
    hooks::{use_location, use_query_map},
};

use super::{
    api::{Login, Logout},
    CurrentUser, Permission,
};
use crate::{
    components::{ErrorNotice, Field, FormErrors, PageHeader, SuccessNotice},
    error_template::Forbidden,
};

/// The signed-in user and the two actions that change it. The server knows the user before it
/// renders (the HTTP layer loads it from the session), and hands it to the browser with the page,
/// so pages decide synchronously what to show: no Suspense around whole pages.
#[derive(Clone, Copy)]
pub struct AuthContext {
    pub user: RwSignal<Option<CurrentUser>>,
    pub login: ServerAction<Login>,
    pub logout: ServerAction<Logout>,
    /// The signed-in user's open action items (the navigation's count).
    pub open_items: RwSignal<i64>,
}

/// The user the HTTP layer found in the session, as a request extension for the page render.
#[derive(Debug, Clone)]
pub struct RequestUser(pub Option<CurrentUser>);

/// Counts the navigation shows, loaded with the user.
#[derive(Debug, Clone, Copy, Default)]
pub struct NavCounts {
    pub open_items: i64,
}

fn counts_of_request() -> NavCounts {
    #[cfg(feature = "ssr")]
    {
        use_context::<http::request::Parts>()
            .and_then(|p| p.extensions.get::<NavCounts>().copied())
            .unwrap_or_default()
    }
    #[cfg(not(feature = "ssr"))]
    {
        NavCounts::default()
    }
}

fn user_of_request() -> Option<CurrentUser> {
    #[cfg(feature = "ssr")]
    {
        use_context::<http::request::Parts>()
            .and_then(|p| p.extensions.get::<RequestUser>().cloned())
            .and_then(|u| u.0)
    }
    #[cfg(not(feature = "ssr"))]
    {
        None
    }
}

pub fn provide_auth() {
    let login = ServerAction::<Login>::new();
    let logout = ServerAction::<Logout>::new();
    let user = RwSignal::new(SharedValue::new(user_of_request).into_inner());
    let open_items =
        RwSignal::new(SharedValue::new(|| counts_of_request().open_items).into_inner());
    provide_context(AuthContext {
        user,
        login,
        logout,
        open_items,
    });
}

pub fn use_auth() -> AuthContext {
    expect_context::<AuthContext>()
}

/// Renders `children(user)` for a signed-in user holding `permission` (any user when `None`);
/// otherwise the sign-in page (with a way back) or a 403 page. Decided synchronously, so the
/// page (and its resources) is created once.
#[component]
pub fn Authorized<F, V>(
    #[prop(optional)] permission: Option<Permission>,
    children: F,
) -> impl IntoView
where
    F: Fn(CurrentUser) -> V + Clone + Send + Sync + 'static,
    V: IntoView + 'static,
{
    let auth = use_auth();
    let location = use_location();
    move || match auth.user.get() {
        Some(user) if permission.is_none_or(|p| user.can(p)) => children.clone()(user).into_any(),
        Some(_) => view! { <Forbidden /> }.into_any(),
        None => {
            let search = location.search.get_untracked();
            let search = search.trim_start_matches('?');
            let path = location.pathname.get_untracked();
            let here = if search.is_empty() {
                path
            } else {
                format!("{path}?{search}")
            };
            let target = format!("/login?next={}", urlencode(&here));
            view! { <Redirect path=target /> }.into_any()
        }
    }
}

/// Percent-encodes a path for a query parameter.
pub fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[component]
pub fn LoginPage() -> impl IntoView {
    let auth = use_auth();
    // Created inside the route, so an error carried in the URL (no JavaScript) reaches it.
    let login = ServerAction::<Login>::new();
    let query = use_query_map();
    let next = move || query.with(|q| q.get("next").unwrap_or_default());
    let signed_out = Signal::derive(move || {
        query
            .with(|q| q.get("signed_out"))
            .filter(|v| v == "everywhere")
            .map(|_| "You are signed out on every device.".to_string())
    });
    let form = FormErrors::of(login);
    // Field errors show next to their fields; the others above the form.
    let general = form.general();
    view! {
        {move || {
                if auth.user.with(Option::is_some) {
                    return view! { <Redirect path="/" /> }.into_any();
                }
                view! {
                    <div class="login">
                        <PageHeader title="Sign in".to_string() lead="Rollgate governs rollbacks of data pipelines: plans, sign-offs, execution and audit.".to_string() />
                        <ErrorNotice error=general />
                        <SuccessNotice message=signed_out />
                        // A plain form even with JavaScript: signing in reloads the page, so
                        // everything renders afresh for the new user.
                        <form class="form form--narrow" method="post" action="/api/auth/login">
                            <input type="hidden" name="next" value=next />
                            <Field label="Username" name="username" autocomplete="username" required=true error=form.field("username") />
                            <Field label="Password" name="password" kind="password" autocomplete="current-password" required=true error=form.field("password") />
                            <button type="submit" class="button button--primary">"Sign in"</button>
                        </form>
                        <p class="login__help">"No account yet? Ask an administrator to create one for you."</p>
                    </div>
                }.into_any()
            }}
    }
}
