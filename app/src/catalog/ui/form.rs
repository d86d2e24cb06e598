use leptos::prelude::*;
use leptos_router::hooks::use_params_map;

use super::kind_options;
use crate::{
    auth::{ui::Authorized, CurrentUser, Permission},
    catalog::{
        api::{get_component, CreateComponent, UpdateComponent},
        model::{component_name, Component},
    },
    components::{ErrorNotice, Field, FormErrors, PageHeader, Select, TextArea},
    error::AppError,
    error_template::loaded,
};

#[component]
pub fn NewComponentPage() -> impl IntoView {
    view! { <Authorized permission=Permission::EditCatalog children=|_: CurrentUser| view! { <NewComponent /> } /> }
}

#[component]
pub fn EditComponentPage() -> impl IntoView {
    view! { <Authorized permission=Permission::EditCatalog children=|_: CurrentUser| view! { <EditComponent /> } /> }
}

fn check_name(v: &str) -> Option<String> {
    component_name("name", v).err().map(|e| e.message)
}

#[component]
fn NewComponent() -> impl IntoView {
    let action = ServerAction::<CreateComponent>::new();
    let form = FormErrors::of(action);
    view! {
        <PageHeader title="Add a component".to_string() lead="A dataset, job, dashboard or anything else a rollback may touch.".to_string() />
        <ErrorNotice error=form.general() />
        <ActionForm action attr:class="form">
            <ComponentFields form component=None />
            <div class="form__actions">
                <button type="submit" class="button button--primary">"Add component"</button>
                <a class="button button--quiet" href="/catalog">"Cancel"</a>
            </div>
        </ActionForm>
    }
}

#[component]
fn EditComponent() -> impl IntoView {
    let params = use_params_map();
    let action = ServerAction::<UpdateComponent>::new();
    let form = FormErrors::of(action);
    let id = move || params.with(|p| p.get("id").and_then(|id| id.parse::<i64>().ok()));
    let component = Resource::new(id, |id| async move {
        match id {
            Some(id) => get_component(id).await,
            None => Err(AppError::not_found("The component")),
        }
    });
    view! {
        <Transition fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move { loaded(async move {
                let c = component.await?;
                Ok::<_, AppError>(view! {
                    <PageHeader title=format!("Edit {}", c.name) lead="Dependencies are edited on the component’s page.".to_string() />
                    <ErrorNotice error=form.general() />
                    <ActionForm action attr:class="form">
                        <input type="hidden" name="id" value=c.id />
                        <ComponentFields form component=Some(c.clone()) />
                        <div class="form__actions">
                            <button type="submit" class="button button--primary">"Save component"</button>
                            <a class="button button--quiet" href=format!("/catalog/{}", c.id)>"Cancel"</a>
                        </div>
                    </ActionForm>
                })
            }.await) })}
        </Transition>
    }
}

#[component]
fn ComponentFields(form: FormErrors, component: Option<Component>) -> impl IntoView {
    let c = component.as_ref();
    let text = |f: fn(&Component) -> String| c.map(f).unwrap_or_default();
    let binding = |f: fn(&crate::catalog::model::Binding) -> Option<String>| {
        c.and_then(|c| c.binding.as_ref())
            .and_then(f)
            .unwrap_or_default()
    };
    view! {
        <Field label="Name" name="component[name]" required=true autocomplete="off"
            hint="Unique in the catalog, e.g. analytics.orders or model.shop.orders."
            value=text(|c| c.name.clone()) validate=check_name error=form.field("name") />
        <Select label="Kind" name="component[kind]" options=kind_options(false)
            selected=text(|c| c.kind.as_str().to_string()) error=form.field("kind") />
        <Field label="Owner" name="component[owner]" hint="The person or team to ask about it."
            value=text(|c| c.owner.clone()) error=form.field("owner") />
        <TextArea label="Description" name="component[description]" rows=3
            value=text(|c| c.description.clone()) error=form.field("description") />
        <Field label="Tags" name="component[tags]" hint="Comma-separated, e.g. finance, pii. Approval policies can apply per tag."
            value=text(|c| c.tags.join(", ")) error=form.field("tags") />
        <fieldset class="field field--group">
            <legend class="field__label">"Pipeline binding (jobs only)"</legend>
            <p class="field__hint">"Which connector runs this job, and the DAG ids a rollback pauses and triggers."</p>
            <Field label="Connector" name="component[connector]" hint="The connector’s name, as an administrator set it up."
                value=binding(|b| Some(b.connector_name.clone())) error=form.field("connector") />
            <Field label="Production DAG id" name="component[dag_id]"
                value=binding(|b| b.dag_id.clone()) error=form.field("dag_id") />
            <Field label="Rollback DAG id" name="component[rollback_dag_id]"
                value=binding(|b| b.rollback_dag_id.clone()) error=form.field("rollback_dag_id") />
        </fieldset>
        <Field label="Time-travel retention" name="component[retention]"
            hint="How long its storage keeps earlier versions: snowflake (1d, up to 90d), bigquery (7d, 2d–7d), delta (7d), iceberg (5d), lakefs 72h (its GC rule), custom 48h. Plans restoring it are refused once that has passed."
            value=c.and_then(|c| c.retention.clone()).unwrap_or_default() error=form.field("retention") />
    }
}
