//! The fields of an action item, shared by the "add" form on a postmortem and the item's page.

use leptos::prelude::*;

use crate::{
    action_items::{
        model::{ItemKind, ItemStatus, Priority},
        view::{ActionItem, Person},
    },
    components::{Field, FormErrors, Select, TextArea},
    postmortems::view::PlanRowRef,
};

fn options<T: Copy>(
    all: &[T],
    value: fn(T) -> &'static str,
    label: fn(T) -> &'static str,
) -> Vec<(String, String)> {
    all.iter()
        .map(|v| (value(*v).to_string(), label(*v).to_string()))
        .collect()
}

/// Title, owner, priority (with its default due date), kind, due date, links; and for an
/// existing item its status and the reason for "won't do".
#[component]
pub fn ItemFields(
    owners: Vec<Person>,
    plan_rows: Vec<PlanRowRef>,
    item: Option<ActionItem>,
    errors: FormErrors,
    /// Offered as the owner of a new item (the viewer).
    #[prop(optional)]
    default_owner: Option<i64>,
) -> impl IntoView {
    let v = |f: fn(&ActionItem) -> String| item.as_ref().map(f).unwrap_or_default();
    let owner = item
        .as_ref()
        .map(|i| i.owner.id)
        .or(default_owner)
        .map(|id| id.to_string())
        .unwrap_or_default();
    let owner_options: Vec<(String, String)> =
        std::iter::once((String::new(), "Choose a person".to_string()))
            .chain(owners.iter().map(|p| {
                (
                    p.id.to_string(),
                    format!("{} ({})", p.display_name, p.username),
                )
            }))
            .collect();
    let row_options: Vec<(String, String)> =
        std::iter::once((String::new(), "No plan row".to_string()))
            .chain(
                plan_rows
                    .iter()
                    .map(|r| (r.number.to_string(), r.label.clone())),
            )
            .collect();
    let existing = item.is_some();
    view! {
        <Field label="Title" name="item[title]" required=true value=v(|i| i.title.clone()) error=errors.field("title") />
        <TextArea label="Description" name="item[description]" rows=3 value=v(|i| i.description.clone())
            hint="What done looks like." error=errors.field("description") />
        <div class="side-by-side">
            <Select label="Owner" name="item[owner_id]" options=owner_options selected=owner error=errors.field("owner_id") />
            <Select label="Priority" name="item[priority]" options=options(Priority::ALL, Priority::as_str, Priority::label)
                selected=item.as_ref().map(|i| i.priority.as_str()).unwrap_or("medium").to_string() error=errors.field("priority") />
            <Select label="Type" name="item[kind]" options=options(ItemKind::ALL, ItemKind::as_str, ItemKind::label)
                selected=item.as_ref().map(|i| i.kind.as_str()).unwrap_or("prevent").to_string() error=errors.field("kind") />
            <Field label="Due date" name="item[due_on]" kind="date" value=v(|i| i.due_on.to_string())
                hint="Empty: from the priority (urgent 3 days, high 7, medium 30, low 90)." error=errors.field("due_on") />
        </div>
        {existing.then(|| view! {
            <div class="side-by-side">
                <Select label="Status" name="item[status]" options=options(ItemStatus::ALL, ItemStatus::as_str, ItemStatus::label)
                    selected=v(|i| i.status.as_str().to_string()) error=errors.field("status") />
                <Field label="Why it won't be done" name="item[wont_do_reason]" value=v(|i| i.wont_do_reason.clone().unwrap_or_default())
                    hint="Needed for “Won't do”." error=errors.field("wont_do_reason") />
            </div>
        })}
        <div class="side-by-side">
            <Field label="External ticket" name="item[ticket_url]" kind="url" value=v(|i| i.ticket_url.clone().unwrap_or_default())
                hint="https://… (optional)" error=errors.field("ticket_url") />
            <Field label="Catalog component" name="item[component]" value=v(|i| i.component.as_ref().map(|(_, name)| name.clone()).unwrap_or_default())
                hint="Optional: the component's name in the catalog." error=errors.field("component") />
            <Select label="Plan row" name="item[plan_row]" options=row_options
                selected=v(|i| i.plan_row.map(|n| n.to_string()).unwrap_or_default()) error=errors.field("plan_row") />
        </div>
    }
}

/// The status as a badge.
pub fn status_badge(s: ItemStatus) -> impl IntoView {
    let class = match s {
        ItemStatus::Done => "badge badge--ok",
        ItemStatus::WontDo => "badge badge--off",
        _ => "badge",
    };
    view! { <span class=class>{s.label()}</span> }
}
