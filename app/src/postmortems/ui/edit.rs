//! The editor: each section with its guidance, the detection time, and why there are no items.

use leptos::prelude::*;
use leptos_router::hooks::use_params_map;

use crate::{
    auth::{ui::Authorized, CurrentUser, Permission},
    components::{ErrorNotice, Field, FormErrors, PageHeader, TextArea},
    error::AppError,
    error_template::loaded,
    postmortems::{
        api::{get_postmortem, SavePostmortem},
        model::{SECTIONS, SECTION_MAX},
    },
};

#[component]
pub fn EditPostmortemPage() -> impl IntoView {
    view! { <Authorized permission=Permission::WritePostmortems children=|_: CurrentUser| view! { <Editor /> } /> }
}

#[component]
fn Editor() -> impl IntoView {
    let params = use_params_map();
    let id = move || params.with(|p| p.get("id").and_then(|id| id.parse::<i64>().ok()));
    let page = Resource::new(id, |id| async move {
        get_postmortem(id.ok_or_else(|| AppError::not_found("The postmortem"))?).await
    });
    let save = ServerAction::<SavePostmortem>::new();
    let errors = FormErrors::of(save);
    view! {
        <Transition fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move { loaded(async move {
                let v = page.await?;
                let p = v.postmortem;
                Ok::<_, AppError>(view! {
                    <PageHeader title=format!("Edit the postmortem: {}", p.change_title)
                        lead=format!("Blameless: write about the system, not about people. Each section holds up to {SECTION_MAX} characters.") />
                    <p>{format!("Needed before review: {}. The rest is welcome but optional.", required_sections())}</p>
                    <ErrorNotice error=errors.general() />
                    {move || matches!(errors.0.get(), Some(AppError::Validation { .. })).then(|| view! {
                        <p class="notice notice--error" role="alert">"Please correct the fields marked below. Nothing was saved."</p>
                    })}
                    <ActionForm action=save attr:class="form">
                        <input type="hidden" name="id" value=p.id />
                        <input type="hidden" name="version" value=p.version />
                        {SECTIONS.iter().map(|s| view! {
                            <TextArea label=s.heading name=form_name(s.field) rows=if s.field == "summary" { 3 } else { 5 }
                                hint=s.guidance value=p.section(s.field).to_string() error=errors.field(s.field) />
                        }).collect_view()}
                        <Field label="Detected at (UTC)" name="postmortem[detected_at]" kind="datetime-local"
                            value=p.detected_at.map(|t| t.format("%Y-%m-%dT%H:%M").to_string()).unwrap_or_default()
                            hint="When it was noticed. Empty: the timeline entry you mark as detection." error=errors.field("detected_at") />
                        <Field label="Why no action items (only if there are none)" name="postmortem[no_actions_reason]"
                            value=p.no_actions_reason.clone().unwrap_or_default()
                            hint="A postmortem is published with action items, or with the reason it needs none." error=errors.field("no_actions_reason") />
                        <div class="form__actions">
                            <button type="submit" class="button button--primary">"Save"</button>
                            <a class="button button--quiet" href=format!("/postmortems/{}", p.id)>"Cancel"</a>
                        </div>
                    </ActionForm>
                })
            }.await) })}
        </Transition>
    }
}

fn required_sections() -> String {
    let names: Vec<String> = SECTIONS
        .iter()
        .filter(|s| s.required)
        .map(|s| s.heading.to_lowercase())
        .collect();
    names.join(", ")
}

/// The form name of a section's field (`postmortem[summary]` …), from a fixed list.
fn form_name(field: &'static str) -> &'static str {
    match field {
        "summary" => "postmortem[summary]",
        "impact" => "postmortem[impact]",
        "trigger" => "postmortem[trigger]",
        "detection" => "postmortem[detection]",
        "root_cause" => "postmortem[root_cause]",
        "contributing_factors" => "postmortem[contributing_factors]",
        "resolution" => "postmortem[resolution]",
        "went_well" => "postmortem[went_well]",
        "went_wrong" => "postmortem[went_wrong]",
        "got_lucky" => "postmortem[got_lucky]",
        _ => "postmortem[lessons]",
    }
}
