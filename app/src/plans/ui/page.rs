//! The plan page: status, the current revision and its hash, the rollback matrix, who must
//! sign off and who did, the decision form, the sign-off and its scheduled job, the revisions.

use leptos::prelude::*;

use crate::notifications::api::who_was_told;
use leptos_router::hooks::{use_params_map, use_query_map};

use super::{matrix::Matrix, status_badge, when};
use crate::{
    auth::{ui::Authorized, CurrentUser, Permission},
    components::{ErrorNotice, FormErrors, PageHeader, SuccessNotice},
    error::AppError,
    error_template::loaded,
    plans::{
        api::{get_plan, DecidePlan, SubmitPlan, WithdrawPlan},
        page::{Approval, DecisionView, PlanPage as Page, RevisionMeta, SignOff},
    },
};

#[component]
pub fn PlanPage() -> impl IntoView {
    view! { <Authorized permission=Permission::Read children=|_: CurrentUser| view! { <PlanDetail /> } /> }
}

fn saved_message(code: &str) -> Option<String> {
    Some(match code {
        "submitted" => {
            "Submitted for approval. The approvers of each required group see it in their inbox."
                .into()
        }
        "approved" => "Your approval is recorded.".into(),
        "rejected" => {
            "Your rejection is recorded; the requester can revise the plan and submit it again."
                .into()
        }
        "signed_off" => "Your approval completed the sign-off: the rollback is scheduled.".into(),
        "withdrawn" => "The plan was withdrawn. A new plan can be drafted from the change.".into(),
        n if n.parse::<i32>().is_ok() => format!("Saved as revision {n}."),
        _ => return None,
    })
}

#[component]
fn PlanDetail() -> impl IntoView {
    let params = use_params_map();
    let query = use_query_map();
    let id = move || params.with(|p| p.get("id").and_then(|id| id.parse::<i64>().ok()));
    let submit = ServerAction::<SubmitPlan>::new();
    let decide = ServerAction::<DecidePlan>::new();
    let plan = Resource::new(
        move || (id(), submit.version().get(), decide.version().get()),
        |(id, _, _)| async move {
            let id = id.ok_or_else(|| AppError::not_found("The plan"))?;
            let plan = get_plan(id).await?;
            // Who was told is a footnote: the page shows without it.
            let told = who_was_told("plan".into(), id).await.unwrap_or_default();
            Ok::<_, AppError>((plan, told))
        },
    );
    let saved = Signal::derive(move || {
        query
            .with(|q| q.get("saved"))
            .and_then(|c| saved_message(&c))
    });
    view! {
        <Transition fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move { loaded(async move {
                let (p, told) = plan.await?;
                Ok::<_, AppError>(view! {
                    <PageHeader title=format!("Rollback plan: {}", p.change_title) lead=format!("Plan #{} for change #{}", p.id, p.change_id)>
                        <a class="button button--quiet" href=format!("/changes/{}", p.change_id)>"The change"</a>
                        {p.rights.edit.then(|| view! { <a class="button" href=format!("/plans/{}/edit", p.id)>"Edit plan"</a> })}
                    </PageHeader>
                    <SuccessNotice message=saved />
                    <crate::notifications::ui::ToldLine told />
                    <DriftNotice p=p.clone() />
                    <Summary p=p.clone() />
                    <Standing p=p.clone() submit />
                    <section class="panel">
                        <h2>"Rollback matrix"</h2>
                        <Matrix body=p.body.clone() />
                    </section>
                    {(p.rights.decide || p.rights.decide_refusal.is_some()).then(|| view! { <Decide p=p.clone() decide /> })}
                    {p.rights.withdraw.then(|| view! { <Withdraw id=p.id /> })}
                    <Revisions id=p.id revisions=p.revisions.clone() />
                })
            }.await) })}
        </Transition>
    }
}

