use leptos::prelude::*;
use leptos_router::hooks::{use_params_map, use_query_map};

use crate::{
    action_items::ui::ComponentItems,
    audit::{api::entity_history, history::History},
    auth::{ui::Authorized, CurrentUser, Permission},
    catalog::{
        api::{get_component, AddDependency, RemoveDependency},
        model::{Component, ComponentRef},
    },
    components::{ComponentPicker, ErrorNotice, FormErrors, PageHeader, SuccessNotice},
    error::AppError,
    error_template::loaded,
};

#[component]
pub fn ComponentPage() -> impl IntoView {
    view! { <Authorized permission=Permission::Read children=|user: CurrentUser| view! { <ComponentDetail user /> } /> }
}

fn saved_message(code: &str) -> Option<String> {
    Some(
        match code {
            "created" => "Component added.",
            "updated" => "Component saved.",
            "dependency" => "Dependency added.",
            "removed" => "Dependency removed.",
            _ => return None,
        }
        .to_string(),
    )
}

#[component]
fn ComponentDetail(user: CurrentUser) -> impl IntoView {
    let params = use_params_map();
    let query = use_query_map();
    let add = ServerAction::<AddDependency>::new();
    let remove = ServerAction::<RemoveDependency>::new();
    let id = move || params.with(|p| p.get("id").and_then(|id| id.parse::<i64>().ok()));
    let component = Resource::new(
        move || (id(), add.version().get(), remove.version().get()),
        |(id, _, _)| async move {
            match id {
                // One resource per page: the component and its history together.
                Some(id) => {
                    let c = get_component(id).await?;
                    let history = entity_history("component".into(), id.to_string()).await?;
                    Ok((c, history))
                }
                None => Err(AppError::not_found("The component")),
            }
        },
    );
    let saved = Signal::derive(move || {
        query
            .with(|q| q.get("saved"))
            .and_then(|c| saved_message(&c))
    });
    let edit = user.can(Permission::EditCatalog);
    view! {
        <Transition fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move { loaded(async move {
                let (c, history) = component.await?;
                Ok::<_, AppError>(view! {
                    <PageHeader title=c.name.clone() lead=c.kind.label().to_string()>
                        <a class="button button--primary" href=format!("/catalog/{}/impact", c.id)>"Impact downstream"</a>
                        {edit.then(|| view! { <a class="button" href=format!("/catalog/{}/edit", c.id)>"Edit"</a> })}
                    </PageHeader>
                    <SuccessNotice message=saved />
                    <Facts c=c.clone() />
                    <Neighbours title="Upstream (feeds this component)" list=c.upstream.clone() remove=edit.then_some((c.id, remove)) />
                    {edit.then(|| view! { <AddUpstream id=c.id action=add /> })}
                    <Neighbours title="Downstream (fed by this component)" list=c.downstream.clone() remove=None />
                    <ComponentItems component_id=c.id />
                    <History events=history />
                })
            }.await) })}
        </Transition>
    }
}

#[component]
fn Facts(c: Component) -> impl IntoView {
    let or_dash = |s: String| if s.is_empty() { "—".to_string() } else { s };
    view! {
        <dl class="facts">
            <dt>"Owner"</dt><dd>{or_dash(c.owner)}</dd>
            <dt>"Description"</dt><dd>{or_dash(c.description)}</dd>
            <dt>"Tags"</dt><dd>{or_dash(c.tags.join(", "))}</dd>
            <dt>"Pipeline binding"</dt>
            <dd>{match c.binding {
                Some(b) => format!(
                    "{} · production DAG {} · rollback DAG {}",
                    b.connector_name,
                    b.dag_id.unwrap_or_else(|| "—".into()),
                    b.rollback_dag_id.unwrap_or_else(|| "—".into())
                ),
                None => "—".into(),
            }}</dd>
            <dt>"Time-travel retention"</dt><dd>{c.retention.unwrap_or_else(|| "—".into())}</dd>
            <dt>"Declared by"</dt><dd>{c.source} ", " {c.updated_at.format("%Y-%m-%d %H:%M UTC").to_string()}</dd>
        </dl>
    }
}

#[component]
fn Neighbours(
    title: &'static str,
    list: Vec<ComponentRef>,
    remove: Option<(i64, ServerAction<RemoveDependency>)>,
) -> impl IntoView {
    view! {
        <section class="panel">
            <h2>{title}</h2>
            {if list.is_empty() {
                view! { <p class="muted">"None declared."</p> }.into_any()
            } else {
                view! {
                    <ul class="neighbours">
                        {list.into_iter().map(|n| view! {
                            <li>
                                <a href=format!("/catalog/{}", n.id)>{n.name.clone()}</a>
                                <span class="muted">" · " {n.kind.label()}</span>
                                {remove.map(|(id, action)| view! {
                                    <ActionForm action attr:class="inline-form">
                                        <input type="hidden" name="id" value=id />
                                        <input type="hidden" name="upstream_id" value=n.id />
                                        <button type="submit" class="button button--quiet button--small"
                                            aria-label=format!("Remove dependency on {}", n.name)>"Remove"</button>
                                    </ActionForm>
                                })}
                            </li>
                        }).collect_view()}
                    </ul>
                }.into_any()
            }}
        </section>
    }
}

#[component]
fn AddUpstream(id: i64, action: ServerAction<AddDependency>) -> impl IntoView {
    let form = FormErrors::of(action);
    view! {
        <section class="panel">
            <h2>"Add an upstream dependency"</h2>
            <ErrorNotice error=form.general() />
            <ActionForm action attr:class="form form--inline">
                <input type="hidden" name="id" value=id />
                <ComponentPicker label="Upstream component" name="upstream"
                    hint="The exact name of a component in the catalog." error=form.field("upstream") />
                <button type="submit" class="button button--primary">"Add dependency"</button>
            </ActionForm>
        </section>
    }
}
