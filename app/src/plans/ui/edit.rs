//! The plan editor. One form holds every row; the buttons beside a row (move, own stage,
//! remove) submit it with their operation, so every edit is saved as a revision and all of it
//! works without JavaScript. With JavaScript the form is sent in the background (no reload)
//! and fields are checked as they are typed.

use leptos::prelude::*;
use leptos_router::hooks::use_params_map;

use crate::{
    auth::{ui::Authorized, CurrentUser, Permission},
    components::{ComponentPicker, ErrorNotice, FormErrors, PageHeader},
    error::AppError,
    error_template::loaded,
    plans::{
        api::{get_plan, AddPlanRow, SavePlan},
        form::{form_of, parse_check, row_field, RowForm},
        model::{Action, Retention, PREVIOUS},
        page::VersionOption,
    },
};

#[component]
pub fn EditPlanPage() -> impl IntoView {
    view! { <Authorized permission=Permission::PlanRollbacks children=|_: CurrentUser| view! { <EditPlan /> } /> }
}

#[component]
fn EditPlan() -> impl IntoView {
    let params = use_params_map();
    let save = ServerAction::<SavePlan>::new();
    let add = ServerAction::<AddPlanRow>::new();
    let id = move || params.with(|p| p.get("id").and_then(|id| id.parse::<i64>().ok()));
    // Reload after a successful save only, so a refused one keeps what was typed.
    let saved = move || {
        (
            save.value().get().and_then(|r| r.ok()),
            add.value().get().and_then(|r| r.ok()),
        )
    };
    let plan = Resource::new(
        move || (id(), saved()),
        |(id, _)| async move {
            match id {
                Some(id) => get_plan(id).await,
                None => Err(AppError::not_found("The plan")),
            }
        },
    );
    let errors = FormErrors::of(save);
    let add_errors = FormErrors::of(add);
    view! {
        <Transition fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move { loaded(async move {
                let p = plan.await?;
                if !p.rights.edit {
                    return Err(AppError::conflict(format!("This plan is {} and can no longer be edited.", p.status.label().to_lowercase())));
                }
                let form = form_of(&p.body);
                Ok::<_, AppError>(view! {
                    <PageHeader title=format!("Edit plan: {}", p.change_title)
                        lead=format!("Editing revision {}. Saving makes revision {}; in review, earlier approvals are voided and approvers asked again.", p.revision.number, p.revision.number + 1)>
                        <a class="button button--quiet" href=format!("/plans/{}", p.id)>"Back to the plan"</a>
                    </PageHeader>
                    <ErrorNotice error=errors.general() />
                    <ActionForm action=save attr:class="form plan-editor">
                        <input type="hidden" name="id" value=p.id />
                        <input type="hidden" name="base" value=p.revision.number />
                        <PlanFields form=form.clone() errors />
                        <h2>"Rows"</h2>
                        <p class="field__hint">"Rows run in stage order; rows restoring data must come after their upstream components. Change a row’s stage number to move it to another stage."</p>
                        {field_error(errors, "stages".to_string())}
                        {positions(&form.rows).into_iter().zip(form.rows.iter()).enumerate().map(|(i, (key, row))| {
                            let versions: Vec<VersionOption> = p.versions.iter().filter(|v| v.component_id == row.component_id).cloned().collect();
                            view! { <RowEditor i key row=row.clone() errors count=form.rows.len() versions /> }
                        }).collect_view()}
                        <div class="form__actions">
                            <button type="submit" name="op" value="save" class="button button--primary">"Save revision"</button>
                        </div>
                    </ActionForm>
                    <section class="panel">
                        <h2>"Add a row"</h2>
                        <ErrorNotice error=add_errors.general() />
                        <ActionForm action=add attr:class="form form--inline">
                            <input type="hidden" name="id" value=p.id />
                            <input type="hidden" name="base" value=p.revision.number />
                            <ComponentPicker label="Catalog component" name="component" hint="It is added as a new last stage; edit its action and move it." error=add_errors.field("component") />
                            <button type="submit" class="button">"Add row"</button>
                        </ActionForm>
                    </section>
                })
            }.await) })}
        </Transition>
    }
}

fn field_error(errors: FormErrors, field: String) -> impl IntoView {
    move || {
        errors.0.get().and_then(|e| match e {
            AppError::Validation { fields } => {
                let m: Vec<String> = fields
                    .iter()
                    .filter(|f| f.field == field)
                    .map(|f| f.message.clone())
                    .collect();
                (!m.is_empty())
                    .then(|| view! { <p class="field__error" role="alert">{m.join(" ")}</p> })
            }
            _ => None,
        })
    }
}

