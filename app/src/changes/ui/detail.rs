use leptos::prelude::*;
use leptos_router::hooks::{use_params_map, use_query_map};

use super::status_badge;
use crate::{
    audit::{api::entity_history, history::History},
    auth::{ui::Authorized, CurrentUser, Permission},
    changes::{api::get_change, model::Change},
    components::{ErrorNotice, FormErrors, PageHeader, SuccessNotice},
    error::AppError,
    error_template::loaded,
    plans::{
        api::{plan_of_change, DraftPlan},
        model::PlanStatus,
        ui::status_badge as plan_badge,
    },
};

#[component]
pub fn ChangePage() -> impl IntoView {
    view! { <Authorized permission=Permission::Read children=|user: CurrentUser| view! { <ChangeDetail user /> } /> }
}

#[component]
fn ChangeDetail(user: CurrentUser) -> impl IntoView {
    let params = use_params_map();
    let query = use_query_map();
    let id = move || params.with(|p| p.get("id").and_then(|id| id.parse::<i64>().ok()));
    let change = Resource::new(id, |id| async move {
        match id {
            // One resource per page: the change and its history together.
            Some(id) => {
                let c = get_change(id).await?;
                let history = entity_history("change".into(), id.to_string()).await?;
                let plan = plan_of_change(id).await?;
                Ok((c, history, plan))
            }
            None => Err(AppError::not_found("The change")),
        }
    });
    let saved = Signal::derive(move || {
        query
            .with(|q| q.get("saved"))
            .and_then(|c| match c.as_str() {
                "recorded" => Some("Change recorded.".to_string()),
                "edited" => {
                    Some("Change saved. The previous values are in its history below.".to_string())
                }
                _ => None,
            })
    });
    let edit = user.can(Permission::RecordChanges);
    let draft = user.can(Permission::PlanRollbacks);
    view! {
        <Transition fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move { loaded(async move {
                let (c, history, plan) = change.await?;
                Ok::<_, AppError>(view! {
                    <PageHeader title=c.title.clone() lead=format!("Change #{} · {}", c.id, c.kind.label())>
                        {edit.then(|| view! { <a class="button" href=format!("/changes/{}/edit", c.id)>"Edit"</a> })}
                    </PageHeader>
                    <SuccessNotice message=saved />
                    <Facts c=c.clone() />
                    <RollbackPlan change_id=c.id plan can_draft=draft />
                    <History events=history />
                })
            }.await) })}
        </Transition>
    }
}

#[component]
fn Facts(c: Change) -> impl IntoView {
    let dash = |s: Option<String>| s.filter(|s| !s.is_empty()).unwrap_or_else(|| "—".into());
    view! {
        <dl class="facts">
            <dt>"Status"</dt><dd>{status_badge(c.status)}</dd>
            <dt>"Why"</dt><dd class="prose">{c.why.clone()}</dd>
            <dt>"Author"</dt><dd>{c.author.username.clone()}</dd>
            <dt>"Deployed"</dt><dd><time datetime=c.deployed_at.to_rfc3339()>{c.deployed_at.format("%Y-%m-%d %H:%M UTC").to_string()}</time></dd>
            <dt>"Git commit"</dt><dd><code>{dash(c.git_sha.clone())}</code></dd>
            <dt>"Artifact"</dt><dd>{dash(c.artifact_ref.clone())}</dd>
            <dt>"Links"</dt>
            <dd>{if c.links.is_empty() { view! { "—" }.into_any() } else {
                view! { <ul class="plain">{c.links.iter().map(|l| {
                    let label = match l.kind.as_str() { "pr" => "Pull request", "ticket" => "Ticket", _ => "Link" };
                    view! { <li>{label} ": " <a href=l.url.clone() rel="noopener noreferrer">{l.url.clone()}</a></li> }
                }).collect_view()}</ul> }.into_any()
            }}</dd>
            <dt>"Recorded"</dt><dd>{c.created_at.format("%Y-%m-%d %H:%M UTC").to_string()}</dd>
        </dl>
        <section class="panel">
            <h2>"Affected components"</h2>
            <table class="table">
                <caption class="visually-hidden">"Affected components and the data versions produced"</caption>
                <thead><tr><th scope="col">"Component"</th><th scope="col">"Kind"</th><th scope="col">"Data version produced"</th><th scope="col">"Impact"</th></tr></thead>
                <tbody>
                    {c.components.into_iter().map(|a| view! {
                        <tr>
                            <td><a href=format!("/catalog/{}", a.component.id)>{a.component.name.clone()}</a></td>
                            <td>{a.component.kind.label()}</td>
                            <td>{if a.data_version.is_empty() { "—".to_string() } else { a.data_version }}</td>
                            <td><a href=format!("/catalog/{}/impact", a.component.id)>"Downstream"</a></td>
                        </tr>
                    }).collect_view()}
                </tbody>
            </table>
        </section>
    }
}

/// The change's rollback plan, or the button that drafts the proposed one.
#[component]
fn RollbackPlan(change_id: i64, plan: Option<(i64, PlanStatus)>, can_draft: bool) -> impl IntoView {
    let draft = ServerAction::<DraftPlan>::new();
    let errors = FormErrors::of(draft);
    view! {
        <section class="panel" aria-labelledby="plan-heading">
            <h2 id="plan-heading">"Rollback plan"</h2>
            {match plan {
                Some((id, status)) => view! {
                    <p>{plan_badge(status)} " " <a href=format!("/plans/{id}")>"Open the rollback plan"</a></p>
                }.into_any(),
                None if can_draft => view! {
                    <p>"Rollgate proposes a plan from this change’s components and everything downstream of them, in dependency order. You can edit it before submitting it for approval."</p>
                    <ErrorNotice error=errors.general() />
                    <ActionForm action=draft>
                        <input type="hidden" name="change_id" value=change_id />
                        <button type="submit" class="button button--primary">"Draft the rollback plan"</button>
                    </ActionForm>
                }.into_any(),
                None => view! { <p>"No rollback plan yet. A requester can draft one."</p> }.into_any(),
            }}
        </section>
    }
}