#[component]
fn Summary(p: Page) -> impl IntoView {
    let restorable = p.body.restorable_until().map(|(at, s, r, row)| {
        format!(
            "{} UTC (stage {s} row {r}, “{}”)",
            at.format("%Y-%m-%d %H:%M"),
            row.component
        )
    });
    let b = &p.body;
    let text = |t: &str| {
        if t.trim().is_empty() {
            "—".to_string()
        } else {
            t.to_string()
        }
    };
    view! {
        <dl class="facts">
            <dt>"Status"</dt><dd>{status_badge(p.status)}</dd>
            {p.end_reason.clone().map(|r| view! { <dt>"Withdrawn because"</dt><dd class="prose">{r}</dd> })}
            <dt>"Revision"</dt>
            <dd>{format!("{} by {}, {}", p.revision.number, p.revision.author, when(p.revision.created_at))}</dd>
            <dt>"Content hash"</dt><dd><code class="hash" title="SHA-256 of the revision's canonical JSON">{p.revision.content_hash.clone()}</code></dd>
            <dt>"Restorable until"</dt><dd>{restorable.unwrap_or_else(|| "No row restores a data version.".into())}</dd>
            <dt>"Reason"</dt><dd class="prose">{text(&b.reason)}</dd>
            <dt>"Why roll back, not fix forward"</dt><dd class="prose">{text(&b.criteria)}</dd>
            <dt>"Expected impact"</dt><dd class="prose">{text(&b.expected_impact)}</dd>
            <dt>"Expected duration"</dt><dd>{text(&b.expected_duration)}</dd>
            <dt>"Consumers to notify"</dt><dd class="prose">{text(&b.consumers)}</dd>
            <dt>"Communication"</dt><dd class="prose">{text(&b.communication)}</dd>
        </dl>
    }
}

/// The approver's form, after the matrix: read the plan, then decide.
#[component]
fn Decide(p: Page, decide: ServerAction<DecidePlan>) -> impl IntoView {
    let decide_errors = FormErrors::of(decide);
    view! {
        <section class="panel" aria-label="Your decision">
            {p.rights.decide_refusal.clone().map(|m| view! { <p class="notice">{m}</p> })}
            <ErrorNotice error=decide_errors.general() />
            {p.rights.renew.then(|| view! {
                <p class="notice">"Your approval of this revision expired before the plan was signed off. Approve again to renew it."</p>
            })}
            {p.rights.decide.then(|| view! {
                <ActionForm action=decide attr:class="form decide">
                    <h3>{format!("Your decision on revision {}", p.revision.number)}</h3>
                    <input type="hidden" name="id" value=p.id />
                    <input type="hidden" name="revision" value=p.revision.number />
                    <input type="hidden" name="content_hash" value=p.revision.content_hash.clone() />
                    <input type="hidden" name="request_key" value=p.request_key.clone() />
                    <div class="field">
                        <label class="field__label" for="decision-reason">"Reason (required to reject)"</label>
                        <textarea class="field__input" id="decision-reason" name="reason" rows=2></textarea>
                        {move || decide_errors.field("reason").get().map(|m| view! { <p class="field__error">{m}</p> })}
                    </div>
                    <div class="form__actions">
                        <button type="submit" name="decision" value="approve" class="button button--primary">"Approve"</button>
                        <button type="submit" name="decision" value="reject" class="button button--danger">"Reject"</button>
                    </div>
                </ActionForm>
            })}
        </section>
    }
}

/// Approval standing, decisions, and the requester's submit form.
#[component]
fn Standing(p: Page, submit: ServerAction<SubmitPlan>) -> impl IntoView {
    let submit_errors = FormErrors::of(submit);
    view! {
        <section class="panel" aria-labelledby="approval-heading">
            <h2 id="approval-heading">"Approval"</h2>
            {p.sign_off.clone().map(|s| view! { <SignedOff s /> })}
            {match p.approval.clone() {
                Some(a) => view! { <Groups a /> }.into_any(),
                None => view! { <p>"Not submitted yet. When the plan is ready, the requester submits it for approval."</p> }.into_any(),
            }}
            <ErrorNotice error=submit_errors.general() />
            <NotReady errors=submit_errors id=p.id />
            {p.rights.submit.then(|| view! {
                <ActionForm action=submit attr:class="form form--inline">
                    <input type="hidden" name="id" value=p.id />
                    <input type="hidden" name="revision" value=p.revision.number />
                    <details class="break-glass">
                        <summary>"Emergency: start outside the maintenance windows (break-glass)"</summary>
                        <div class="field">
                            <label class="field__label" for="break_glass_reason">"Emergency reason"</label>
                            <p class="field__hint" id="break_glass_reason-hint">"Only if the rollback cannot wait for the next window. One extra approval from the break-glass group is then needed."</p>
                            <textarea class="field__input" id="break_glass_reason" name="break_glass_reason" rows=2 aria-describedby="break_glass_reason-hint"></textarea>
                            {move || submit_errors.field("break_glass_reason").get().map(|m| view! { <p class="field__error">{m}</p> })}
                        </div>
                    </details>
                    <button type="submit" class="button button--primary">{format!("Submit revision {} for approval", p.revision.number)}</button>
                </ActionForm>
            })}
            <Decisions decisions=p.decisions.clone() />
        </section>
    }
}

