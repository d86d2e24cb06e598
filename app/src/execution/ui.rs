//! The execution page: stages and steps with their state, timings and evidence; operators'
//! controls for a halted or waiting step. Without JavaScript it shows the state when loaded with
//! a refresh link; hydrated, it asks every two seconds whether anything moved and reloads the
//! data when it did.

use leptos::prelude::*;
use leptos_router::hooks::{use_params_map, use_query_map};

use super::{
    api::{execution_version, get_execution, list_executions, OperateExecution},
    model::{EvidenceView, ExecutionPage as Page, JobStatus, JobSummary, StepState, StepView},
};
use crate::{
    auth::{ui::Authorized, CurrentUser, Permission},
    components::{EmptyState, ErrorNotice, FormErrors, PageHeader},
    error::AppError,
    error_template::loaded,
    plans::ui::when,
};

#[component]
pub fn ExecutionPage() -> impl IntoView {
    view! { <Authorized permission=Permission::Read children=|_: CurrentUser| view! { <Execution /> } /> }
}

#[component]
fn Execution() -> impl IntoView {
    let params = use_params_map();
    let id = move || params.with(|p| p.get("id").and_then(|id| id.parse::<i64>().ok()));
    let operate = ServerAction::<OperateExecution>::new();
    let moved = RwSignal::new(0u32);
    let page = Resource::new(
        move || (id(), operate.version().get(), moved.get()),
        |(id, _, _)| async move {
            let id = id.ok_or_else(|| AppError::not_found("The rollback"))?;
            let page = get_execution(id).await?;
            let told = crate::notifications::api::who_was_told("execution".into(), id)
                .await
                .unwrap_or_default();
            Ok::<_, AppError>((page, told))
        },
    );
    live_updates(id, page, moved);
    view! {
        <Transition fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move { loaded(async move {
                let (p, told) = page.await?;
                Ok::<_, AppError>(view! {
                    <PageHeader title=format!("Rollback of “{}”", p.change_title)
                        lead=format!("Execution #{} of plan #{}, revision {} (hash {})", p.id, p.plan_id, p.revision, short(&p.content_hash))>
                        <a class="button button--quiet" href=format!("/plans/{}", p.plan_id)>"The plan"</a>
                        <a class="button button--quiet" href=format!("/changes/{}", p.change_id)>"The change"</a>
                        <a class="button button--quiet" href=format!("/changes/{}#postmortem-heading", p.change_id)>"Postmortem"</a>
                    </PageHeader>
                    <crate::notifications::ui::ToldLine told />
                    <Status p=p.clone() operate />
                    {stages(&p).into_iter().map(|(stage, heading, steps)| view! {
                        <section class="panel" aria-labelledby=format!("stage-{stage}")>
                            <h2 id=format!("stage-{stage}")>{heading}</h2>
                            <ol class="steps">
                                {steps.into_iter().map(|s| view! { <Step s p=p.clone() operate /> }).collect_view()}
                            </ol>
                        </section>
                    }).collect_view()}
                })
            }.await) })}
        </Transition>
    }
}

/// Hydrated only: polls the version every two seconds while the job can still move.
fn live_updates(
    id: impl Fn() -> Option<i64> + Copy + Send + Sync + 'static,
    page: Resource<Result<(Page, Vec<crate::notifications::model::Told>), AppError>>,
    moved: RwSignal<u32>,
) {
    Effect::new(move |_| {
        let handle = set_interval_with_handle(
            move || {
                let Some(id) = id() else { return };
                let shown = page
                    .get_untracked()
                    .and_then(|r| r.ok())
                    .map(|(p, _)| (p.version.clone(), p.status));
                let Some((version, status)) = shown else {
                    return;
                };
                if matches!(status, JobStatus::Succeeded | JobStatus::Aborted) {
                    return;
                }
                leptos::task::spawn_local(async move {
                    if let Ok(now) = execution_version(id).await {
                        if now != version {
                            moved.update(|n| *n += 1);
                        }
                    }
                });
            },
            std::time::Duration::from_secs(2),
        );
        on_cleanup(move || {
            if let Ok(h) = handle {
                h.clear();
            }
        });
    });
}

/// The steps by stage, then the undo steps an abort added (id 0) in a section of their own.
fn stages(p: &Page) -> Vec<(i32, String, Vec<StepView>)> {
    let mut out: Vec<(i32, String, Vec<StepView>)> = Vec::new();
    for s in &p.steps {
        let stage = if s.is_undo { 0 } else { s.stage };
        match out.last_mut() {
            Some((at, _, list)) if *at == stage => list.push(s.clone()),
            _ => {
                let heading = match stage {
                    0 => "After the abort: undoing what it did".to_string(),
                    n => format!("Stage {n}"),
                };
                out.push((stage, heading, vec![s.clone()]))
            }
        }
    }
    out
}

