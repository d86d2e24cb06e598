//! The sign-in page, the auth context every page reads, and the page guard.

use leptos::prelude::*;
use leptos_router::{
    components::Redirect,
    hooks::{use_location, use_query_map},
};

use super::{
    api::{get_current_user, Login, Logout},
    CurrentUser, Permission,
};
use crate::{
    components::{ErrorNotice, Field, FormErrors, PageHeader},
    error::AppError,
    error_template::Forbidden,
};

/// The signed-in user (refetched after sign-in/out) and the two actions that change it.
#[derive(Clone, Copy)]
pub struct AuthContext {
    pub user: Resource<Result<Option<CurrentUser>, AppError>>,
    pub login: ServerAction<Login>,
    pub logout: ServerAction<Logout>,
}

pub fn provide_auth() {
    let login = ServerAction::<Login>::new();
    let logout = ServerAction::<Logout>::new();
    let user = Resource::new(
        move || (login.version().get(), logout.version().get()),
        |_| get_current_user(),
    );
    provide_context(AuthContext {
        user,
        login,
        logout,
    });
}

pub fn use_auth() -> AuthContext {
    expect_context::<AuthContext>()
}

/// Renders `children(user)` for a signed-in user holding `permission` (any user when `None`);
/// sends anonymous visitors to sign in and shows others a 403 page. The server functions the
/// page calls check again: this guard is for people, not the protection.
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
    view! {
        <Suspense fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {
                let children = children.clone();
                move || {
                    let children = children.clone();
                    Suspend::new(async move {
                        match auth.user.await {
                            Ok(Some(user)) if permission.is_none_or(|p| user.can(p)) => children(user).into_any(),
                            Ok(Some(_)) => view! { <Forbidden /> }.into_any(),
                            Ok(None) | Err(AppError::Unauthenticated) => {
                                let search = location.search.get_untracked();
                                let search = search.trim_start_matches('?');
                                let path = location.pathname.get_untracked();
                                let here = if search.is_empty() { path } else { format!("{path}?{search}") };
                                let target = format!("/login?next={}", urlencode(&here));
                                view! { <Redirect path=target /> }.into_any()
                            }
                            Err(e) => view! { <ErrorNotice error=Signal::stored(Some(e)) /> }.into_any(),
                        }
                    })
                }
            }
        </Suspense>
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
    Effect::new(move |_| {
        if let Some(Ok(())) = login.value().get() {
            auth.user.refetch();
        }
    });
    let query = use_query_map();
    let next = move || query.with(|q| q.get("next").unwrap_or_default());
    let form = FormErrors::of(login);
    // Field errors show next to their fields; the others above the form.
    let general = form.general();
    view! {
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                if let Ok(Some(_)) = auth.user.await {
                    return view! { <Redirect path="/" /> }.into_any();
                }
                view! {
                    <div class="login">
                        <PageHeader title="Sign in".to_string() lead="Rollgate governs rollbacks of data pipelines: plans, sign-offs, execution and audit.".to_string() />
                        <ErrorNotice error=general />
                        <ActionForm action=login attr:class="form form--narrow">
                            <input type="hidden" name="next" value=next />
                            <Field label="Username" name="username" autocomplete="username" required=true error=form.field("username") />
                            <Field label="Password" name="password" kind="password" autocomplete="current-password" required=true error=form.field("password") />
                            <button type="submit" class="button button--primary">"Sign in"</button>
                        </ActionForm>
                        <p class="login__help">"No account yet? Ask an administrator to create one for you."</p>
                    </div>
                }.into_any()
            })}
        </Suspense>
    }
}