#[component]
fn PlanFields(form: crate::plans::form::PlanForm, errors: FormErrors) -> impl IntoView {
    let area = move |name: &'static str, label: &'static str, value: String, hint: &'static str| {
        let id = format!("plan-{name}");
        view! {
            <div class="field">
                <label class="field__label" for=id.clone()>{label}</label>
                {(!hint.is_empty()).then(|| view! { <p class="field__hint">{hint}</p> })}
                <textarea class="field__input" id=id name=format!("plan[{name}]") rows=2>{value}</textarea>
                {field_error(errors, name.to_string())}
            </div>
        }
    };
    view! {
        {area("reason", "Reason (required)", form.reason, "Why roll back: what went wrong and who is affected.")}
        {area("criteria", "Why roll back rather than fix forward", form.criteria, "")}
        {area("expected_impact", "Expected impact", form.expected_impact, "What consumers will see while the rollback runs.")}
        {area("expected_duration", "Expected duration", form.expected_duration, "e.g. 45 minutes")}
        {area("consumers", "Data consumers to notify", form.consumers, "Teams, dashboards, downstream systems.")}
        {area("communication", "Communication notes", form.communication, "")}
    }
}

/// The errors of the row at index `i`, found by its position in stage order.
fn row_errors(
    errors: FormErrors,
    key: (usize, usize),
    name: &'static str,
) -> Signal<Option<String>> {
    Signal::derive(move || {
        let field = row_field(key.0, key.1, name);
        errors.0.get().and_then(|e| match e {
            AppError::Validation { fields } => {
                let m: Vec<String> = fields
                    .iter()
                    .filter(|f| f.field == field)
                    .map(|f| f.message.clone())
                    .collect();
                (!m.is_empty()).then(|| m.join(" "))
            }
            _ => None,
        })
    })
}

fn check_checks(text: &str) -> Option<String> {
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .find_map(|l| parse_check(l).err())
}

fn check_params(text: &str) -> Option<String> {
    (!text.trim().is_empty()
        && !matches!(
            serde_json::from_str::<serde_json::Value>(text),
            Ok(serde_json::Value::Object(_))
        ))
    .then(|| "Parameters must be a JSON object, like {\"scope\": \"2026-11-01\"}.".to_string())
}

/// (stage, position in stage) of each row, counted from 1; rows arrive in stage order.
fn positions(rows: &[RowForm]) -> Vec<(usize, usize)> {
    let mut out = Vec::with_capacity(rows.len());
    let (mut stage, mut pos, mut last) = (0, 0, None);
    for row in rows {
        if last.as_deref() != Some(row.stage.as_str()) {
            stage += 1;
            pos = 0;
            last = Some(row.stage.clone());
        }
        pos += 1;
        out.push((stage, pos));
    }
    out
}

