use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

use super::kind_options;
use crate::{
    auth::{
        ui::{urlencode, Authorized},
        CurrentUser, Permission,
    },
    catalog::api::{list_components, ComponentSummary},
    components::{EmptyState, PageHeader, Select},
    error::AppError,
    error_template::loaded,
};

#[component]
pub fn CatalogPage() -> impl IntoView {
    view! { <Authorized permission=Permission::Read children=|user: CurrentUser| view! { <Catalog user /> } /> }
}

#[component]
fn Catalog(user: CurrentUser) -> impl IntoView {
    let query = use_query_map();
    let get = move |k: &str| query.with(|q| q.get(k).unwrap_or_default());
    let page = Resource::new(
        move || (get("q"), get("kind"), query.with(|q| q.get("after"))),
        |(q, kind, after)| list_components(q, kind, after),
    );
    let edit = user.can(Permission::EditCatalog);
    view! {
        <PageHeader title="Catalog".to_string() lead="Datasets, jobs and dashboards, and how data flows between them.".to_string()>
            {edit.then(|| view! {
                <a class="button button--primary" href="/catalog/new">"Add component"</a>
                <a class="button" href="/catalog/import">"Import lineage"</a>
            })}
        </PageHeader>
        <form class="filters" method="get" action="/catalog" role="search">
            <div class="field">
                <label class="field__label" for="filter-q">"Name contains"</label>
                <input class="field__input" id="filter-q" name="q" type="search" value=get("q") />
            </div>
            <Select label="Kind" name="kind" options=kind_options(true) selected=get("kind") error=Signal::derive(|| None::<String>) />
            <div class="filters__actions">
                <button class="button" type="submit">"Filter"</button>
                <a class="button button--quiet" href="/catalog">"Clear"</a>
            </div>
        </form>
        <Transition fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move { loaded(async move {
                let page = page.await?;
                let next = page.next.map(|n| {
                    format!("/catalog?q={}&kind={}&after={}", urlencode(&get("q")), urlencode(&get("kind")), urlencode(&n))
                });
                Ok::<_, AppError>(view! {
                    {if page.items.is_empty() {
                        view! { <EmptyState title="No components yet">
                            <p>"Add components one by one, or import a dbt manifest.json or a YAML file."</p>
                        </EmptyState> }.into_any()
                    } else {
                        view! { <ComponentsTable items=page.items /> }.into_any()
                    }}
                    <nav class="pager" aria-label="Pages of components">
                        {query.with(|q| q.get("after")).map(|_| view! { <a href="/catalog">"First page"</a> })}
                        {next.map(|href| view! { <a href=href>"Next page →"</a> })}
                    </nav>
                })
            }.await) })}
        </Transition>
    }
}

#[component]
fn ComponentsTable(items: Vec<ComponentSummary>) -> impl IntoView {
    view! {
        <table class="table">
            <caption class="visually-hidden">"Components"</caption>
            <thead><tr>
                <th scope="col">"Name"</th><th scope="col">"Kind"</th><th scope="col">"Owner"</th>
                <th scope="col">"Upstream"</th><th scope="col">"Downstream"</th><th scope="col">"Declared by"</th>
            </tr></thead>
            <tbody>
                {items.into_iter().map(|c| view! {
                    <tr>
                        <td><a href=format!("/catalog/{}", c.id)>{c.name}</a></td>
                        <td>{c.kind.label()}</td>
                        <td>{if c.owner.is_empty() { "—".to_string() } else { c.owner }}</td>
                        <td>{c.upstream}</td>
                        <td>{c.downstream}</td>
                        <td>{c.source}</td>
                    </tr>
                }).collect_view()}
            </tbody>
        </table>
    }
}
