use leptos::prelude::*;
use leptos_router::components::A;

use crate::auth::{ui::use_auth, CurrentUser, Permission};

/// The frame of every page: skip link, header with navigation by role, main region.
#[component]
pub fn AppShell(children: Children) -> impl IntoView {
    // Effects run only in the browser: tests wait for data-hydrated="true".
    let hydrated = RwSignal::new(false);
    Effect::new(move |_| hydrated.set(true));
    view! {
        <a class="skip-link" href="#main">"Skip to content"</a>
        <header class="topbar">
            <a class="topbar__brand" href="/">
                <span class="topbar__logo" aria-hidden="true">"⟲"</span>
                "Rollgate"
            </a>
            <Nav />
        </header>
        <main id="main" class="page" tabindex="-1" data-hydrated=move || hydrated.get().to_string()>
            {children()}
        </main>
    }
}

#[component]
fn Nav() -> impl IntoView {
    let auth = use_auth();
    move || match auth.user.get() {
        Some(user) => view! { <UserNav user /> }.into_any(),
        None => view! {
            <nav class="nav" aria-label="Main">
                <A href="/login" attr:class="nav__link">"Sign in"</A>
            </nav>
        }
        .into_any(),
    }
}

#[component]
fn UserNav(user: CurrentUser) -> impl IntoView {
    let open_items = use_auth().open_items;
    let links: Vec<(&str, &str)> = [
        (Some(true), "/", "Home"),
        (Some(true), "/changes", "Changes"),
        (Some(true), "/catalog", "Catalog"),
        (Some(true), "/executions", "Rollbacks"),
        (Some(true), "/postmortems", "Postmortems"),
        (
            Some(user.can(Permission::DecidePlans)),
            "/inbox",
            "Waiting for you",
        ),
        (
            Some(user.can(Permission::ViewUsers)),
            "/admin/users",
            "Users",
        ),
        (
            Some(user.can(Permission::ViewUsers)),
            "/admin/groups",
            "Groups",
        ),
        (
            Some(user.can(Permission::ManageConnectors)),
            "/admin/connectors",
            "Connectors",
        ),
        (
            Some(user.can(Permission::ManagePolicies)),
            "/admin/policies",
            "Policies",
        ),
        (
            Some(user.can(Permission::ManageNotifications)),
            "/admin/notifications",
            "Delivery",
        ),
        (Some(user.can(Permission::ViewAudit)), "/audit", "Audit log"),
        (
            Some(user.can(Permission::ManageOwnTokens)),
            "/tokens",
            "API tokens",
        ),
    ]
    .into_iter()
    .filter(|(shown, _, _)| *shown == Some(true))
    .map(|(_, href, label)| (href, label))
    .collect();
    view! {
        <nav class="nav" aria-label="Main">
            <ul class="nav__list">
                {links
                    .into_iter()
                    .map(|(href, label)| view! { <li><A href=href attr:class="nav__link">{label}</A></li> })
                    .collect_view()}
                <li>
                    <A href="/action-items" attr:class="nav__link">
                        "My action items"
                        {move || (open_items.get() > 0).then(|| view! {
                            " " <span class="nav__count">{open_items.get()}<span class="visually-hidden">" open"</span></span>
                        })}
                    </A>
                </li>
                <li><A href="/notifications" attr:class="nav__link">"Notifications"</A></li>
            </ul>
            <div class="nav__user">
                <a class="nav__name" href="/account" title=format!("Your account ({})", user.username)>{user.display_name.clone()}</a>
                // Signing out reloads the page (a plain form), like signing in.
                <form class="nav__logout" method="post" action="/api/auth/logout">
                    <button type="submit" class="button button--quiet">"Sign out"</button>
                </form>
            </div>
        </nav>
    }
}

/// The page's `<h1>` and `<title>`.
#[component]
pub fn PageHeader(
    title: String,
    #[prop(optional)] lead: Option<String>,
    #[prop(optional)] children: Option<Children>,
) -> impl IntoView {
    view! {
        <leptos_meta::Title text=format!("{title} · Rollgate") />
        <div class="page__header">
            <div>
                <h1 class="page__title">{title}</h1>
                {lead.map(|l| view! { <p class="page__lead">{l}</p> })}
            </div>
            {children.map(|c| view! { <div class="page__actions">{c()}</div> })}
        </div>
    }
}