fn short(hash: &str) -> String {
    hash.chars().take(12).collect()
}

fn job_badge(s: JobStatus) -> impl IntoView {
    let class = match s {
        JobStatus::Succeeded => "badge badge--ok",
        JobStatus::Halted | JobStatus::Aborting | JobStatus::Aborted => "badge badge--danger",
        _ => "badge",
    };
    view! { <span class=class>{s.label()}</span> }
}

fn step_badge(s: StepState) -> impl IntoView {
    let class = match s {
        StepState::Succeeded => "badge badge--ok",
        StepState::Failed => "badge badge--danger",
        StepState::Skipped | StepState::Pending => "badge badge--off",
        StepState::Running => "badge",
    };
    view! { <span class=class>{s.label()}</span> }
}

#[component]
fn Status(p: Page, operate: ServerAction<OperateExecution>) -> impl IntoView {
    let errors = FormErrors::of(operate);
    let done = p.steps.iter().filter(|s| s.state.is_done()).count();
    view! {
        <section class="panel" aria-label="Status">
            <p class="execution__status" aria-live="polite">
                {job_badge(p.status)} " "
                {format!("{done} of {} steps done.", p.steps.len())}
            </p>
            {(!p.reason.is_empty()).then(|| view! { <p class="notice notice--error">{p.reason.clone()}</p> })}
            <dl class="facts">
                {p.run_after.filter(|_| p.status == JobStatus::Scheduled).map(|t| view! { <dt>"Starts"</dt><dd>{when(t)}</dd> })}
                {p.started_at.map(|t| view! { <dt>"Started"</dt><dd>{when(t)}</dd> })}
                {p.finished_at.map(|t| view! { <dt>"Finished"</dt><dd>{when(t)}</dd> })}
            </dl>
            <ErrorNotice error=errors.general() />
            <p><a href=format!("/executions/{}", p.id)>"Refresh"</a></p>
            {p.controls.operate.then(|| view! {
                <details class="abort">
                    <summary>"Abort this rollback"</summary>
                    <ActionForm action=operate attr:class="form">
                        <input type="hidden" name="id" value=p.id />
                        <input type="hidden" name="operation" value="abort" />
                        <div class="field">
                            <label class="field__label" for="abort-note">"Why abort? (required; aborting is final)"</label>
                            <textarea class="field__input" id="abort-note" name="note" rows=2></textarea>
                            {move || errors.field("note").get().map(|m| view! { <p class="field__error">{m}</p> })}
                        </div>
                        <button type="submit" class="button button--danger">"Abort the rollback"</button>
                    </ActionForm>
                </details>
            })}
        </section>
    }
}

#[component]
fn Step(s: StepView, p: Page, operate: ServerAction<OperateExecution>) -> impl IntoView {
    let failed =
        s.state == StepState::Failed && p.status == JobStatus::Halted && p.controls.operate;
    let manual = s.state == StepState::Running
        && s.manual_instructions.is_some()
        && p.controls.complete_manual;
    let note_id = format!("note-{}", s.id);
    view! {
        <li class="step" class:step--check=s.is_check>
            <div class="step__head">
                <span class="step__title">{format!("{}. {}", s.position, s.title)}</span>
                " " <span class="step__component">{s.component.clone()}</span>
                " " {step_badge(s.state)}
            </div>
            {s.manual_instructions.clone().map(|i| view! { <p class="prose">{i}</p> })}
            {(!s.message.is_empty()).then(|| view! { <p class="step__message">{s.message.clone()}</p> })}
            <p class="step__times">
                {s.started_at.map(|t| format!("Started {}", when(t)))}
                {s.finished_at.map(|t| format!(" · finished {}", when(t)))}
                {s.remote_ref.clone().map(|r| format!(" · run {r}"))}
                {(s.retries > 0).then(|| format!(" · retried {} time(s)", s.retries))}
            </p>
            {(failed || manual).then(|| view! {
                <ActionForm action=operate attr:class="form form--inline">
                    <input type="hidden" name="id" value=p.id />
                    <input type="hidden" name="step_id" value=s.id />
                    <div class="field">
                        <label class="field__label" for=note_id.clone()>
                            {if manual { "Note (optional)" } else { "Reason (required to skip)" }}
                        </label>
                        <input class="field__input" id=note_id.clone() name="note" />
                    </div>
                    <div class="form__actions">
                        {manual.then(|| view! { <button type="submit" name="operation" value="complete" class="button button--primary">"Mark done"</button> })}
                        {failed.then(|| view! {
                            <button type="submit" name="operation" value="retry" class="button button--primary">"Retry the step"</button>
                            <button type="submit" name="operation" value="skip" class="button">"Skip the step"</button>
                        })}
                    </div>
                </ActionForm>
            })}
            {(!s.evidence.is_empty()).then(|| view! {
                <details class="evidence">
                    <summary>{format!("Evidence ({})", s.evidence.len())}</summary>
                    <ol>{s.evidence.into_iter().map(evidence).collect_view()}</ol>
                </details>
            })}
        </li>
    }
}

