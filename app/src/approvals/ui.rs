//! Approval policies (admins): who signs off, how long approvals last, maintenance windows and
//! the break-glass group. One form at a time: a new policy, or the one named by `?edit=ID`.

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

use super::{
    api::{list_policies, SavePolicy},
    policy::{format_windows, Policy, Scope},
};
use crate::{
    auth::{ui::Authorized, CurrentUser, Permission},
    components::{ErrorNotice, FormErrors, PageHeader, SuccessNotice},
    error::AppError,
    error_template::loaded,
};

#[component]
pub fn PoliciesPage() -> impl IntoView {
    view! { <Authorized permission=Permission::ManagePolicies children=|_: CurrentUser| view! { <Policies /> } /> }
}

#[component]
fn Policies() -> impl IntoView {
    let save = ServerAction::<SavePolicy>::new();
    let errors = FormErrors::of(save);
    let query = use_query_map();
    let editing = move || query.with(|q| q.get("edit").and_then(|v| v.parse::<i64>().ok()));
    let data = Resource::new(
        move || save.value().get().and_then(|r| r.ok()),
        |_| list_policies(),
    );
    let saved = Signal::derive(move || {
        query.with(|q| q.get("saved")).map(|_| "Policy saved. New submissions use it; plans already submitted keep the policy they were submitted under.".to_string())
    });
    view! {
        <PageHeader title="Approval policies".to_string() lead="Which groups sign off a rollback plan, for how long an approval counts, and when rollbacks may start.".to_string() />
        <SuccessNotice message=saved />
        <Transition fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move { loaded(async move {
                let (policies, groups) = data.await?;
                let edit = editing().and_then(|id| policies.iter().find(|p| p.id == id).cloned());
                Ok::<_, AppError>(view! {
                    <div class="cards">
                        {policies.into_iter().map(|p| view! { <PolicyCard p /> }).collect_view()}
                    </div>
                    <section class="panel">
                        <h2>{if edit.is_some() { "Edit policy" } else { "New policy" }}</h2>
                        <ErrorNotice error=errors.general() />
                        <PolicyForm policy=edit groups save errors />
                    </section>
                })
            }.await) })}
        </Transition>
    }
}

#[component]
fn PolicyCard(p: Policy) -> impl IntoView {
    let windows = format_windows(&p.windows);
    view! {
        <article class="card" aria-labelledby=format!("policy-{}", p.id)>
            <h2 id=format!("policy-{}", p.id)>{p.name.clone()}</h2>
            <p class="muted">{p.scope.describe()}</p>
            <ul class="plain">
                {p.requirements.iter().map(|r| view! { <li>{format!("{} approval{} from {}", r.count, if r.count == 1 { "" } else { "s" }, r.group)}</li> }).collect_view()}
            </ul>
            <p>{format!("Approvals count for {} hours.", p.expiry_hours)}</p>
            <p>{if windows.is_empty() { "No maintenance windows: rollbacks may start at once.".to_string() } else { "Windows:".to_string() }}</p>
            {(!windows.is_empty()).then(|| view! { <pre class="windows">{windows.clone()}</pre> })}
            <p>{match &p.break_glass { Some((_, g)) => format!("Break-glass: one extra approval from {g}."), None => "No break-glass.".into() }}</p>
            <a class="button button--quiet" href=format!("/admin/policies?edit={}", p.id)>"Edit"</a>
        </article>
    }
}

