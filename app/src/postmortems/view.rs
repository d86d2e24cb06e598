//! Postmortems as pages show them.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{
    model::{PostmortemStatus, Sections},
    timeline::{Figures, TimelineItem},
};
use crate::{action_items::view::ActionItem, audit::Actor};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Postmortem {
    pub id: i64,
    pub change_id: i64,
    pub change_title: String,
    pub status: PostmortemStatus,
    pub author: Actor,
    pub reviewer: Option<Actor>,
    pub version: i64,
    pub sections: Sections,
    pub detected_at: Option<DateTime<Utc>>,
    pub no_actions_reason: Option<String>,
    /// How many versions were published (the latest is the one readers get).
    pub published_versions: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub published_at: Option<DateTime<Utc>>,
}

impl Postmortem {
    pub fn section(&self, field: &str) -> &str {
        self.sections.get(field).map(String::as_str).unwrap_or("")
    }
}

/// A row of the change's rollback plan an action item may point at.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanRowRef {
    pub plan_id: i64,
    /// Counted from 1 across the stages.
    pub number: i64,
    pub label: String,
}

/// Everything the postmortem's page shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PostmortemView {
    pub postmortem: Postmortem,
    pub deployed_at: DateTime<Utc>,
    pub timeline: Vec<TimelineItem>,
    pub figures: Figures,
    pub items: Vec<ActionItem>,
    pub plan_rows: Vec<PlanRowRef>,
    /// Rollbacks of the change (execution ids), newest last.
    pub executions: Vec<i64>,
}

/// A postmortem in a list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Summary {
    pub id: i64,
    pub change_id: i64,
    pub change_title: String,
    pub status: PostmortemStatus,
    pub author: String,
    pub updated_at: DateTime<Utc>,
    pub open_items: i64,
}

/// A published version, exactly as it was published.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PublishedVersion {
    pub number: i64,
    pub published_by: String,
    pub published_at: DateTime<Utc>,
    pub sections: Sections,
    pub figures: Figures,
    pub timeline: Vec<TimelineItem>,
    pub items: Vec<ActionItem>,
    pub no_actions_reason: Option<String>,
}
