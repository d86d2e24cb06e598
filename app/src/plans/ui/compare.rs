//! Two revisions side by side: plan-level fields and rows added, removed and changed.

use leptos::prelude::*;
use leptos_router::hooks::{use_params_map, use_query_map};

use super::{matrix::Matrix, when};
use crate::{
    auth::{ui::Authorized, CurrentUser, Permission},
    components::PageHeader,
    error::AppError,
    error_template::loaded,
    plans::{api::compare_revisions, diff::RowChange},
};

#[component]
pub fn ComparePage() -> impl IntoView {
    view! { <Authorized permission=Permission::Read children=|_: CurrentUser| view! { <Compare /> } /> }
}

#[component]
fn Compare() -> impl IntoView {
    let params = use_params_map();
    let query = use_query_map();
    let key = move || {
        let id = params.with(|p| p.get("id").and_then(|v| v.parse::<i64>().ok()));
        let num = |k: &str| query.with(|q| q.get(k).and_then(|v| v.parse::<i32>().ok()));
        (id, num("a"), num("b"))
    };
    let data = Resource::new(key, |k| async move {
        match k {
            (Some(id), Some(a), Some(b)) => compare_revisions(id, a, b).await.map(|c| (id, c)),
            _ => Err(AppError::field(
                "a",
                "Name two revisions to compare, e.g. ?a=1&b=2.",
            )),
        }
    });
    view! {
        <Transition fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move { loaded(async move {
                let (id, c) = data.await?;
                let d = c.diff.clone();
                Ok::<_, AppError>(view! {
                    <PageHeader title=format!("Compare revisions {} and {}", c.older.number, c.newer.number) lead=format!("Rollback plan for “{}”", c.change_title)>
                        <a class="button button--quiet" href=format!("/plans/{id}")>"Back to the plan"</a>
                    </PageHeader>
                    <section class="panel">
                        <h2>"What changed"</h2>
                        {(d.is_empty() && c.older.content_hash == c.newer.content_hash).then(|| view! { <p>"The two revisions have the same content."</p> })}
                        {(d.is_empty() && c.older.content_hash != c.newer.content_hash).then(|| view! {
                            <p class="notice notice--warning" role="status">"The content hashes differ but no listed field does: compare the two matrices below line by line."</p>
                        })}
                        {(!d.plan.is_empty()).then(|| view! {
                            <table class="table">
                                <caption>"Plan fields"</caption>
                                <thead><tr><th scope="col">"Field"</th><th scope="col">{format!("Revision {}", c.older.number)}</th><th scope="col">{format!("Revision {}", c.newer.number)}</th></tr></thead>
                                <tbody>{d.plan.iter().map(|f| view! { <tr><th scope="row">{f.field.clone()}</th><td class="diff-old">{f.before.clone()}</td><td class="diff-new">{f.after.clone()}</td></tr> }).collect_view()}</tbody>
                            </table>
                        })}
                        <RowList title="Rows added" rows=d.added.clone() class="diff-new" />
                        <RowList title="Rows removed" rows=d.removed.clone() class="diff-old" />
                        {(!d.changed.is_empty()).then(|| view! {
                            <h3>"Rows changed"</h3>
                            {d.changed.iter().map(|r| view! {
                                <table class="table">
                                    <caption>{format!("{} — {} ({})", r.component, r.action, r.at)}</caption>
                                    <thead><tr><th scope="col">"Field"</th><th scope="col">"Before"</th><th scope="col">"After"</th></tr></thead>
                                    <tbody>{r.fields.iter().map(|f| view! { <tr><th scope="row">{f.field.clone()}</th><td class="diff-old">{f.before.clone()}</td><td class="diff-new">{f.after.clone()}</td></tr> }).collect_view()}</tbody>
                                </table>
                            }).collect_view()}
                        })}
                    </section>
                    <div class="side-by-side">
                        <section class="panel">
                            <h2>{format!("Revision {} ({}, {})", c.older.number, c.older.author, when(c.older.created_at))}</h2>
                            <p><code class="hash">{c.older.content_hash.clone()}</code></p>
                            <Matrix body=c.older_body.clone() />
                        </section>
                        <section class="panel">
                            <h2>{format!("Revision {} ({}, {})", c.newer.number, c.newer.author, when(c.newer.created_at))}</h2>
                            <p><code class="hash">{c.newer.content_hash.clone()}</code></p>
                            <Matrix body=c.newer_body.clone() />
                        </section>
                    </div>
                })
            }.await) })}
        </Transition>
    }
}

#[component]
fn RowList(title: &'static str, rows: Vec<RowChange>, class: &'static str) -> impl IntoView {
    (!rows.is_empty()).then(|| view! {
        <h3>{title}</h3>
        <ul class=class>{rows.into_iter().map(|r| view! { <li>{format!("{} — {} ({})", r.component, r.action, r.at)}</li> }).collect_view()}</ul>
    })
}
