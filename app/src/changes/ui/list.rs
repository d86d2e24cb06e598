use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

use super::{kind_options, status_badge, status_options};
use crate::{
    auth::{
        ui::{urlencode, Authorized},
        CurrentUser, Permission,
    },
    changes::{
        api::list_changes,
        model::{ChangeQuery, ChangeSummary},
    },
    components::{EmptyState, PageHeader, Select},
    error::AppError,
    error_template::loaded,
};

#[component]
pub fn ChangesPage() -> impl IntoView {
    view! { <Authorized permission=Permission::Read children=|user: CurrentUser| view! { <Changes user /> } /> }
}

fn query_from_url(q: &leptos_router::params::ParamsMap) -> ChangeQuery {
    let t = |k: &str| q.get(k).unwrap_or_default();
    ChangeQuery {
        q: t("q"),
        status: t("status"),
        kind: t("kind"),
        component: t("component"),
        author: t("author"),
        from: t("from"),
        to: t("to"),
        after: t("after"),
    }
}

/// `/changes?…` for a query, skipping empty filters.
fn href(q: &ChangeQuery) -> String {
    let pairs = [
        ("q", &q.q),
        ("status", &q.status),
        ("kind", &q.kind),
        ("component", &q.component),
        ("author", &q.author),
        ("from", &q.from),
        ("to", &q.to),
        ("after", &q.after),
    ];
    let parts: Vec<String> = pairs
        .iter()
        .filter(|(_, v)| !v.is_empty())
        .map(|(k, v)| format!("{k}={}", urlencode(v)))
        .collect();
    if parts.is_empty() {
        "/changes".into()
    } else {
        format!("/changes?{}", parts.join("&"))
    }
}

#[component]
fn Changes(user: CurrentUser) -> impl IntoView {
    let url = use_query_map();
    let query = move || url.with(query_from_url);
    let page = Resource::new(query, list_changes);
    view! {
        <PageHeader title="Changes".to_string() lead="What was deployed to the data pipelines, newest first.".to_string()>
            {user.can(Permission::RecordChanges).then(|| view! { <a class="button button--primary" href="/changes/new">"Record a change"</a> })}
        </PageHeader>
        <Transition fallback=move || view! { <Filters q=query() errors=None /><p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                let result = page.await;
                if let Err(e @ AppError::Validation { .. }) = result {
                    return view! {
                        <Filters q=query() errors=Some(e) />
                        <p class="notice notice--error" role="alert">"Please correct the filters marked above."</p>
                    }.into_any();
                }
                let filters = view! { <Filters q=query() errors=None /> };
                let listing = loaded(async move {
                    let page = result?;
                    let next = page.next.map(|n| href(&ChangeQuery { after: n, ..query() }));
                    let first = (!query().after.is_empty()).then(|| href(&ChangeQuery { after: String::new(), ..query() }));
                    Ok::<_, AppError>(view! {
                        {if page.changes.is_empty() {
                            view! { <EmptyState title="No changes match">
                                <p>"Record a change here, or let CI record them through the API."</p>
                            </EmptyState> }.into_any()
                        } else {
                            view! { <ChangesTable changes=page.changes /> }.into_any()
                        }}
                        <nav class="pager" aria-label="Pages of changes">
                            {first.map(|h| view! { <a href=h>"Newest"</a> })}
                            {next.map(|h| view! { <a href=h>"Older →"</a> })}
                        </nav>
                    })
                }.await);
                view! { {filters} {listing} }.into_any()
            })}
        </Transition>
    }
}

/// The filter form, showing the query's values and the server's message beside each bad field.
#[component]
fn Filters(q: ChangeQuery, errors: Option<AppError>) -> impl IntoView {
    let message = move |name: &str| errors.as_ref().and_then(|e| e.field_message(name));
    let text_filter = |label: &'static str,
                       name: &'static str,
                       kind: &'static str,
                       value: String| {
        let error = message(name);
        let invalid = error.is_some();
        view! {
            <div class="field" class:field--invalid=invalid>
                <label class="field__label" for=format!("filter-{name}")>{label}</label>
                <input class="field__input" id=format!("filter-{name}") name=name type=kind value=value
                    aria-invalid=invalid.then_some("true") />
                {error.map(|m| view! { <p class="field__error">{m}</p> })}
            </div>
        }
    };
    view! {
        <form class="filters" method="get" action="/changes" role="search" aria-label="Filter changes">
            {text_filter("Title contains", "q", "search", q.q)}
            <Select label="Status" name="status" options=status_options() selected=q.status error=Signal::stored(message("status")) />
            <Select label="Kind" name="kind" options=kind_options(true) selected=q.kind error=Signal::stored(message("kind")) />
            {text_filter("Component", "component", "text", q.component)}
            {text_filter("Author (username)", "author", "text", q.author)}
            {text_filter("Deployed from", "from", "date", q.from)}
            {text_filter("Deployed to", "to", "date", q.to)}
            <div class="filters__actions">
                <button class="button" type="submit">"Filter"</button>
                <a class="button button--quiet" href="/changes">"Clear"</a>
            </div>
        </form>
    }
}

#[component]
fn ChangesTable(changes: Vec<ChangeSummary>) -> impl IntoView {
    view! {
        <table class="table">
            <caption class="visually-hidden">"Changes"</caption>
            <thead><tr>
                <th scope="col">"Title"</th><th scope="col">"Kind"</th><th scope="col">"Status"</th>
                <th scope="col">"Author"</th><th scope="col">"Deployed (UTC)"</th><th scope="col">"Components"</th>
            </tr></thead>
            <tbody>
                {changes.into_iter().map(|c| view! {
                    <tr>
                        <td><a href=format!("/changes/{}", c.id)>{c.title}</a></td>
                        <td>{c.kind.label()}</td>
                        <td>{status_badge(c.status)}</td>
                        <td>{c.author}</td>
                        <td><time datetime=c.deployed_at.to_rfc3339()>{c.deployed_at.format("%Y-%m-%d %H:%M").to_string()}</time></td>
                        <td>{c.components}</td>
                    </tr>
                }).collect_view()}
            </tbody>
        </table>
    }
}
