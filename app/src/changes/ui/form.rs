use leptos::prelude::*;
use leptos_router::hooks::use_params_map;

use super::kind_options;
use crate::{
    auth::{ui::Authorized, CurrentUser, Permission},
    changes::{
        api::{get_change, CreateChange, UpdateChange},
        model::{component_lines, git_sha, Change},
    },
    components::{ComponentPicker, ErrorNotice, Field, FormErrors, PageHeader, Select, TextArea},
    error::AppError,
    error_template::loaded,
    validate,
};

#[component]
pub fn NewChangePage() -> impl IntoView {
    view! { <Authorized permission=Permission::RecordChanges children=|_: CurrentUser| view! { <NewChange /> } /> }
}

#[component]
pub fn EditChangePage() -> impl IntoView {
    view! { <Authorized permission=Permission::RecordChanges children=|_: CurrentUser| view! { <EditChange /> } /> }
}

fn check_title(v: &str) -> Option<String> {
    validate::text("title", v, 200, true, false)
        .err()
        .map(|e| e.message)
}

fn check_sha(v: &str) -> Option<String> {
    git_sha(v).err().map(|e| e.message)
}

fn check_url(v: &str) -> Option<String> {
    (!v.trim().is_empty())
        .then(|| validate::url("url", v).err().map(|e| e.message))
        .flatten()
}

#[component]
fn NewChange() -> impl IntoView {
    let action = ServerAction::<CreateChange>::new();
    let form = FormErrors::of(action);
    view! {
        <PageHeader title="Record a change".to_string() lead="What was deployed, why, and which components it touched. Times are UTC.".to_string() />
        <ErrorNotice error=form.general() />
        <ActionForm action attr:class="form">
            <ChangeFields form change=None />
            <div class="form__actions">
                <button type="submit" class="button button--primary">"Record change"</button>
                <a class="button button--quiet" href="/changes">"Cancel"</a>
            </div>
        </ActionForm>
    }
}

#[component]
fn EditChange() -> impl IntoView {
    let params = use_params_map();
    let action = ServerAction::<UpdateChange>::new();
    let form = FormErrors::of(action);
    let id = move || params.with(|p| p.get("id").and_then(|id| id.parse::<i64>().ok()));
    let change = Resource::new(id, |id| async move {
        match id {
            Some(id) => get_change(id).await,
            None => Err(AppError::not_found("The change")),
        }
    });
    view! {
        <Transition fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move { loaded(async move {
                let c = change.await?;
                Ok::<_, AppError>(view! {
                    <PageHeader title=format!("Edit: {}", c.title) lead="Your edit is kept in the change’s history with the previous values.".to_string() />
                    <ErrorNotice error=form.general() />
                    <ActionForm action attr:class="form">
                        <input type="hidden" name="id" value=c.id />
                        <input type="hidden" name="version" value=c.version />
                        <ChangeFields form change=Some(c.clone()) />
                        <div class="form__actions">
                            <button type="submit" class="button button--primary">"Save change"</button>
                            <a class="button button--quiet" href=format!("/changes/{}", c.id)>"Cancel"</a>
                        </div>
                    </ActionForm>
                })
            }.await) })}
        </Transition>
    }
}

