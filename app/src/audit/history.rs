//! "Who changed what": an entity's audit events as a list of field changes, shown on the pages
//! of changes and components.

use leptos::prelude::*;
use serde_json::Value;

use super::AuditEntry;

/// Entity types whose history every signed-in user may read (their pages are public inside).
pub const READABLE: [&str; 4] = ["change", "component", "postmortem", "action_item"];

/// One field that differs between an event's before and after.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldChange {
    pub field: String,
    pub before: String,
    pub after: String,
}

/// The top-level fields whose values differ (both sides shown as compact text).
pub fn field_changes(before: &str, after: &str) -> Vec<FieldChange> {
    let parse = |s: &str| serde_json::from_str::<Value>(s).unwrap_or(Value::Null);
    let (b, a) = (parse(before), parse(after));
    let empty = serde_json::Map::new();
    let bm = b.as_object().unwrap_or(&empty);
    let am = a.as_object().unwrap_or(&empty);
    let mut keys: Vec<&String> = bm.keys().chain(am.keys()).collect();
    keys.sort();
    keys.dedup();
    keys.into_iter()
        .filter(|k| bm.get(*k) != am.get(*k))
        .map(|k| FieldChange {
            field: k.replace('_', " "),
            before: show(bm.get(k)),
            after: show(am.get(k)),
        })
        .collect()
}

fn show(v: Option<&Value>) -> String {
    match v {
        None | Some(Value::Null) => "—".into(),
        Some(Value::String(s)) if s.is_empty() => "—".into(),
        Some(Value::String(s)) => s.clone(),
        Some(Value::Array(a)) if a.is_empty() => "—".into(),
        Some(Value::Array(a)) => a
            .iter()
            .map(|v| show(Some(v)))
            .collect::<Vec<_>>()
            .join(", "),
        Some(v) => v.to_string(),
    }
}

/// The history panel: who changed what, newest first.
#[component]
pub fn History(events: Vec<AuditEntry>) -> impl IntoView {
    view! {
        <section class="panel" aria-labelledby="history-heading">
            <h2 id="history-heading">"History"</h2>
            <ol class="history">{events.into_iter().map(|e| view! { <HistoryItem event=e /> }).collect_view()}</ol>
        </section>
    }
}

#[component]
fn HistoryItem(event: AuditEntry) -> impl IntoView {
    let who = event
        .actor
        .as_ref()
        .map(|a| a.username.clone())
        .unwrap_or_else(|| "system".into());
    let changes = field_changes(&event.before, &event.after);
    view! {
        <li class="history__item">
            <p class="history__head">
                <time datetime=event.at.to_rfc3339()>{event.at.format("%Y-%m-%d %H:%M UTC").to_string()}</time>
                " · " <strong>{who}</strong> " · " <code>{event.action.clone()}</code>
                " · event #" {event.seq}
            </p>
            {(!changes.is_empty()).then(|| view! {
                <table class="table table--compact">
                    <caption class="visually-hidden">"Fields changed"</caption>
                    <thead><tr><th scope="col">"Field"</th><th scope="col">"Before"</th><th scope="col">"After"</th></tr></thead>
                    <tbody>
                        {changes.into_iter().map(|c| view! {
                            <tr><th scope="row">{c.field}</th><td>{c.before}</td><td>{c.after}</td></tr>
                        }).collect_view()}
                    </tbody>
                </table>
            })}
        </li>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_fields_that_differ_are_listed() {
        let changes = field_changes(
            r#"{"title":"a","kind":"config","tags":[]}"#,
            r#"{"title":"b","kind":"config","tags":["x","y"]}"#,
        );
        assert_eq!(changes.len(), 2);
        assert_eq!(
            changes[0],
            FieldChange {
                field: "tags".into(),
                before: "—".into(),
                after: "x, y".into()
            }
        );
        assert_eq!(changes[1].after, "b");
    }
}
