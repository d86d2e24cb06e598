//! The list of postmortems, and a published version as it was published.

use leptos::prelude::*;
use leptos_router::hooks::{use_params_map, use_query_map};

use super::{
    document::{FiguresPanel, ItemsList, SectionsView, TimelineLine},
    page::status_badge,
};
use crate::{
    auth::{
        ui::{urlencode, Authorized},
        CurrentUser, Permission,
    },
    components::{EmptyState, PageHeader},
    error::AppError,
    error_template::loaded,
    postmortems::api::{list_postmortems, postmortem_version},
};

#[component]
pub fn PostmortemsPage() -> impl IntoView {
    view! { <Authorized permission=Permission::Read children=|_: CurrentUser| view! { <List /> } /> }
}

#[component]
fn List() -> impl IntoView {
    let url = use_query_map();
    let query = move || {
        url.with(|q| {
            (
                q.get("status").unwrap_or_default(),
                q.get("after").unwrap_or_default(),
            )
        })
    };
    let page = Resource::new(query, |(status, after)| list_postmortems(status, after));
    view! {
        <PageHeader title="Postmortems".to_string() lead="What we learned from each rolled-back or fixed-forward change. Open one from the change's page.".to_string() />
        <nav class="tabs" aria-label="Postmortems by status">
            {[("", "All"), ("draft", "Drafts"), ("in_review", "In review"), ("published", "Published")].into_iter().map(|(s, label)| {
                let href = if s.is_empty() { "/postmortems".to_string() } else { format!("/postmortems?status={s}") };
                view! { <a class="tabs__tab" href=href aria-current=move || (query().0 == s).then_some("page")>{label}</a> }
            }).collect_view()}
        </nav>
        <Transition fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move { loaded(async move {
                let page = page.await?;
                let status = query().0;
                let next = page.next.map(|n| format!("/postmortems?status={}&after={}", urlencode(&status), urlencode(&n)));
                Ok::<_, AppError>(view! {
                    {if page.postmortems.is_empty() {
                        view! { <EmptyState title="No postmortems here"><p>"A postmortem is opened from a change's page."</p></EmptyState> }.into_any()
                    } else {
                        view! {
                            <table class="table">
                                <caption class="visually-hidden">"Postmortems"</caption>
                                <thead><tr><th scope="col">"Change"</th><th scope="col">"Status"</th><th scope="col">"Author"</th><th scope="col">"Open items"</th><th scope="col">"Updated (UTC)"</th></tr></thead>
                                <tbody>{page.postmortems.into_iter().map(|p| view! {
                                    <tr>
                                        <td><a href=format!("/postmortems/{}", p.id)>{p.change_title}</a></td>
                                        <td>{status_badge(p.status)}</td>
                                        <td>{p.author}</td>
                                        <td>{p.open_items}</td>
                                        <td>{p.updated_at.format("%Y-%m-%d %H:%M").to_string()}</td>
                                    </tr>
                                }).collect_view()}</tbody>
                            </table>
                        }.into_any()
                    }}
                    <nav class="pager" aria-label="Pages of postmortems">{next.map(|h| view! { <a href=h>"Older →"</a> })}</nav>
                })
            }.await) })}
        </Transition>
    }
}

#[component]
pub fn PostmortemVersionPage() -> impl IntoView {
    view! { <Authorized permission=Permission::Read children=|user: CurrentUser| view! { <Version link_audit=user.can(Permission::ViewAudit) /> } /> }
}

#[component]
fn Version(link_audit: bool) -> impl IntoView {
    let params = use_params_map();
    let query = use_query_map();
    let key = move || {
        params.with(|p| {
            (
                p.get("id").and_then(|v| v.parse::<i64>().ok()),
                p.get("n").and_then(|v| v.parse::<i64>().ok()),
            )
        })
    };
    let page = Resource::new(key, |(id, n)| async move {
        match (id, n) {
            (Some(id), Some(n)) => postmortem_version(id, n).await.map(|v| (id, v)),
            _ => Err(AppError::not_found("That published version")),
        }
    });
    let all = move || query.with(|q| q.get("timeline").as_deref() == Some("all"));
    view! {
        <Transition fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move { loaded(async move {
                let (id, v) = page.await?;
                let all = all();
                let total = v.timeline.len();
                let toggle = if all {
                    view! { <a href=format!("/postmortems/{id}/versions/{}", v.number)>"Show only starred, marked and own entries"</a> }.into_any()
                } else {
                    view! { <a href=format!("/postmortems/{id}/versions/{}?timeline=all", v.number)>{format!("Show all {total} entries")}</a> }.into_any()
                };
                Ok::<_, AppError>(view! {
                    <PageHeader title=format!("Postmortem, version {}", v.number)
                        lead=format!("Published by {} on {} UTC, exactly as it was then.", v.published_by, v.published_at.format("%Y-%m-%d %H:%M")) />
                    <p><a href=format!("/postmortems/{id}")>"The current postmortem"</a></p>
                    <FiguresPanel figures=v.figures.clone() />
                    <SectionsView sections=v.sections.clone() />
                    <section class="panel" aria-labelledby="timeline-heading">
                        <h2 id="timeline-heading">"Timeline"</h2>
                        <p class="muted">{toggle}</p>
                        <ol class="timeline">{v.timeline.into_iter().filter(|i| all || i.highlighted()).map(|i| view! {
                            <li class="timeline__item"><TimelineLine item=i link_audit /></li>
                        }).collect_view()}</ol>
                    </section>
                    <section class="panel" aria-labelledby="items-heading">
                        <h2 id="items-heading">"Action items when published"</h2>
                        <ItemsList items=v.items no_actions_reason=v.no_actions_reason />
                    </section>
                })
            }.await) })}
        </Transition>
    }
}
