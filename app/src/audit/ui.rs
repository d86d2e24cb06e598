//! The audit log page: filters (a GET form, so it works without JavaScript), the events, and
//! keyset pagination links.

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

use super::{api::list_audit_events, AuditEntry, AuditQuery};
use crate::{
    auth::{
        ui::{urlencode, Authorized},
        CurrentUser, Permission,
    },
    components::{EmptyState, PageHeader},
    error::AppError,
    error_template::loaded,
};

#[component]
pub fn AuditLogPage() -> impl IntoView {
    view! {
        <Authorized permission=Permission::ViewAudit children=|_: CurrentUser| view! { <AuditLog /> } />
    }
}

fn query_from_url(q: &leptos_router::params::ParamsMap) -> AuditQuery {
    let text = |k: &str| q.get(k).unwrap_or_default();
    AuditQuery {
        actor: text("actor"),
        action: text("action"),
        entity_type: text("entity_type"),
        entity_id: text("entity_id"),
        from: text("from"),
        to: text("to"),
        before: q.get("before").and_then(|v| v.parse().ok()),
        after: q.get("after").and_then(|v| v.parse().ok()),
    }
}

/// `/audit?…` for a query, skipping empty filters.
fn href(q: &AuditQuery) -> String {
    let mut parts = Vec::new();
    for (k, v) in [
        ("actor", &q.actor),
        ("action", &q.action),
        ("entity_type", &q.entity_type),
        ("entity_id", &q.entity_id),
        ("from", &q.from),
        ("to", &q.to),
    ] {
        if !v.is_empty() {
            parts.push(format!("{k}={}", urlencode(v)));
        }
    }
    if let Some(b) = q.before {
        parts.push(format!("before={b}"));
    }
    if let Some(a) = q.after {
        parts.push(format!("after={a}"));
    }
    if parts.is_empty() {
        "/audit".into()
    } else {
        format!("/audit?{}", parts.join("&"))
    }
}

#[component]
fn AuditLog() -> impl IntoView {
    let url = use_query_map();
    let query = Memo::new(move |_| url.with(query_from_url));
    let page = Resource::new(move || query.get(), list_audit_events);
    view! {
        <PageHeader title="Audit log".to_string() lead="Every change in Rollgate, newest first. Each event is chained to the one before it by SHA-256, so any edit shows up when the chain is verified.".to_string() />
        <FilterForm query=query.get_untracked() />
        <Transition fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move { loaded(async move {
                let page = page.await?;
                let q = query.get_untracked();
                let older = page.older.map(|seq| href(&q.with_cursor(Some(seq), None)));
                let newer = page.newer.map(|seq| href(&q.with_cursor(None, Some(seq))));
                Ok::<_, AppError>(if page.entries.is_empty() {
                    view! { <EmptyState title="No events match these filters"><p>"Clear a filter or widen the date range."</p></EmptyState> }.into_any()
                } else {
                    view! {
                        <EventsTable entries=page.entries />
                        <nav class="pager" aria-label="Pages of the audit log">
                            {newer.map(|h| view! { <a href=h rel="prev">"← Newer events"</a> })}
                            {older.map(|h| view! { <a href=h rel="next">"Older events →"</a> })}
                        </nav>
                    }.into_any()
                })
            }.await) })}
        </Transition>

    }
}

#[component]
fn FilterForm(query: AuditQuery) -> impl IntoView {
    let input = |label: &'static str,
                 name: &'static str,
                 kind: &'static str,
                 value: String,
                 hint: &'static str| {
        let id = format!("filter-{name}");
        view! {
            <div class="field field--compact">
                <label class="field__label" for=id.clone()>{label}</label>
                <input class="field__input" id=id name=name type=kind value=value placeholder=hint />
            </div>
        }
    };
    view! {
        <form method="get" action="/audit" class="filters" role="search" aria-label="Filter the audit log">
            {input("Actor (username)", "actor", "text", query.actor, "e.g. ana")}
            {input("Action", "action", "text", query.action, "e.g. user.created")}
            {input("Entity type", "entity_type", "text", query.entity_type, "e.g. user")}
            {input("Entity id", "entity_id", "text", query.entity_id, "")}
            {input("From (UTC)", "from", "date", query.from, "YYYY-MM-DD")}
            {input("To (UTC)", "to", "date", query.to, "YYYY-MM-DD")}
            <div class="filters__actions">
                <button type="submit" class="button button--primary">"Filter"</button>
                <a class="button button--quiet" href="/audit">"Clear"</a>
            </div>
        </form>
    }
}

#[component]
fn EventsTable(entries: Vec<AuditEntry>) -> impl IntoView {
    view! {
        <table class="table table--audit">
            <caption class="visually-hidden">"Audit events, newest first"</caption>
            <thead>
                <tr>
                    <th scope="col" class="num">"#"</th>
                    <th scope="col">"When (UTC)"</th>
                    <th scope="col">"Actor"</th>
                    <th scope="col">"Action"</th>
                    <th scope="col">"Entity"</th>
                    <th scope="col">"Details"</th>
                </tr>
            </thead>
            <tbody>
                {entries.into_iter().map(|e| view! { <EventRow entry=e /> }).collect_view()}
            </tbody>
        </table>
    }
}

#[component]
fn EventRow(entry: AuditEntry) -> impl IntoView {
    let actor = entry
        .actor
        .map(|a| a.username)
        .unwrap_or_else(|| "system".into());
    let has_details = !entry.before.is_empty() || !entry.after.is_empty();
    view! {
        <tr>
            <td class="num">{entry.seq}</td>
            <td><time datetime=entry.at.to_rfc3339()>{entry.at.format("%Y-%m-%d %H:%M:%S").to_string()}</time></td>
            <td>{actor}</td>
            <td><code>{entry.action}</code></td>
            <td>{format!("{} {}", entry.entity_type, entry.entity_id)}</td>
            <td>
                {has_details.then(|| view! {
                    <details>
                        <summary>"Show"</summary>
                        {(!entry.before.is_empty()).then(|| view! { <p class="muted">"Before"</p><pre>{entry.before.clone()}</pre> })}
                        {(!entry.after.is_empty()).then(|| view! { <p class="muted">"After"</p><pre>{entry.after.clone()}</pre> })}
                        <p class="muted hash">"Chain hash " <code>{entry.chain_hash.clone()}</code></p>
                    </details>
                })}
            </td>
        </tr>
    }
}
