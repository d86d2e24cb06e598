use leptos::prelude::*;

use crate::{
    auth::{groups_label, roles_label, ui::Authorized, CurrentUser, Permission, Role},
    components::{EmptyState, PageHeader},
};

#[component]
pub fn HomePage() -> impl IntoView {
    view! { <Authorized children=|user: CurrentUser| view! { <Dashboard user /> } /> }
}

#[component]
fn Dashboard(user: CurrentUser) -> impl IntoView {
    let roles = roles_label(&user.roles);
    let groups = groups_label(&user.groups);
    let cards = cards_for(&user);
    view! {
        <PageHeader title=format!("Welcome, {}", user.display_name) lead=format!("Signed in as {} · {}", user.username, roles) />
        {(!user.groups.is_empty()).then(|| view! { <p class="muted">"Approval groups: " {groups}</p> })}
        <div class="cards">
            {cards.into_iter().map(|(title, body, link)| view! {
                <section class="card">
                    <h2 class="card__title">{title}</h2>
                    <p>{body}</p>
                    {link.map(|(href, label)| view! { <a class="button" href=href>{label}</a> })}
                </section>
            }).collect_view()}
        </div>
        <EmptyState title="No rollbacks in progress">
            <p>"When a change needs rolling back, its plan, approvals and progress will appear here."</p>
        </EmptyState>
    }
}

type Card = (
    &'static str,
    &'static str,
    Option<(&'static str, &'static str)>,
);

/// What each of the user's roles can do here now.
fn cards_for(user: &CurrentUser) -> Vec<Card> {
    let mut cards = Vec::new();
    if user.can(Permission::ManageUsers) {
        cards.push((
            "Manage people",
            "Create accounts, choose their roles and approval groups, deactivate leavers.",
            Some(("/admin/users", "Open users")),
        ));
    }
    if user.can(Permission::ViewAudit) {
        cards.push(("Review the audit log", "Every change in Rollgate, hash-chained: filter it, page through it, export and verify it.", Some(("/audit", "Open the audit log"))));
    }
    if user.has_role(Role::Requester) {
        cards.push((
            "Log changes and plan rollbacks",
            "Changes you record and the rollback plans you draft will be listed here.",
            None,
        ));
    }
    if user.has_role(Role::Approver) {
        cards.push((
            "Waiting for your sign-off",
            "Nothing is waiting for you. Plans submitted to your approval groups will appear here.",
            None,
        ));
    }
    if user.has_role(Role::PostmortemAuthor) {
        cards.push((
            "Write postmortems",
            "Open one from a rolled-back or fixed-forward change: its timeline is read from the audit log. Review and publish your colleagues' postmortems.",
            Some(("/postmortems", "Open postmortems")),
        ));
    }
    cards.push((
        "Your action items",
        "What postmortems asked you to do, soonest due first.",
        Some(("/action-items", "Open my action items")),
    ));
    cards
}
