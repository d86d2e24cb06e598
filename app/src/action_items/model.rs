//! Action items: what a postmortem says must be done, by whom, by when.

use chrono::{Duration, NaiveDate};
use serde::{Deserialize, Serialize};

use crate::{
    error::AppError,
    validate::{self, Errors},
};

macro_rules! named_enum {
    ($(#[$m:meta])* $name:ident { $($variant:ident => $text:literal, $label:literal;)+ }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum $name { $($variant),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$(Self::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self { $(Self::$variant => $text),+ }
            }

            pub fn parse(s: &str) -> Option<Self> {
                Self::ALL.iter().copied().find(|v| v.as_str() == s.trim())
            }

            pub fn label(self) -> &'static str {
                match self { $(Self::$variant => $label),+ }
            }

            fn choices() -> String {
                Self::ALL.iter().map(|v| v.as_str()).collect::<Vec<_>>().join(", ")
            }
        }
    };
}

named_enum!(
    /// How soon it matters; sets the default due date.
    Priority {
        Urgent => "urgent", "Urgent";
        High => "high", "High";
        Medium => "medium", "Medium";
        Low => "low", "Low";
    }
);

named_enum!(
    /// What the item does about the incident.
    ItemKind {
        Mitigate => "mitigate", "Mitigate";
        Prevent => "prevent", "Prevent";
        Process => "process", "Process";
        Other => "other", "Other";
    }
);

named_enum!(
    /// Where the item stands. "Won't do" needs a reason.
    ItemStatus {
        Open => "open", "Open";
        InProgress => "in_progress", "In progress";
        Done => "done", "Done";
        WontDo => "wont_do", "Won't do";
    }
);

impl ItemStatus {
    pub fn is_closed(self) -> bool {
        matches!(self, Self::Done | Self::WontDo)
    }
}

/// Days from today to the default due date, per priority (settings may change them).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct DueDefaults {
    pub urgent: i64,
    pub high: i64,
    pub medium: i64,
    pub low: i64,
}

impl Default for DueDefaults {
    fn default() -> Self {
        Self {
            urgent: 3,
            high: 7,
            medium: 30,
            low: 90,
        }
    }
}

impl DueDefaults {
    pub fn due(&self, priority: Priority, today: NaiveDate) -> NaiveDate {
        let days = match priority {
            Priority::Urgent => self.urgent,
            Priority::High => self.high,
            Priority::Medium => self.medium,
            Priority::Low => self.low,
        };
        today + Duration::days(days.max(0))
    }
}

/// An action item as its form sends it (all text).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ItemInput {
    #[serde(default)]
    pub title: String,
    #[serde(default)]
    pub description: String,
    /// The owner's user id.
    #[serde(default)]
    pub owner_id: String,
    /// `YYYY-MM-DD`; empty takes the priority's default.
    #[serde(default)]
    pub due_on: String,
    #[serde(default)]
    pub priority: String,
    #[serde(default)]
    pub kind: String,
    #[serde(default)]
    pub status: String,
    #[serde(default)]
    pub wont_do_reason: String,
    #[serde(default)]
    pub ticket_url: String,
    /// A catalog component's id, or empty.
    #[serde(default)]
    pub component_id: String,
    /// A catalog component's name (what the form sends), or empty; the service resolves it.
    #[serde(default)]
    pub component: String,
    /// The number of a row of the change's rollback plan (counted from 1 across its stages),
    /// or empty.
    #[serde(default)]
    pub plan_row: String,
}

/// A validated action item. Whether the owner is an active user and the component exists is
/// the service's to check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewItem {
    pub title: String,
    pub description: String,
    pub owner_id: i64,
    pub due_on: NaiveDate,
    pub priority: Priority,
    pub kind: ItemKind,
    pub status: ItemStatus,
    pub wont_do_reason: Option<String>,
    pub ticket_url: Option<String>,
    pub component_id: Option<i64>,
    pub plan_row: Option<i64>,
}

pub const TITLE_MAX: usize = 200;
pub const DESCRIPTION_MAX: usize = 5000;