#[component]
fn SignedOff(s: SignOff) -> impl IntoView {
    let start = match s.run_after {
        Some(t) if t <= s.signed_at => "as soon as the worker picks it up".to_string(),
        Some(t) => format!("at {} (the next maintenance window)", when(t)),
        None => "when an admin opens a maintenance window (none in the next year)".to_string(),
    };
    view! {
        <div class="notice notice--success" role="status">
            <strong>{format!("Signed off {}", when(s.signed_at))}</strong>
            {format!(" — revision {}{}. Rollback job #{} ({}) starts {start}.", s.revision,
                if s.break_glass { ", break-glass" } else { "" }, s.execution_id, s.execution_status)}
            " " <a href=format!("/executions/{}", s.execution_id)>"Follow the rollback"</a>
        </div>
    }
}

#[component]
fn Groups(a: Approval) -> impl IntoView {
    view! {
        <p>{format!("Policy “{}”, submitted {}. Approvals count for {} hours.", a.policy, when(a.submitted_at), a.expiry_hours)}</p>
        {a.break_glass_reason.clone().map(|r| view! { <p class="notice">"Break-glass requested: " {r}</p> })}
        <table class="table">
            <caption class="visually-hidden">"Required approvals by group"</caption>
            <thead><tr><th scope="col">"Group"</th><th scope="col">"Needed"</th><th scope="col">"Approved by"</th><th scope="col">"Standing"</th></tr></thead>
            <tbody>
                {a.groups.into_iter().map(|g| {
                    let done = g.approvers.len() as u32 >= g.needed;
                    let who = if g.approvers.is_empty() { "—".to_string() } else { g.approvers.join(", ") };
                    view! {
                        <tr>
                            <td>{g.group.clone()}{g.break_glass.then_some(" (break-glass)")}</td>
                            <td>{g.needed}</td>
                            <td>{who}</td>
                            <td>{if done { view! { <span class="badge badge--ok">"Complete"</span> }.into_any() }
                                 else { view! { <span class="badge">{format!("{} more", g.needed - g.approvers.len() as u32)}</span> }.into_any() }}</td>
                        </tr>
                    }
                }).collect_view()}
            </tbody>
        </table>
        <p class="muted">{match (a.windows.is_empty(), a.next_start) {
            (true, _) => "No maintenance windows: a signed-off rollback may start at once.".to_string(),
            (false, Some(t)) => format!("Maintenance windows: a sign-off now would start {}.", when(t)),
            (false, None) => "Maintenance windows: none opens in the next year.".to_string(),
        }}</p>
    }
}

#[component]
fn Decisions(decisions: Vec<DecisionView>) -> impl IntoView {
    (!decisions.is_empty()).then(|| view! {
        <h3>"Decisions"</h3>
        <ul class="decisions">
            {decisions.into_iter().map(|d| {
                let verb = if d.approve { "approved" } else { "rejected" };
                let group = d.group.clone().map(|g| format!(" for {g}")).unwrap_or_default();
                let voided = d.void_reason.is_some();
                view! {
                    <li class:decision--voided=voided>
                        <strong>{d.approver.clone()}</strong>
                        {format!(" {verb} revision {}{group}, {}", d.revision, when(d.decided_at))}
                        {(!d.reason.is_empty()).then(|| view! { <q>{d.reason.clone()}</q> })}
                        {d.void_reason.clone().map(|why| view! { <span class="badge badge--off">"No longer counts"</span> " " {why} })}
                    </li>
                }
            }).collect_view()}
        </ul>
    })
}

