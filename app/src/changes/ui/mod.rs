//! Change log pages: the filtered list, the record/edit form and a change's page.

mod detail;
mod form;
mod list;

pub use detail::ChangePage;
pub use form::{EditChangePage, NewChangePage};
pub use list::ChangesPage;

use super::model::{ChangeKind, ChangeStatus};

fn kind_options(any: bool) -> Vec<(String, String)> {
    let first = any.then(|| (String::new(), "All kinds".to_string()));
    first
        .into_iter()
        .chain(
            ChangeKind::ALL
                .iter()
                .map(|k| (k.as_str().to_string(), k.label().to_string())),
        )
        .collect()
}

fn status_options() -> Vec<(String, String)> {
    std::iter::once((String::new(), "All statuses".to_string()))
        .chain(
            ChangeStatus::ALL
                .iter()
                .map(|s| (s.as_str().to_string(), s.label().to_string())),
        )
        .collect()
}

/// The status as a badge people can read at a glance.
fn status_badge(s: ChangeStatus) -> impl leptos::IntoView {
    use leptos::prelude::*;
    let class = match s {
        ChangeStatus::RolledBack | ChangeStatus::Closed => "badge badge--off",
        ChangeStatus::RollbackFailed => "badge badge--danger",
        ChangeStatus::Recorded => "badge",
        _ => "badge badge--ok",
    };
    view! { <span class=class>{s.label()}</span> }
}