#[component]
fn ChangeFields(form: FormErrors, change: Option<Change>) -> impl IntoView {
    let c = change.as_ref();
    let text = |f: fn(&Change) -> String| c.map(f).unwrap_or_default();
    let link = |kind: &'static str| {
        c.and_then(|c| {
            c.links
                .iter()
                .find(|l| l.kind == kind)
                .map(|l| l.url.clone())
        })
        .unwrap_or_default()
    };
    let components_text = RwSignal::new(
        c.map(|c| component_lines(&c.components))
            .unwrap_or_default(),
    );
    // The component errors may name a line (`components[2]`); show them all under the box.
    let components_error = Signal::derive(move || {
        form.0.get().and_then(|e| match e {
            AppError::Validation { fields } => {
                let msgs: Vec<String> = fields
                    .iter()
                    .filter(|f| f.field.starts_with("components"))
                    .map(|f| f.message.clone())
                    .collect();
                (!msgs.is_empty()).then(|| msgs.join(" "))
            }
            _ => None,
        })
    });
    view! {
        <Field label="Title" name="change[title]" required=true autocomplete="off"
            hint="A short summary, e.g. “Orders transform v2: dedupe by order id”."
            value=text(|c| c.title.clone()) validate=check_title error=form.field("title") />
        <Select label="Kind" name="change[kind]" options=kind_options(false)
            selected=text(|c| c.kind.as_str().to_string()) error=form.field("kind") />
        <TextArea label="Why" name="change[why]" required=true rows=3
            hint="The reason for the change: what it fixes or adds."
            value=text(|c| c.why.clone()) error=form.field("why") />
        <Field label="Deployed at (UTC)" name="change[deployed_at]" kind="datetime-local"
            hint="Leave empty for now."
            value=text(|c| c.deployed_at.format("%Y-%m-%dT%H:%M").to_string()) error=form.field("deployed_at") />
        <Field label="Git commit (SHA)" name="change[git_sha]" autocomplete="off"
            hint="7 to 40 hexadecimal digits." validate=check_sha
            value=text(|c| c.git_sha.clone().unwrap_or_default()) error=form.field("git_sha") />
        <Field label="Git commit before the change" name="change[git_sha_before]" autocomplete="off"
            hint="The commit this change replaced, which a rollback restores. Leave empty to take it from the previous change."
            validate=check_sha
            value=text(|c| c.git_sha_before.clone().unwrap_or_default()) error=form.field("git_sha_before") />
        <Field label="Artifact reference" name="change[artifact_ref]" autocomplete="off"
            hint="An image tag, package version or build id, if any."
            value=text(|c| c.artifact_ref.clone().unwrap_or_default()) error=form.field("artifact_ref") />
        <Field label="Pull request link" name="change[pr_url]" kind="url" validate=check_url
            value=link("pr") error=form.field("pr_url") />
        <Field label="Ticket link" name="change[ticket_url]" kind="url" validate=check_url
            value=link("ticket") error=form.field("ticket_url") />
        <div class="field" class:field--invalid=move || components_error.get().is_some()>
            <label class="field__label" for="field-change[components]">
                "Affected components" <span class="field__required">" (required)"</span>
            </label>
            <p class="field__hint" id="field-change[components]-hint">
                "One catalog component per line. Add the data version the change produced where known, and the one it replaced: "
                <code>"analytics.orders | snap-8812 | snap-8811"</code> ". Without the version before, a rollback restores the one the previous change produced."
            </p>
            <textarea class="field__input" id="field-change[components]" name="change[components]" rows=4
                aria-describedby=move || if components_error.get().is_some() { "field-change[components]-hint field-change[components]-error" } else { "field-change[components]-hint" }
                aria-invalid=move || components_error.get().is_some().then_some("true")
                prop:value=move || components_text.get()
                on:input=move |ev| components_text.set(event_target_value(&ev))>
                {components_text.get_untracked()}
            </textarea>
            {move || components_error.get().map(|m| view! { <p class="field__error" id="field-change[components]-error">{m}</p> })}
        </div>
        <AddComponent components_text />
    }
}

/// With JavaScript: search the catalog and append the chosen component to the list above.
#[component]
fn AddComponent(components_text: RwSignal<String>) -> impl IntoView {
    let hydrated = RwSignal::new(false);
    Effect::new(move |_| hydrated.set(true));
    let chosen = RwSignal::new(String::new());
    let add = move |_| {
        let name = chosen.get_untracked().trim().to_string();
        if name.is_empty() {
            return;
        }
        components_text.update(|t| {
            if !t.trim().is_empty() && !t.ends_with('\n') {
                t.push('\n');
            }
            t.push_str(&name);
        });
        chosen.set(String::new());
    };
    view! {
        <Show when=move || hydrated.get()>
            <div class="picker" on:input=move |ev| chosen.set(event_target_value(&ev))>
                <ComponentPicker label="Find a component" name="picker" hint="Type part of a name, pick it, then add it." error=Signal::derive(|| None::<String>) />
                <button type="button" class="button" on:click=add>"Add to the list"</button>
            </div>
        </Show>
    }
}