fn evidence(e: EvidenceView) -> impl IntoView {
    let head = match e.kind.as_str() {
        "http" => format!(
            "{} {} → {} in {} ms",
            e.method,
            e.url,
            e.status
                .map(|s| s.to_string())
                .unwrap_or_else(|| "no answer".into()),
            e.duration_ms
        ),
        _ => e.note.clone(),
    };
    view! {
        <li>
            <span class="evidence__at">{e.at.format("%H:%M:%S%.3f UTC").to_string()}</span> " " {head}
            {(e.kind == "http" && !e.note.is_empty()).then(|| view! { <p>{e.note.clone()}</p> })}
            {(!e.request_body.is_empty()).then(|| view! { <pre class="evidence__body" aria-label="Request body">{e.request_body.clone()}</pre> })}
            {(!e.response_body.is_empty()).then(|| view! { <pre class="evidence__body" aria-label="Response body">{e.response_body.clone()}</pre> })}
        </li>
    }
}

/// Rollbacks newest first, by status; halted ones are where operators are needed.
#[component]
pub fn ExecutionsPage() -> impl IntoView {
    view! { <Authorized permission=Permission::Read children=|_: CurrentUser| view! { <Executions /> } /> }
}

const STATUSES: [(&str, &str); 7] = [
    ("", "Any status"),
    ("scheduled", "Scheduled"),
    ("running", "Running"),
    ("halted", "Halted: needs an operator"),
    ("succeeded", "Rolled back"),
    ("aborting", "Aborting"),
    ("aborted", "Aborted"),
];

#[component]
fn Executions() -> impl IntoView {
    let query = use_query_map();
    let args = move || {
        query.with(|q| {
            (
                q.get("status").unwrap_or_default(),
                q.get("before").unwrap_or_default(),
            )
        })
    };
    let page = Resource::new(args, |(status, before)| list_executions(status, before));
    view! {
        <PageHeader title="Rollbacks".to_string() lead="Signed-off rollbacks and how far they got, newest first.".to_string() />
        <Transition fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move { loaded(async move {
                let p = page.await?;
                let status = args().0;
                Ok::<_, AppError>(view! {
                    <form class="filters" method="get" action="/executions" role="search" aria-label="Filter rollbacks">
                        <div class="field">
                            <label class="field__label" for="filter-status">"Status"</label>
                            <select class="field__input" id="filter-status" name="status">
                                {STATUSES.iter().map(|(v, l)| view! { <option value=*v selected=status == *v>{*l}</option> }).collect_view()}
                            </select>
                        </div>
                        <div class="filters__actions"><button class="button" type="submit">"Filter"</button></div>
                    </form>
                    {if p.jobs.is_empty() {
                        view! { <EmptyState title="No rollbacks here">
                            <p>"A rollback appears here when its plan is signed off."</p>
                        </EmptyState> }.into_any()
                    } else {
                        view! { <JobsTable jobs=p.jobs /> }.into_any()
                    }}
                    <nav class="pager" aria-label="Pages of rollbacks">
                        {p.older.map(|id| view! { <a href=format!("/executions?status={status}&before={id}")>"Older →"</a> })}
                    </nav>
                })
            }.await) })}
        </Transition>
    }
}

#[component]
fn JobsTable(jobs: Vec<JobSummary>) -> impl IntoView {
    view! {
        <table class="table">
            <caption class="visually-hidden">"Rollbacks"</caption>
            <thead><tr>
                <th scope="col">"Change"</th><th scope="col">"Status"</th><th scope="col">"Started"</th>
                <th scope="col">"Finished"</th><th scope="col">"Why it stopped"</th>
            </tr></thead>
            <tbody>
                {jobs.into_iter().map(|j| view! {
                    <tr>
                        <td><a href=format!("/executions/{}", j.id)>{j.change_title.clone()}</a></td>
                        <td>{job_badge(j.status)}</td>
                        <td>{j.started_at.or(j.run_after).map(when)}</td>
                        <td>{j.finished_at.map(when)}</td>
                        <td>{j.reason.clone()}</td>
                    </tr>
                }).collect_view()}
            </tbody>
        </table>
    }
}