#[component]
fn RowEditor(
    i: usize,
    key: (usize, usize),
    row: RowForm,
    errors: FormErrors,
    count: usize,
    versions: Vec<VersionOption>,
) -> impl IntoView {
    let n = |f: &str| format!("plan[rows][{i}][{f}]");
    let fid = |f: &str| format!("row{i}-{f}");
    let err = move |f: &'static str| row_errors(errors, key, f);
    let action = RwSignal::new(row.action.clone());
    let detail_local = RwSignal::new(None::<String>);
    let checks_local = RwSignal::new(None::<String>);
    let detail_error = Signal::derive(move || detail_local.get().or_else(|| err("detail").get()));
    let checks_error = Signal::derive(move || checks_local.get().or_else(|| err("checks").get()));
    let text = move |f: &'static str, label: &'static str, value: String, required: bool| {
        let e = err(f);
        view! {
            <div class="field" class:field--invalid=move || e.get().is_some()>
                <label class="field__label" for=fid(f)>{label}{required.then_some(" (required)")}</label>
                <input class="field__input" id=fid(f) name=n(f) type="text" value=value aria-invalid=move || e.get().is_some().then_some("true") />
                {move || e.get().map(|m| view! { <p class="field__error">{m}</p> })}
            </div>
        }
    };
    let position_error = err("position");
    let component_error = err("component");
    view! {
        <fieldset class="plan-row" id=format!("row-{i}")>
            <legend>{format!("Row {} — {}", i + 1, row.component)}</legend>
            <input type="hidden" name=n("component_id") value=row.component_id />
            <input type="hidden" name=n("component") value=row.component.clone() />
            {move || position_error.get().map(|m| view! { <p class="field__error" role="alert">{m}</p> })}
            {move || component_error.get().map(|m| view! { <p class="field__error" role="alert">{m}</p> })}
            <div class="plan-row__grid">
                <div class="field">
                    <label class="field__label" for=fid("stage")>"Stage"</label>
                    <input class="field__input field__input--short" id=fid("stage") name=n("stage") type="number" min="1" value=row.stage.clone() />
                </div>
                {text("scope", "Scope", row.scope.clone(), true)}
                <div class="field">
                    <label class="field__label" for=fid("action")>"Action"</label>
                    <select class="field__input" id=fid("action") name=n("action") on:change=move |ev| action.set(event_target_value(&ev))>
                        {Action::KINDS.iter().map(|(k, label)| view! { <option value=*k selected=row.action == *k>{*label}</option> }).collect_view()}
                    </select>
                </div>
                {text("owner", "Owner", row.owner.clone(), true)}
            </div>
            <div class="field" class:field--invalid=move || detail_error.get().is_some()>
                <label class="field__label" for=fid("detail")>"Parameters (JSON) or instructions"</label>
                <p class="field__hint">{move || match action.get().as_str() {
                    "trigger_rollback" => "Sent to the rollback DAG as its conf, e.g. {\"from\": \"2026-11-19\"}.",
                    "manual" => "What the person does, step by step.",
                    _ => "Not needed for this action.",
                }}</p>
                <textarea class="field__input" id=fid("detail") name=n("detail") rows=2
                    on:change=move |ev| { let v = event_target_value(&ev); detail_local.set(if action.get_untracked() == "trigger_rollback" { check_params(&v) } else { None }) }>
                    {row.detail.clone()}
                </textarea>
                {move || detail_error.get().map(|m| view! { <p class="field__error">{m}</p> })}
            </div>
            <div class="field" class:field--invalid=move || checks_error.get().is_some()>
                <label class="field__label" for=fid("checks")>"Verification checks (one per line)"</label>
                <p class="field__hint">"run succeeded · row count 1000-1200 · row count = snapshot ID (ROWS) · checksum VALUE · custom NAME = VALUE"</p>
                <textarea class="field__input" id=fid("checks") name=n("checks") rows=2
                    on:change=move |ev| checks_local.set(check_checks(&event_target_value(&ev)))>
                    {row.checks.clone()}
                </textarea>
                {move || checks_error.get().map(|m| view! { <p class="field__error">{m}</p> })}
            </div>
            {text("flagging", "How reconciled data is flagged for consumers", row.flagging.clone(), false)}
            {text("deadline_minutes", "Deadline in minutes (empty: 2 h for a run, 24 h for a manual step)", row.deadline_minutes.clone(), false)}
            <div class="plan-row__grid">
                <TargetVersion i value=row.target_version.clone() versions error=err("target_version") />
                {if row.retention == "declared" {
                    view! {
                        <div class="field">
                            <span class="field__label">"Storage retention"</span>
                            <input type="hidden" name=n("retention") value="declared" />
                            <p>"As declared for the component in the catalog."</p>
                        </div>
                    }.into_any()
                } else {
                    view! {
                        <div class="field">
                            <label class="field__label" for=fid("retention")>"Storage retention"</label>
                            <select class="field__input" id=fid("retention") name=n("retention")>
                                {Retention::KINDS.iter().map(|(k, label)| view! { <option value=*k selected=row.retention == *k>{*label}</option> }).collect_view()}
                            </select>
                        </div>
                        {text("retention_hours", "Custom retention (hours)", row.retention_hours.clone(), false)}
                    }.into_any()
                }}
            </div>
            <div class="plan-row__actions" role="group" aria-label=format!("Move or remove row {}", i + 1)>
                <button type="submit" name="op" value=format!("up:{i}") class="button button--quiet" disabled=i == 0>"Move up"</button>
                <button type="submit" name="op" value=format!("down:{i}") class="button button--quiet" disabled=i + 1 == count>"Move down"</button>
                <button type="submit" name="op" value=format!("stage:{i}") class="button button--quiet">"Own stage"</button>
                <button type="submit" name="op" value=format!("remove:{i}") class="button button--danger">"Remove"</button>
            </div>
        </fieldset>
    }
}

/// The version a row restores: `previous`, or one of the component's last versions (suggested;
/// any snapshot id the storage knows is accepted).
#[component]
fn TargetVersion(
    i: usize,
    value: String,
    versions: Vec<VersionOption>,
    error: Signal<Option<String>>,
) -> impl IntoView {
    let id = format!("row{i}-target_version");
    let list = format!("row{i}-versions");
    let hint = match versions.first() {
        Some(v) => format!("Before the change: {}. Empty when the row restores no data version.", v.label),
        None => format!("`{PREVIOUS}` (the version before the one the change produced) or a snapshot id. Empty when the row restores no data version."),
    };
    view! {
        <div class="field" class:field--invalid=move || error.get().is_some()>
            <label class="field__label" for=id.clone()>"Restore to data version"</label>
            <p class="field__hint">{hint}</p>
            <input class="field__input" id=id name=format!("plan[rows][{i}][target_version]") type="text" value=value list=list.clone()
                aria-invalid=move || error.get().is_some().then_some("true") />
            <datalist id=list>
                <option value=PREVIOUS>"The version before the change"</option>
                {versions.into_iter().map(|v| view! { <option value=v.version>{v.label}</option> }).collect_view()}
            </datalist>
            {move || error.get().map(|m| view! { <p class="field__error">{m}</p> })}
        </div>
    }
}
