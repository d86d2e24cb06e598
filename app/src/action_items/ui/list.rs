//! The three lists: mine, all (with filters and the weekly chart), and overdue.

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

use super::{chart::WeeklyChart, fields::status_badge};
use crate::{
    action_items::{
        api::{items_chart, list_items, Scope},
        model::{ItemStatus, Priority},
        view::{ActionItem, ItemQuery},
    },
    auth::{
        ui::{urlencode, Authorized},
        CurrentUser, Permission,
    },
    components::{EmptyState, PageHeader, Select},
    error::AppError,
    error_template::loaded,
};

#[component]
pub fn MyItemsPage() -> impl IntoView {
    view! { <Authorized permission=Permission::Read children=|_: CurrentUser| view! { <Items scope=Scope::Mine /> } /> }
}

#[component]
pub fn AllItemsPage() -> impl IntoView {
    view! { <Authorized permission=Permission::Read children=|_: CurrentUser| view! { <Items scope=Scope::All /> } /> }
}

#[component]
pub fn OverdueItemsPage() -> impl IntoView {
    view! { <Authorized permission=Permission::Read children=|_: CurrentUser| view! { <Items scope=Scope::Overdue /> } /> }
}

fn path(scope: Scope) -> &'static str {
    match scope {
        Scope::Mine => "/action-items",
        Scope::All => "/action-items/all",
        Scope::Overdue => "/action-items/overdue",
    }
}

fn href(scope: Scope, q: &ItemQuery) -> String {
    let pairs = [
        ("status", &q.status),
        ("owner", &q.owner),
        ("overdue", &q.overdue),
        ("priority", &q.priority),
        ("component", &q.component),
        ("after", &q.after),
    ];
    let parts: Vec<String> = pairs
        .iter()
        .filter(|(_, v)| !v.is_empty())
        .map(|(k, v)| format!("{k}={}", urlencode(v)))
        .collect();
    match parts.is_empty() {
        true => path(scope).into(),
        false => format!("{}?{}", path(scope), parts.join("&")),
    }
}

#[component]
fn Items(scope: Scope) -> impl IntoView {
    let url = use_query_map();
    let query = move || {
        url.with(|q| {
            let t = |k: &str| q.get(k).unwrap_or_default();
            ItemQuery {
                status: t("status"),
                owner: t("owner"),
                overdue: t("overdue"),
                priority: t("priority"),
                component: t("component"),
                after: t("after"),
            }
        })
    };
    let page = Resource::new(query, move |q| list_items(scope, q));
    let chart = Resource::new(
        || (),
        move |_| async move {
            match scope {
                Scope::All => items_chart().await.map(Some),
                _ => Ok(None),
            }
        },
    );
    let (title, lead) = match scope {
        Scope::Mine => (
            "My action items",
            "What postmortems asked you to do, soonest due first.",
        ),
        Scope::All => (
            "All action items",
            "Every postmortem's action items, soonest due first.",
        ),
        Scope::Overdue => (
            "Overdue action items",
            "Open items past their due date, the latest first.",
        ),
    };
    view! {
        <PageHeader title=title.to_string() lead=lead.to_string() />
        <nav class="tabs" aria-label="Action item lists">
            {[Scope::Mine, Scope::All, Scope::Overdue].into_iter().map(|s| {
                let label = match s { Scope::Mine => "Mine", Scope::All => "All", Scope::Overdue => "Overdue" };
                view! { <a class="tabs__tab" href=path(s) aria-current=(s == scope).then_some("page")>{label}</a> }
            }).collect_view()}
        </nav>
        <Transition fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                let result = page.await;
                let weeks = chart.await;
                let errors = match &result { Err(e @ AppError::Validation { .. }) => Some(e.clone()), _ => None };
                let filters = (scope != Scope::Overdue).then(|| view! { <Filters scope q=query() errors=errors.clone() /> });
                let listing = loaded(async move {
                    let page = result?;
                    let today = page.today.unwrap_or_default();
                    let next = page.next.map(|n| href(scope, &ItemQuery { after: n, ..query() }));
                    let first = (!query().after.is_empty()).then(|| href(scope, &ItemQuery { after: String::new(), ..query() }));
                    Ok::<_, AppError>(view! {
                        {weeks.ok().flatten().map(|w| view! { <WeeklyChart weeks=w /> })}
                        {if page.items.is_empty() {
                            view! { <EmptyState title="No action items here">
                                <p>"Action items are added on a postmortem's page."</p>
                            </EmptyState> }.into_any()
                        } else {
                            view! { <ItemsTable items=page.items today show_owner=scope != Scope::Mine /> }.into_any()
                        }}
                        <nav class="pager" aria-label="Pages of action items">
                            {first.map(|h| view! { <a href=h>"First page"</a> })}
                            {next.map(|h| view! { <a href=h>"Later due →"</a> })}
                        </nav>
                    })
                }.await);
                view! { {filters} {listing} }
            })}
        </Transition>
    }
}

