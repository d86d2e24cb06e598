//! What Rollgate told you, your e-mail address, and who a thing's page told.

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

use super::delivery_badge;
use crate::{
    auth::{ui::Authorized, CurrentUser},
    components::{EmptyState, ErrorNotice, Field, FormErrors, PageHeader, SuccessNotice},
    error::AppError,
    error_template::loaded,
    notifications::{
        api::{my_notifications, SetEmail},
        model::{told_summary, Notice, Told},
    },
};

#[component]
pub fn NotificationsPage() -> impl IntoView {
    view! { <Authorized children=|_: CurrentUser| view! { <Mine /> } /> }
}

#[component]
fn Mine() -> impl IntoView {
    let query = use_query_map();
    let before = move || query.with(|q| q.get("before").and_then(|b| b.parse::<i64>().ok()));
    let page = Resource::new(before, my_notifications);
    view! {
        <PageHeader title="Your notifications".to_string() lead="What Rollgate told you, newest first: approvals you are asked for, decisions on your plans, rollbacks you are part of, postmortems and action items.".to_string() />
        <p class="muted">"E-mail copies go to the address on "<a href="/account">"your account"</a>"."</p>
        <Transition fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move { loaded(async move {
                let page = page.await?;
                if page.notices.is_empty() {
                    return Ok::<_, AppError>(view! { <EmptyState title="Nothing yet"><p>"When a plan needs your approval or a rollback you are part of moves on, it shows here."</p></EmptyState> }.into_any());
                }
                Ok(view! {
                    <ol class="notices">{page.notices.into_iter().map(|n| view! { <NoticeItem n /> }).collect_view()}</ol>
                    {page.next.map(|id| view! { <p><a class="button" href=format!("/notifications?before={id}")>"Older notifications"</a></p> })}
                }.into_any())
            }.await) })}
        </Transition>
    }
}

#[component]
fn NoticeItem(n: Notice) -> impl IntoView {
    view! {
        <li class="notice-item">
            <p class="notice-item__meta"><span class="muted">{n.created_at.format("%Y-%m-%d %H:%M UTC").to_string()}</span>
                " · " {n.kind.label()}
                {n.email.map(|s| view! { " · e-mail " {delivery_badge(s)} })}</p>
            <h2 class="notice-item__subject"><a href=n.link.clone()>{n.subject}</a></h2>
            <p>{n.body}</p>
        </li>
    }
}

/// Sets an e-mail address: one's own (`user_id` None) or, for administrators, anyone's.
#[component]
pub fn EmailForm(#[prop(optional)] user_id: Option<i64>, current: Option<String>) -> impl IntoView {
    let action = ServerAction::<SetEmail>::new();
    let form = FormErrors::of(action);
    let query = use_query_map();
    let saved = Signal::derive(move || {
        query
            .with(|q| q.get("saved"))
            .filter(|s| s == "email")
            .map(|_| "E-mail address saved.".to_string())
    });
    view! {
        <SuccessNotice message=saved />
        <ErrorNotice error=form.general() />
        <ActionForm action attr:class="form">
            {user_id.map(|id| view! { <input type="hidden" name="user_id" value=id /> })}
            <Field label="E-mail address" name="email" kind="email" autocomplete="email" value=current.unwrap_or_default()
                hint="Where Rollgate e-mails notifications. Leave empty to receive them only on the Notifications page."
                error=form.field("email") />
            <div class="form__actions"><button type="submit" class="button">"Save e-mail address"</button></div>
        </ActionForm>
    }
}

/// "Notified: Approval requested → ana, ben, #data-incidents" under a plan or a rollback.
#[component]
pub fn ToldLine(told: Vec<Told>) -> impl IntoView {
    (!told.is_empty())
        .then(|| view! { <p class="muted told">"Notified: " {told_summary(&told)}</p> })
}