#[component]
fn Revisions(id: i64, revisions: Vec<RevisionMeta>) -> impl IntoView {
    let latest = revisions.first().map(|r| r.number).unwrap_or(1);
    view! {
        <section class="panel">
            <h2>"Revisions"</h2>
            <table class="table">
                <caption class="visually-hidden">"Revisions of this plan, newest first"</caption>
                <thead><tr><th scope="col">"Revision"</th><th scope="col">"By"</th><th scope="col">"Saved"</th><th scope="col">"Content hash"</th><th scope="col">"Compare"</th></tr></thead>
                <tbody>
                    {revisions.iter().map(|r| view! {
                        <tr>
                            <td>{r.number}</td>
                            <td>{r.author.clone()}</td>
                            <td>{when(r.created_at)}</td>
                            <td><code class="hash">{r.content_hash[..12.min(r.content_hash.len())].to_string()}"…"</code></td>
                            <td>{(r.number != latest).then(|| view! {
                                <a href=format!("/plans/{id}/compare?a={}&b={latest}", r.number)>{format!("with revision {latest}")}</a>
                            })}</td>
                        </tr>
                    }).collect_view()}
                </tbody>
            </table>
        </section>
    }
}

/// Rows whose connector or DAG ids changed in the catalog since this revision was saved.
#[component]
fn DriftNotice(p: Page) -> impl IntoView {
    (!p.drift.is_empty()).then(|| {
        let (title, lead) = if p.status.editable() {
            ("Bindings changed since this revision was saved", "Approvals cover the bindings shown in the matrix. Save the plan again to take the catalog's new ones (approvers are then asked again).")
        } else {
            ("Bindings changed since approval", "Execution uses the approved bindings shown in the matrix, not the catalog's new ones.")
        };
        view! {
            <div class="notice notice--warning drift" role="status">
                <strong>{title}</strong>
                <p>{lead}</p>
                <ul>
                    {p.drift.iter().map(|d| view! { <li>{format!("{} `{}`: {}", d.at, d.component, d.what)}</li> }).collect_view()}
                </ul>
            </div>
        }
    })
}

/// Why submitting was refused, one line per gap, with the way to the editor.
#[component]
fn NotReady(errors: FormErrors, id: i64) -> impl IntoView {
    move || {
        errors.0.get().and_then(|e| match e {
            AppError::Validation { fields } => Some(view! {
                <div class="notice notice--error" role="alert">
                    <strong>"The plan cannot be submitted yet:"</strong>
                    <ul>{fields.into_iter().map(|f| view! { <li>{f.message}</li> }).collect_view()}</ul>
                    <p><a href=format!("/plans/{id}/edit")>"Edit the plan"</a></p>
                </div>
            }),
            _ => None,
        })
    }
}

/// Withdrawing a plan that will not be signed off (the change can then get a new plan).
#[component]
fn Withdraw(id: i64) -> impl IntoView {
    let withdraw = ServerAction::<WithdrawPlan>::new();
    let errors = FormErrors::of(withdraw);
    view! {
        <section class="panel" aria-labelledby="withdraw-heading">
            <h2 id="withdraw-heading">"Withdraw the plan"</h2>
            <ErrorNotice error=errors.general() />
            <ActionForm action=withdraw attr:class="form">
                <input type="hidden" name="id" value=id />
                <div class="field" class:field--invalid=move || errors.field("reason").get().is_some()>
                    <label class="field__label" for="withdraw-reason">"Why withdraw it (required)"</label>
                    <p class="field__hint" id="withdraw-reason-hint">"Approvals are voided; the plan stays in the change’s history and a new one can be drafted."</p>
                    <textarea class="field__input" id="withdraw-reason" name="reason" rows=2 aria-describedby="withdraw-reason-hint"></textarea>
                    {move || errors.field("reason").get().map(|m| view! { <p class="field__error">{m}</p> })}
                </div>
                <div class="form__actions">
                    <button type="submit" class="button button--danger">"Withdraw the plan"</button>
                </div>
            </ActionForm>
        </section>
    }
}
