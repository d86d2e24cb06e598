use leptos::prelude::*;
use leptos_router::hooks::{use_params_map, use_query_map};

use super::status_badge;
use crate::{
    audit::{api::entity_history, history::History},
    auth::{ui::Authorized, CurrentUser, Permission},
    changes::{
        api::{get_change, FixForward as FixForwardAction},
        model::{Change, ChangeStatus},
    },
    components::{ErrorNotice, FormErrors, PageHeader, SuccessNotice},
    error::AppError,
    error_template::loaded,
    plans::{
        api::{plans_of_change, DraftPlan},
        model::PlanStatus,
        page::PlanOfChange,
        ui::status_badge as plan_badge,
    },
    postmortems::ui::PostmortemPanel,
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
                let plans = plans_of_change(id).await?;
                let postmortem = crate::postmortems::api::postmortem_of_change(id).await?;
                Ok((c, history, plans, postmortem))
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
                "closed" => Some("Change closed as fixed forward.".to_string()),
                _ => None,
            })
    });
    let edit = user.can(Permission::RecordChanges);
    let draft = user.can(Permission::PlanRollbacks);
    let write_postmortem = user.can(Permission::WritePostmortems);
    view! {
        <Transition fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move { loaded(async move {
                let (c, history, plans, postmortem) = change.await?;
                Ok::<_, AppError>(view! {
                    <PageHeader title=c.title.clone() lead=format!("Change #{} · {}", c.id, c.kind.label())>
                        {edit.then(|| view! { <a class="button" href=format!("/changes/{}/edit", c.id)>"Edit"</a> })}
                    </PageHeader>
                    <SuccessNotice message=saved />
                    <Facts c=c.clone() />
                    <RollbackPlan change_id=c.id status=c.status plans=plans.clone() can_draft=draft />
                    {(edit && closable(c.status, &plans)).then(|| view! { <FixForward change_id=c.id /> })}
                    <PostmortemPanel change_id=c.id postmortem can_write=write_postmortem />
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
            <dt>"Git commit before"</dt><dd><code>{dash(c.git_sha_before.clone())}</code></dd>
            <dt>"Artifact"</dt><dd>{dash(c.artifact_ref.clone())}</dd>
            <dt>"Links"</dt>
            <dd>{if c.links.is_empty() { view! { "—" }.into_any() } else {
                view! { <ul class="plain">{c.links.iter().map(|l| {
                    let label = match l.kind.as_str() { "pr" => "Pull request", "ticket" => "Ticket", _ => "Link" };
                    view! { <li>{label} ": " <a href=l.url.clone() rel="noopener noreferrer">{l.url.clone()}</a></li> }
                }).collect_view()}</ul> }.into_any()
            }}</dd>
            <dt>"Recorded"</dt><dd>{c.created_at.format("%Y-%m-%d %H:%M UTC").to_string()}</dd>
            {c.closed.clone().map(|x| view! {
                <dt>"Fixed forward"</dt>
                <dd class="prose">{x.reason}{x.link.map(|l| view! { " — " <a href=l.clone() rel="noopener noreferrer">{l.clone()}</a> })}</dd>
            })}
        </dl>
        <section class="panel">
            <h2>"Affected components"</h2>
            <table class="table">
                <caption class="visually-hidden">"Affected components and the data versions produced"</caption>
                <thead><tr><th scope="col">"Component"</th><th scope="col">"Kind"</th><th scope="col">"Data version produced"</th><th scope="col">"Version before"</th><th scope="col">"Impact"</th></tr></thead>
                <tbody>
                    {c.components.into_iter().map(|a| view! {
                        <tr>
                            <td><a href=format!("/catalog/{}", a.component.id)>{a.component.name.clone()}</a></td>
                            <td>{a.component.kind.label()}</td>
                            <td>{if a.data_version.is_empty() { "—".to_string() } else { a.data_version }}</td>
                            <td>{if a.data_version_before.is_empty() { "—".to_string() } else { a.data_version_before }}</td>
                            <td><a href=format!("/catalog/{}/impact", a.component.id)>"Downstream"</a></td>
                        </tr>
                    }).collect_view()}
                </tbody>
            </table>
        </section>
    }
}

/// The change's rollback plans (the open one first, then earlier ones withdrawn or aborted),
/// and the button that drafts a proposed plan when none is open.
#[component]
fn RollbackPlan(
    change_id: i64,
    status: ChangeStatus,
    plans: Vec<PlanOfChange>,
    can_draft: bool,
) -> impl IntoView {
    let draft = ServerAction::<DraftPlan>::new();
    let errors = FormErrors::of(draft);
    let open = plans.iter().find(|p| is_open(p.status)).cloned();
    let earlier: Vec<PlanOfChange> = plans
        .iter()
        .filter(|p| !is_open(p.status))
        .cloned()
        .collect();
    let plannable = matches!(
        status,
        ChangeStatus::Recorded | ChangeStatus::RollbackPlanned | ChangeStatus::RollbackFailed
    );
    let label = if earlier.is_empty() {
        "Draft the rollback plan"
    } else {
        "Draft a new rollback plan"
    };
    view! {
        <section class="panel" aria-labelledby="plan-heading">
            <h2 id="plan-heading">"Rollback plan"</h2>
            {match open {
                Some(p) => view! {
                    <p>{plan_badge(p.status)} " " <a href=format!("/plans/{}", p.id)>"Open the rollback plan"</a></p>
                }.into_any(),
                None if can_draft && plannable => view! {
                    <p>"Rollgate proposes a plan from this change’s components and everything downstream of them, in dependency order. You can edit it before submitting it for approval."</p>
                    <ErrorNotice error=errors.general() />
                    <ActionForm action=draft>
                        <input type="hidden" name="change_id" value=change_id />
                        <button type="submit" class="button button--primary">{label}</button>
                    </ActionForm>
                }.into_any(),
                None if plannable => view! { <p>"No open rollback plan. A requester can draft one."</p> }.into_any(),
                None => view! { <p>"No rollback plan is open."</p> }.into_any(),
            }}
            {(!earlier.is_empty()).then(|| view! {
                <h3>"Earlier plans"</h3>
                <ul class="plain">
                    {earlier.into_iter().map(|p| view! {
                        <li>
                            <a href=format!("/plans/{}", p.id)>{format!("Plan #{}", p.id)}</a> " " {plan_badge(p.status)}
                            {p.end_reason.map(|r| view! { <span class="muted">{format!(" — {r}")}</span> })}
                        </li>
                    }).collect_view()}
                </ul>
            })}
        </section>
    }
}

fn is_open(status: PlanStatus) -> bool {
    !matches!(status, PlanStatus::Aborted | PlanStatus::Withdrawn)
}

/// A change may be closed as fixed forward unless a rollback is signed off, running or done.
fn closable(status: ChangeStatus, plans: &[PlanOfChange]) -> bool {
    let running = plans
        .iter()
        .any(|p| is_open(p.status) && !p.status.editable());
    !running
        && matches!(
            status,
            ChangeStatus::Recorded | ChangeStatus::RollbackPlanned | ChangeStatus::RollbackFailed
        )
}

/// Closing the change without a rollback: why, and where the forward fix is.
#[component]
fn FixForward(change_id: i64) -> impl IntoView {
    let close = ServerAction::<FixForwardAction>::new();
    let errors = FormErrors::of(close);
    view! {
        <section class="panel" aria-labelledby="fix-forward-heading">
            <h2 id="fix-forward-heading">"Fixed forward instead?"</h2>
            <details>
                <summary>"Close this change without a rollback"</summary>
                <ErrorNotice error=errors.general() />
                <ActionForm action=close attr:class="form">
                    <input type="hidden" name="id" value=change_id />
                    <div class="field" class:field--invalid=move || errors.field("reason").get().is_some()>
                        <label class="field__label" for="fix-reason">"What fixed it (required)"</label>
                        <p class="field__hint" id="fix-reason-hint">"An open plan that is not signed off is withdrawn with this reason."</p>
                        <textarea class="field__input" id="fix-reason" name="reason" rows=2 aria-describedby="fix-reason-hint"></textarea>
                        {move || errors.field("reason").get().map(|m| view! { <p class="field__error">{m}</p> })}
                    </div>
                    <div class="field" class:field--invalid=move || errors.field("link").get().is_some()>
                        <label class="field__label" for="fix-link">"Link to the fix (pull request, ticket)"</label>
                        <input class="field__input" id="fix-link" name="link" type="url" />
                        {move || errors.field("link").get().map(|m| view! { <p class="field__error">{m}</p> })}
                    </div>
                    <div class="form__actions">
                        <button type="submit" class="button">"Close as fixed forward"</button>
                    </div>
                </ActionForm>
            </details>
        </section>
    }
}