#[component]
fn Filters(scope: Scope, q: ItemQuery, errors: Option<AppError>) -> impl IntoView {
    let message =
        move |name: &str| Signal::stored(errors.as_ref().and_then(|e| e.field_message(name)));
    let statuses: Vec<(String, String)> = [("", "Open and in progress"), ("all", "All statuses")]
        .into_iter()
        .map(|(v, l)| (v.to_string(), l.to_string()))
        .chain(
            ItemStatus::ALL
                .iter()
                .map(|s| (s.as_str().to_string(), s.label().to_string())),
        )
        .collect();
    let priorities: Vec<(String, String)> =
        std::iter::once((String::new(), "Any priority".to_string()))
            .chain(
                Priority::ALL
                    .iter()
                    .map(|p| (p.as_str().to_string(), p.label().to_string())),
            )
            .collect();
    let owner_error = message("owner");
    view! {
        <form class="filters" method="get" action=path(scope) role="search" aria-label="Filter action items">
            <Select label="Status" name="status" options=statuses selected=q.status error=message("status") />
            <Select label="Priority" name="priority" options=priorities selected=q.priority error=message("priority") />
            {(scope == Scope::All).then(|| view! {
                <div class="field" class:field--invalid=move || owner_error.get().is_some()>
                    <label class="field__label" for="filter-owner">"Owner (username)"</label>
                    <input class="field__input" id="filter-owner" name="owner" value=q.owner.clone() />
                    {move || owner_error.get().map(|m| view! { <p class="field__error">{m}</p> })}
                </div>
                <div class="checkbox">
                    <input type="checkbox" id="filter-overdue" name="overdue" value="1" checked=!q.overdue.is_empty() />
                    <label for="filter-overdue">"Only overdue"</label>
                </div>
            })}
            {(!q.component.is_empty()).then(|| view! { <input type="hidden" name="component" value=q.component.clone() /> })}
            <div class="filters__actions">
                <button class="button" type="submit">"Filter"</button>
                <a class="button button--quiet" href=path(scope)>"Clear"</a>
            </div>
        </form>
    }
}

/// A table of items; late ones say by how many days.
#[component]
pub fn ItemsTable(
    items: Vec<ActionItem>,
    today: chrono::NaiveDate,
    #[prop(default = true)] show_owner: bool,
) -> impl IntoView {
    view! {
        <table class="table">
            <caption class="visually-hidden">"Action items"</caption>
            <thead><tr>
                <th scope="col">"Item"</th>
                {show_owner.then(|| view! { <th scope="col">"Owner"</th> })}
                <th scope="col">"Priority"</th><th scope="col">"Due"</th><th scope="col">"Status"</th><th scope="col">"From the postmortem of"</th>
            </tr></thead>
            <tbody>
                {items.into_iter().map(|i| {
                    let late = i.days_late(today);
                    view! {
                        <tr>
                            <td><a href=format!("/action-items/{}", i.id)>{i.title.clone()}</a></td>
                            {show_owner.then(|| view! { <td>{i.owner.display_name.clone()}</td> })}
                            <td>{i.priority.label()}</td>
                            <td>
                                <time datetime=i.due_on.to_string()>{i.due_on.to_string()}</time>
                                {(late > 0).then(|| view! { " " <span class="badge badge--danger">{format!("{late} d late")}</span> })}
                            </td>
                            <td>{status_badge(i.status)}</td>
                            <td><a href=format!("/postmortems/{}", i.postmortem_id)>{i.change_title.clone()}</a></td>
                        </tr>
                    }
                }).collect_view()}
            </tbody>
        </table>
    }
}
