//! The HTML shell and the route table.

use leptos::prelude::*;
use leptos_meta::{provide_meta_context, MetaTags, Stylesheet, Title};
use leptos_router::{
    components::{Route, Router, Routes},
    path, SsrMode,
};

use crate::{
    action_items::ui::{AllItemsPage, ItemPage, MyItemsPage, OverdueItemsPage},
    approvals::ui::PoliciesPage,
    audit::ui::AuditLogPage,
    auth::ui::{provide_auth, LoginPage},
    catalog::ui::{
        CatalogPage, ComponentPage, EditComponentPage, ImpactPage, ImportPage, NewComponentPage,
    },
    changes::ui::{ChangePage, ChangesPage, EditChangePage, NewChangePage},
    components::AppShell,
    connectors::ui::ConnectorsPage,
    error_template::NotFound,
    execution::ui::{ExecutionPage, ExecutionsPage},
    groups::ui::GroupsPage,
    home::HomePage,
    notifications::ui::{NotificationSettingsPage, NotificationsPage},
    plans::ui::{ComparePage, EditPlanPage, InboxPage, PlanPage},
    postmortems::ui::{EditPostmortemPage, PostmortemPage, PostmortemVersionPage, PostmortemsPage},
    tokens::ui::TokensPage,
    users::ui::{AccountPage, NewUserPage, UserPage, UsersPage},
};

/// The document around the app (rendered on the server only).
pub fn shell(options: LeptosOptions) -> impl IntoView {
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8" />
                <meta name="viewport" content="width=device-width, initial-scale=1" />
                <meta name="color-scheme" content="light" />
                <link rel="icon" href="/favicon.ico" />
                <AutoReload options=options.clone() />
                <HydrationScripts options />
                <MetaTags />
            </head>
            <body>
                <App />
            </body>
        </html>
    }
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    view! {
        <Stylesheet id="leptos" href="/pkg/rollgate.css" />
        <Title text="Rollgate" />
        <Router>
            <Authenticated />
        </Router>
    }
}

/// Everything inside the router; auth actions live here so no-JavaScript form errors (carried
/// in the URL) reach them.
#[component]
fn Authenticated() -> impl IntoView {
    provide_auth();
    view! {
        <AppShell>
            // Pages wait for their data before the response starts, so guards can set 302/403/404.
            <Routes fallback=|| view! { <NotFound /> }>
                <Route path=path!("/") view=HomePage ssr=SsrMode::Async />
                <Route path=path!("/login") view=LoginPage ssr=SsrMode::Async />
                <Route path=path!("/account") view=AccountPage ssr=SsrMode::Async />
                <Route path=path!("/admin/users") view=UsersPage ssr=SsrMode::Async />
                <Route path=path!("/admin/users/new") view=NewUserPage ssr=SsrMode::Async />
                <Route path=path!("/admin/users/:id") view=UserPage ssr=SsrMode::Async />
                <Route path=path!("/admin/groups") view=GroupsPage ssr=SsrMode::Async />
                <Route path=path!("/admin/connectors") view=ConnectorsPage ssr=SsrMode::Async />
                <Route path=path!("/admin/notifications") view=NotificationSettingsPage ssr=SsrMode::Async />
                <Route path=path!("/notifications") view=NotificationsPage ssr=SsrMode::Async />
                <Route path=path!("/audit") view=AuditLogPage ssr=SsrMode::Async />
                <Route path=path!("/changes") view=ChangesPage ssr=SsrMode::Async />
                <Route path=path!("/changes/new") view=NewChangePage ssr=SsrMode::Async />
                <Route path=path!("/changes/:id") view=ChangePage ssr=SsrMode::Async />
                <Route path=path!("/changes/:id/edit") view=EditChangePage ssr=SsrMode::Async />
                <Route path=path!("/tokens") view=TokensPage ssr=SsrMode::Async />
                <Route path=path!("/inbox") view=InboxPage ssr=SsrMode::Async />
                <Route path=path!("/admin/policies") view=PoliciesPage ssr=SsrMode::Async />
                <Route path=path!("/plans/:id") view=PlanPage ssr=SsrMode::Async />
                <Route path=path!("/plans/:id/edit") view=EditPlanPage ssr=SsrMode::Async />
                <Route path=path!("/plans/:id/compare") view=ComparePage ssr=SsrMode::Async />
                <Route path=path!("/executions") view=ExecutionsPage ssr=SsrMode::Async />
                <Route path=path!("/executions/:id") view=ExecutionPage ssr=SsrMode::Async />
                <Route path=path!("/postmortems") view=PostmortemsPage ssr=SsrMode::Async />
                <Route path=path!("/postmortems/:id") view=PostmortemPage ssr=SsrMode::Async />
                <Route path=path!("/postmortems/:id/edit") view=EditPostmortemPage ssr=SsrMode::Async />
                <Route path=path!("/postmortems/:id/versions/:n") view=PostmortemVersionPage ssr=SsrMode::Async />
                <Route path=path!("/action-items") view=MyItemsPage ssr=SsrMode::Async />
                <Route path=path!("/action-items/all") view=AllItemsPage ssr=SsrMode::Async />
                <Route path=path!("/action-items/overdue") view=OverdueItemsPage ssr=SsrMode::Async />
                <Route path=path!("/action-items/:id") view=ItemPage ssr=SsrMode::Async />
                <Route path=path!("/catalog") view=CatalogPage ssr=SsrMode::Async />
                <Route path=path!("/catalog/new") view=NewComponentPage ssr=SsrMode::Async />
                <Route path=path!("/catalog/import") view=ImportPage ssr=SsrMode::Async />
                <Route path=path!("/catalog/:id") view=ComponentPage ssr=SsrMode::Async />
                <Route path=path!("/catalog/:id/edit") view=EditComponentPage ssr=SsrMode::Async />
                <Route path=path!("/catalog/:id/impact") view=ImpactPage ssr=SsrMode::Async />
            </Routes>
        </AppShell>
    }
}