#[component]
fn PolicyForm(
    policy: Option<Policy>,
    groups: Vec<String>,
    save: ServerAction<SavePolicy>,
    errors: FormErrors,
) -> impl IntoView {
    let editing = policy.is_some();
    let p = policy.as_ref();
    let (id, version) = (
        p.map(|p| p.id).unwrap_or(0),
        p.map(|p| p.version).unwrap_or(0),
    );
    let name = p.map(|p| p.name.clone()).unwrap_or_default();
    let expiry = p.map(|p| p.expiry_hours).unwrap_or(24);
    let windows = p.map(|p| format_windows(&p.windows)).unwrap_or_default();
    let (scope, scope_value) = match p.map(|p| &p.scope) {
        Some(Scope::Tag(t)) => ("tag", t.clone()),
        Some(Scope::Pipeline(n)) => ("pipeline", n.clone()),
        _ => ("default", String::new()),
    };
    let requirements = p
        .map(|p| {
            p.requirements
                .iter()
                .map(|r| format!("{}: {}", r.group, r.count))
                .collect::<Vec<_>>()
                .join("\n")
        })
        .unwrap_or_else(|| "Product: 1\nData governance: 1\nEngineering: 1".into());
    let break_glass = p
        .and_then(|p| p.break_glass.clone())
        .map(|b| b.1)
        .unwrap_or_default();
    let err = move |f: &'static str| {
        move || {
            errors
                .field(f)
                .get()
                .map(|m| view! { <p class="field__error" id=format!("policy-{f}-error")>{m}</p> })
        }
    };
    view! {
        <ActionForm action=save attr:class="form">
            <input type="hidden" name="policy[id]" value=id />
            <input type="hidden" name="policy[version]" value=version />
            <div class="field">
                <label class="field__label" for="policy-name">"Name (required)"</label>
                <input class="field__input" id="policy-name" name="policy[name]" type="text" value=name />
                {err("name")}
            </div>
            <div class="field">
                <label class="field__label" for="policy-scope">"Applies to"</label>
                <select class="field__input" id="policy-scope" name="policy[scope]">
                    <option value="default" selected=scope == "default">"Every plan no other policy covers (default)"</option>
                    <option value="tag" selected=scope == "tag">"Plans touching components with a tag"</option>
                    <option value="pipeline" selected=scope == "pipeline">"Plans touching a pipeline (job component)"</option>
                </select>
                {err("scope")}
            </div>
            <div class="field">
                <label class="field__label" for="policy-scope-value">"Tag or pipeline name"</label>
                <input class="field__input" id="policy-scope-value" name="policy[scope_value]" type="text" value=scope_value />
                {err("scope_value")}
            </div>
            <div class="field">
                <label class="field__label" for="policy-requirements">"Required approvals (one group per line)"</label>
                <p class="field__hint">{format!("Write `Group: number`. Groups: {}.", groups.join(", "))}</p>
                <textarea class="field__input" id="policy-requirements" name="policy[requirements]" rows=3>{requirements}</textarea>
                {err("requirements")}
            </div>
            <div class="field">
                <label class="field__label" for="policy-expiry">"Approvals count for (hours)"</label>
                <input class="field__input field__input--short" id="policy-expiry" name="policy[expiry_hours]" type="number" min="1" max="8760" value=expiry />
                {err("expiry_hours")}
            </div>
            <div class="field">
                <label class="field__label" for="policy-windows">"Maintenance windows and blackouts (one per line)"</label>
                <p class="field__hint">"e.g. `weekly Sat 02:00-06:00 Europe/Berlin`, `once 2026-12-24 22:00 to 2026-12-25 04:00 UTC`, `blackout 2026-12-31 00:00 to 2027-01-02 00:00 UTC`. Empty: any time."</p>
                <textarea class="field__input" id="policy-windows" name="policy[windows]" rows=3>{windows}</textarea>
                {err("windows")}
            </div>
            <div class="field">
                <label class="field__label" for="policy-break-glass">"Break-glass group"</label>
                <p class="field__hint">"Outside a window, a rollback starts only with an emergency reason and one extra approval from this group. Empty: no break-glass."</p>
                <input class="field__input" id="policy-break-glass" name="policy[break_glass_group]" type="text" list="policy-groups" value=break_glass />
                <datalist id="policy-groups">{groups.iter().map(|g| view! { <option value=g.clone() /> }).collect_view()}</datalist>
                {err("break_glass_group")}
            </div>
            <div class="form__actions">
                <button type="submit" class="button button--primary">"Save policy"</button>
                {editing.then(|| view! { <a class="button button--quiet" href="/admin/policies">"Cancel"</a> })}
            </div>
        </ActionForm>
    }
}
