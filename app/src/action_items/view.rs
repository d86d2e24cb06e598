//! Action items as pages show them, and the filters of their lists.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use super::model::{ItemKind, ItemStatus, Priority};
use crate::{error::AppError, validate::Errors};

/// A user as a list shows them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Person {
    pub id: i64,
    pub username: String,
    pub display_name: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActionItem {
    pub id: i64,
    pub postmortem_id: i64,
    pub change_id: i64,
    pub change_title: String,
    pub title: String,
    pub description: String,
    pub owner: Person,
    pub due_on: NaiveDate,
    pub priority: Priority,
    pub kind: ItemKind,
    pub status: ItemStatus,
    pub wont_do_reason: Option<String>,
    pub ticket_url: Option<String>,
    /// (id, name) of the catalog component it is about.
    pub component: Option<(i64, String)>,
    pub plan_id: Option<i64>,
    pub plan_row: Option<i64>,
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub closed_at: Option<DateTime<Utc>>,
}

impl ActionItem {
    /// Days past its due date while still open (0 when not late).
    pub fn days_late(&self, today: NaiveDate) -> i64 {
        if self.status.is_closed() {
            0
        } else {
            (today - self.due_on).num_days().max(0)
        }
    }
}

/// A list's filters as the query string carries them (all text; `parse` checks them).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ItemQuery {
    /// Empty: open and in progress; `all`; or one status.
    #[serde(default)]
    pub status: String,
    /// A username.
    #[serde(default)]
    pub owner: String,
    /// `1`: only items past their due date.
    #[serde(default)]
    pub overdue: String,
    #[serde(default)]
    pub priority: String,
    /// A component's id.
    #[serde(default)]
    pub component: String,
    #[serde(default)]
    pub after: String,
}

/// Which statuses a list shows.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum StatusFilter {
    #[default]
    Unfinished,
    All,
    Only(ItemStatus),
}

/// Keyset position: the (due date, id) of the last row shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cursor {
    pub due_on: NaiveDate,
    pub id: i64,
}

impl Cursor {
    pub fn encode(&self) -> String {
        format!("{}_{}", self.due_on.format("%Y%m%d"), self.id)
    }

    pub fn decode(s: &str) -> Option<Self> {
        let (d, id) = s.split_once('_')?;
        Some(Self {
            due_on: NaiveDate::parse_from_str(d, "%Y%m%d").ok()?,
            id: id.parse().ok()?,
        })
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ItemFilter {
    pub status: StatusFilter,
    pub owner: Option<String>,
    pub owner_id: Option<i64>,
    pub overdue_on: Option<NaiveDate>,
    pub priority: Option<Priority>,
    pub component_id: Option<i64>,
    pub after: Option<Cursor>,
}

impl ItemQuery {
    /// The filter, or every unreadable field named.
    pub fn parse(&self, today: NaiveDate) -> Result<ItemFilter, AppError> {
        let mut e = Errors::default();
        let status = match self.status.trim() {
            "" => StatusFilter::Unfinished,
            "all" => StatusFilter::All,
            s => match ItemStatus::parse(s) {
                Some(s) => StatusFilter::Only(s),
                None => {
                    e.push("status", "choose a status from the list");
                    StatusFilter::Unfinished
                }
            },
        };
        let priority = match self.priority.trim() {
            "" => None,
            p => {
                let found = Priority::parse(p);
                if found.is_none() {
                    e.push("priority", "choose urgent, high, medium or low");
                }
                found
            }
        };
        let component_id = match self.component.trim() {
            "" => None,
            c => {
                let id = c.parse::<i64>().ok().filter(|id| *id > 0);
                if id.is_none() {
                    e.push("component", "choose a component from the catalog");
                }
                id
            }
        };
        let after = match self.after.trim() {
            "" => None,
            a => {
                let c = Cursor::decode(a);
                if c.is_none() {
                    e.push(
                        "after",
                        "is not a page of this list; start from the first page",
                    );
                }
                c
            }
        };
        let owner = Some(self.owner.trim().to_string()).filter(|o| !o.is_empty());
        let overdue_on = matches!(self.overdue.trim(), "1" | "true" | "on").then_some(today);
        e.finish(ItemFilter {
            status,
            owner,
            owner_id: None,
            overdue_on,
            priority,
            component_id,
            after,
        })
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ItemsPage {
    pub items: Vec<ActionItem>,
    /// The cursor of the next page, when there is one.
    pub next: Option<String>,
    /// Today, as the server counts overdue days.
    pub today: Option<NaiveDate>,
}

/// One week of the chart: items still open at its end, and items done during it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Week {
    pub starts: NaiveDate,
    pub open: i64,
    pub done: i64,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 12, 1).unwrap()
    }

    #[test]
    fn the_cursor_survives_the_query_string() {
        let c = Cursor {
            due_on: today(),
            id: 42,
        };
        assert_eq!(Cursor::decode(&c.encode()), Some(c));
        assert_eq!(Cursor::decode("yesterday_1"), None);
    }

    #[test]
    fn unreadable_filters_are_named_and_empty_ones_mean_open_items() {
        let f = ItemQuery::default().parse(today()).unwrap();
        assert_eq!(f.status, StatusFilter::Unfinished);
        assert_eq!(f.overdue_on, None);
        let bad = ItemQuery {
            status: "closed".into(),
            priority: "asap".into(),
            component: "orders".into(),
            after: "x".into(),
            ..Default::default()
        };
        let err = bad.parse(today()).unwrap_err();
        for field in ["status", "priority", "component", "after"] {
            assert!(err.field_message(field).is_some(), "{field}");
        }
        let q = ItemQuery {
            status: "wont_do".into(),
            overdue: "1".into(),
            ..Default::default()
        };
        let f = q.parse(today()).unwrap();
        assert_eq!(f.status, StatusFilter::Only(ItemStatus::WontDo));
        assert_eq!(f.overdue_on, Some(today()));
    }
}
