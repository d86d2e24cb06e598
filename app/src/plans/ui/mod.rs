//! Plan pages: the plan, its editor, revision comparison and the approver's inbox.

mod compare;
mod edit;
mod inbox;
mod matrix;
mod page;

pub use compare::ComparePage;
pub use edit::EditPlanPage;
pub use inbox::InboxPage;
pub use page::PlanPage;

use chrono::{DateTime, Utc};
use leptos::prelude::*;

use super::model::PlanStatus;

pub fn when(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%d %H:%M UTC").to_string()
}

pub fn status_badge(s: PlanStatus) -> impl IntoView {
    let class = match s {
        PlanStatus::SignedOff | PlanStatus::Scheduled | PlanStatus::RolledBack => "badge badge--ok",
        PlanStatus::Rejected | PlanStatus::Halted | PlanStatus::Aborted => "badge badge--danger",
        PlanStatus::Withdrawn => "badge badge--off",
        _ => "badge",
    };
    view! { <span class=class>{s.label()}</span> }
}