impl NewItem {
    /// Checks every field at once. `existing_due` is the item's current due date when editing:
    /// an item already overdue may keep its date, but no new date may lie in the past.
    pub fn parse(
        input: &ItemInput,
        today: NaiveDate,
        defaults: &DueDefaults,
        existing_due: Option<NaiveDate>,
    ) -> Result<Self, AppError> {
        let mut e = Errors::default();
        let title = e.check(validate::text(
            "title",
            &input.title,
            TITLE_MAX,
            true,
            false,
        ));
        let description = e.check(validate::text(
            "description",
            &input.description,
            DESCRIPTION_MAX,
            false,
            true,
        ));
        let owner_id = input
            .owner_id
            .trim()
            .parse::<i64>()
            .ok()
            .filter(|id| *id > 0);
        if owner_id.is_none() {
            e.push("owner_id", "choose who owns this item");
        }
        let priority = Priority::parse(&input.priority);
        if priority.is_none() {
            e.push("priority", format!("choose one of {}", Priority::choices()));
        }
        let kind = ItemKind::parse(&input.kind);
        if kind.is_none() {
            e.push("kind", format!("choose one of {}", ItemKind::choices()));
        }
        let status = match input.status.trim() {
            "" => Some(ItemStatus::Open),
            s => ItemStatus::parse(s),
        };
        if status.is_none() {
            e.push("status", format!("choose one of {}", ItemStatus::choices()));
        }
        let due_on = due_date(&mut e, &input.due_on, today, existing_due);
        let reason = e.check(validate::optional(
            "wont_do_reason",
            &input.wont_do_reason,
            2000,
        ));
        if status == Some(ItemStatus::WontDo) && reason.is_none() {
            e.push("wont_do_reason", "say why this will not be done");
        }
        let ticket_url = match input.ticket_url.trim() {
            "" => None,
            url => Some(e.check(validate::url("ticket_url", url))),
        };
        let component_id = match input.component_id.trim() {
            "" => None,
            c => {
                let id = c.parse::<i64>().ok().filter(|id| *id > 0);
                if id.is_none() {
                    e.push("component_id", "choose a component from the catalog");
                }
                id
            }
        };
        let plan_row = match input.plan_row.trim() {
            "" => None,
            r => {
                let row = r.parse::<i64>().ok().filter(|n| *n > 0);
                if row.is_none() {
                    e.push("plan_row", "choose a row of the rollback plan");
                }
                row
            }
        };
        let priority = priority.unwrap_or(Priority::Medium);
        e.finish(Self {
            title,
            description,
            owner_id: owner_id.unwrap_or_default(),
            due_on: due_on.unwrap_or_else(|| defaults.due(priority, today)),
            priority,
            kind: kind.unwrap_or(ItemKind::Other),
            status: status.unwrap_or(ItemStatus::Open),
            wont_do_reason: reason.filter(|_| status == Some(ItemStatus::WontDo)),
            ticket_url,
            component_id,
            plan_row,
        })
    }
}

/// The typed due date: `None` when empty (the default applies), refused when unreadable or
/// in the past (unless it is the date the item already had).
fn due_date(
    e: &mut Errors,
    raw: &str,
    today: NaiveDate,
    existing: Option<NaiveDate>,
) -> Option<NaiveDate> {
    let raw = raw.trim();
    if raw.is_empty() {
        return existing;
    }
    let Ok(date) = NaiveDate::parse_from_str(raw, "%Y-%m-%d") else {
        e.push("due_on", "must be a date such as 2026-12-24");
        return None;
    };
    if date < today && Some(date) != existing {
        e.push(
            "due_on",
            format!("is in the past: today is {today}; choose today or later"),
        );
        return None;
    }
    Some(date)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 12, 1).unwrap()
    }

    fn input() -> ItemInput {
        ItemInput {
            title: "Add a freshness check to orders".into(),
            owner_id: "7".into(),
            priority: "high".into(),
            kind: "prevent".into(),
            ..Default::default()
        }
    }

    fn parse(i: &ItemInput) -> Result<NewItem, AppError> {
        NewItem::parse(i, today(), &DueDefaults::default(), None)
    }

    #[test]
    fn the_due_date_defaults_from_the_priority() {
        let item = parse(&input()).unwrap();
        assert_eq!(item.due_on, NaiveDate::from_ymd_opt(2026, 12, 8).unwrap());
        assert_eq!(item.status, ItemStatus::Open);
        for (p, days) in [("urgent", 3), ("medium", 30), ("low", 90)] {
            let item = parse(&ItemInput {
                priority: p.into(),
                ..input()
            })
            .unwrap();
            assert_eq!(item.due_on, today() + Duration::days(days), "{p}");
        }
    }

    #[test]
    fn a_new_due_date_in_the_past_is_refused_but_an_overdue_item_keeps_its_date() {
        let past = ItemInput {
            due_on: "2026-11-30".into(),
            ..input()
        };
        let err = parse(&past).unwrap_err();
        assert!(err.field_message("due_on").unwrap().contains("in the past"));
        let kept = NewItem::parse(
            &past,
            today(),
            &DueDefaults::default(),
            NaiveDate::from_ymd_opt(2026, 11, 30),
        )
        .unwrap();
        assert_eq!(kept.due_on.to_string(), "2026-11-30");
    }

    #[test]
    fn every_bad_field_is_named_at_once() {
        let bad = ItemInput {
            title: " ".into(),
            description: "x".repeat(20_000),
            owner_id: "nobody".into(),
            due_on: "next friday".into(),
            priority: "asap".into(),
            kind: "fix".into(),
            status: "wont_do".into(),
            ticket_url: "ftp://tickets.example/1".into(),
            component_id: "-3".into(),
            ..Default::default()
        };
        let err = parse(&bad).unwrap_err();
        for field in [
            "title",
            "description",
            "owner_id",
            "due_on",
            "priority",
            "kind",
            "wont_do_reason",
            "ticket_url",
            "component_id",
        ] {
            assert!(err.field_message(field).is_some(), "{field}: {err:?}");
        }
        assert!(err.field_message("description").unwrap().contains("20000"));
    }

    #[test]
    fn wont_do_keeps_its_reason_and_other_statuses_drop_it() {
        let wont = ItemInput {
            status: "wont_do".into(),
            wont_do_reason: "Superseded by the new pipeline".into(),
            ..input()
        };
        assert_eq!(
            parse(&wont).unwrap().wont_do_reason.as_deref(),
            Some("Superseded by the new pipeline")
        );
        let open = ItemInput {
            status: "open".into(),
            ..wont
        };
        assert_eq!(parse(&open).unwrap().wont_do_reason, None);
    }
}
