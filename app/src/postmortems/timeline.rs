//! The timeline of a postmortem: the audit events of its change, plans and rollbacks in
//! words, with the author's own entries and marks, and the figures read from them.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// How the author marks a moment of the timeline.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Moment {
    Detection,
    Diagnosis,
    Repair,
    Key,
}

impl Moment {
    pub const ALL: [Moment; 4] = [Self::Detection, Self::Diagnosis, Self::Repair, Self::Key];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Detection => "detection",
            Self::Diagnosis => "diagnosis",
            Self::Repair => "repair",
            Self::Key => "key",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|m| m.as_str() == s)
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::Detection => "Detected",
            Self::Diagnosis => "Diagnosed",
            Self::Repair => "Repaired",
            Self::Key => "Key moment",
        }
    }
}

/// What an audit action means on a timeline, in words a reader outside the team follows.
/// `None` for actions a postmortem's timeline leaves out.
pub fn timeline_label(action: &str) -> Option<&'static str> {
    Some(match action {
        "change.recorded" => "Change recorded",
        "change.edited" => "Change edited",
        "change.status_changed" => "Change status changed",
        "change.closed" => "Change closed",
        "plan.drafted" => "Rollback plan drafted",
        "plan.revised" => "Rollback plan revised",
        "plan.submitted" => "Plan submitted for approval",
        "plan.withdrawn" => "Plan withdrawn",
        "plan.approved" => "Approved",
        "plan.rejected" => "Rejected",
        "plan.signed_off" => "Signed off: the rollback may run",
        "execution.scheduled" => "Rollback scheduled",
        "execution.deferred" => "Rollback waiting for its window",
        "execution.started" => "Rollback started",
        "execution.step_started" => "Step started",
        "execution.step_succeeded" => "Step succeeded",
        "execution.step_completed" => "Manual step marked done",
        "execution.step_failed" => "Step failed",
        "execution.step_retried" => "Step retried by an operator",
        "execution.step_skipped" => "Step skipped by an operator",
        "execution.halted" => "Rollback halted",
        "execution.aborted" => "Rollback aborted",
        "execution.undo_started" => "Undoing the aborted rollback",
        "execution.step_undone" => "Step undone",
        "execution.undo_failed" => "Undo failed",
        "execution.undone" => "Abort finished",
        "execution.succeeded" => "Rolled back",
        _ => return None,
    })
}

/// The figures a postmortem opens with, from the record: each is the time from the change's
/// deployment to that moment, when it happened.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Figures {
    pub to_detection_minutes: Option<i64>,
    pub to_plan_minutes: Option<i64>,
    pub to_sign_off_minutes: Option<i64>,
    pub to_rolled_back_minutes: Option<i64>,
}

impl Figures {
    pub fn from_moments(
        deployed: DateTime<Utc>,
        detected: Option<DateTime<Utc>>,
        planned: Option<DateTime<Utc>>,
        signed_off: Option<DateTime<Utc>>,
        rolled_back: Option<DateTime<Utc>>,
    ) -> Self {
        let since = |t: Option<DateTime<Utc>>| t.map(|t| (t - deployed).num_minutes().max(0));
        Self {
            to_detection_minutes: since(detected),
            to_plan_minutes: since(planned),
            to_sign_off_minutes: since(signed_off),
            to_rolled_back_minutes: since(rolled_back),
        }
    }
}

/// "3 h 05 min", "45 min", "2 d 4 h": a duration as people read it.
pub fn minutes_label(minutes: i64) -> String {
    let (d, h, m) = (minutes / 1440, minutes % 1440 / 60, minutes % 60);
    match (d, h) {
        (0, 0) => format!("{m} min"),
        (0, h) => format!("{h} h {m:02} min"),
        (d, h) => format!("{d} d {h} h"),
    }
}

/// An audit event the timeline may show (read from the chain).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceEvent {
    pub seq: i64,
    pub at: DateTime<Utc>,
    pub actor: Option<String>,
    pub action: String,
    pub after: serde_json::Value,
}

/// The author's entry: their own (no `audit_seq`, a time and text) or a mark on an event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    pub id: i64,
    pub audit_seq: Option<i64>,
    pub at: Option<DateTime<Utc>>,
    pub text: String,
    pub moment: Option<Moment>,
    pub starred: bool,
    pub author: String,
}

/// One line of the timeline.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TimelineItem {
    /// The audit event it shows; `None` for the author's own entries.
    pub seq: Option<i64>,
    /// The author's entry that adds to it or is it.
    pub entry_id: Option<i64>,
    pub at: DateTime<Utc>,
    pub label: String,
    pub detail: String,
    pub actor: Option<String>,
    pub moment: Option<Moment>,
    pub starred: bool,
}

impl TimelineItem {
    pub fn own(&self) -> bool {
        self.seq.is_none()
    }

    /// What the published version shows unless the reader asks for every entry.
    pub fn highlighted(&self) -> bool {
        self.own() || self.starred || self.moment.is_some()
    }
}

/// A short detail from the event's recorded state: the group an approval counted for, a step's
/// message, a reason or note.
pub fn detail(action: &str, after: &serde_json::Value) -> String {
    let text = |key: &str| {
        after
            .get(key)
            .and_then(|v| v.as_str())
            .filter(|s| !s.is_empty())
    };
    let mut parts: Vec<String> = Vec::new();
    if let Some(step) = after.get("step").and_then(|v| v.as_i64()) {
        parts.push(format!("step {step}"));
    }
    if let Some(group) = text("counted_for") {
        parts.push(format!("for {group}"));
    }
    if action == "plan.revised" {
        if let Some(n) = after.get("revision").and_then(|v| v.as_i64()) {
            parts.push(format!("revision {n}"));
        }
    }
    if action == "change.status_changed" {
        if let Some(s) = text("status") {
            parts.push(s.replace('_', " "));
        }
    }
    for key in ["message", "reason", "note", "break_glass_reason"] {
        if let Some(t) = text(key) {
            let short: String = t.chars().take(240).collect();
            parts.push(short);
        }
    }
    parts.join(" · ")
}

/// The events in words with the author's marks on them, and the author's own entries, in time
/// order (events keep their chain order among equal times).
pub fn assemble(events: &[SourceEvent], entries: &[Entry]) -> Vec<TimelineItem> {
    let mark = |seq: i64| entries.iter().find(|e| e.audit_seq == Some(seq));
    let mut items: Vec<TimelineItem> = events
        .iter()
        .filter_map(|e| {
            let label = timeline_label(&e.action)?;
            let m = mark(e.seq);
            let mut detail = detail(&e.action, &e.after);
            if let Some(note) = m.map(|m| m.text.as_str()).filter(|t| !t.is_empty()) {
                detail = if detail.is_empty() {
                    note.to_string()
                } else {
                    format!("{detail} · {note}")
                };
            }
            Some(TimelineItem {
                seq: Some(e.seq),
                entry_id: m.map(|m| m.id),
                at: e.at,
                label: label.to_string(),
                detail,
                actor: e.actor.clone(),
                moment: m.and_then(|m| m.moment),
                starred: m.is_some_and(|m| m.starred),
            })
        })
        .collect();
    items.extend(
        entries
            .iter()
            .filter(|e| e.audit_seq.is_none())
            .filter_map(|e| {
                Some(TimelineItem {
                    seq: None,
                    entry_id: Some(e.id),
                    at: e.at?,
                    label: e.text.clone(),
                    detail: String::new(),
                    actor: Some(e.author.clone()),
                    moment: e.moment,
                    starred: e.starred,
                })
            }),
    );
    items.sort_by_key(|i| (i.at, i.seq.unwrap_or(i64::MAX)));
    items
}

/// The figures from the timeline: detection is the author's detection time, else the first
/// entry marked as detection.
pub fn figures(
    deployed: DateTime<Utc>,
    detected_at: Option<DateTime<Utc>>,
    events: &[SourceEvent],
    items: &[TimelineItem],
) -> Figures {
    let first = |action: &str| events.iter().find(|e| e.action == action).map(|e| e.at);
    let detected = detected_at.or_else(|| {
        items
            .iter()
            .find(|i| i.moment == Some(Moment::Detection))
            .map(|i| i.at)
    });
    let rolled_back = events
        .iter()
        .rev()
        .find(|e| e.action == "execution.succeeded")
        .map(|e| e.at);
    Figures::from_moments(
        deployed,
        detected,
        first("plan.drafted"),
        first("plan.signed_off"),
        rolled_back,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn figures_count_from_the_deployment() {
        let t = |h: i64| DateTime::from_timestamp(1_800_000_000 + h * 3600, 0).unwrap();
        let f = Figures::from_moments(t(0), Some(t(2)), Some(t(3)), None, Some(t(26)));
        assert_eq!(f.to_detection_minutes, Some(120));
        assert_eq!(f.to_sign_off_minutes, None);
        assert_eq!(minutes_label(f.to_rolled_back_minutes.unwrap()), "1 d 2 h");
        assert_eq!(minutes_label(185), "3 h 05 min");
        assert_eq!(minutes_label(45), "45 min");
    }

    #[test]
    fn every_step_of_a_rollback_has_words_on_the_timeline() {
        for action in [
            "change.recorded",
            "plan.approved",
            "plan.signed_off",
            "execution.step_failed",
            "execution.succeeded",
        ] {
            assert!(timeline_label(action).is_some(), "{action}");
        }
        assert_eq!(timeline_label("auth.login_failed"), None);
    }

    fn event(seq: i64, minute: i64, action: &str, after: serde_json::Value) -> SourceEvent {
        SourceEvent {
            seq,
            at: DateTime::from_timestamp(1_800_000_000 + minute * 60, 0).unwrap(),
            actor: Some("ana".into()),
            action: action.into(),
            after,
        }
    }

    #[test]
    fn the_timeline_keeps_rollback_events_with_their_marks_and_the_authors_entries_in_time_order() {
        let events = vec![
            event(1, 0, "change.recorded", serde_json::json!({})),
            event(2, 5, "auth.login", serde_json::json!({})),
            event(
                3,
                30,
                "plan.approved",
                serde_json::json!({"counted_for": "Product"}),
            ),
            event(4, 50, "execution.succeeded", serde_json::json!({})),
        ];
        let entries = vec![
            Entry {
                id: 10,
                audit_seq: Some(3),
                at: None,
                text: String::new(),
                moment: None,
                starred: true,
                author: "bo".into(),
            },
            Entry {
                id: 11,
                audit_seq: None,
                at: Some(events[1].at),
                text: "Dashboard owner reports empty totals".into(),
                moment: Some(Moment::Detection),
                starred: false,
                author: "bo".into(),
            },
        ];
        let items = assemble(&events, &entries);
        let labels: Vec<&str> = items.iter().map(|i| i.label.as_str()).collect();
        assert_eq!(
            labels,
            [
                "Change recorded",
                "Dashboard owner reports empty totals",
                "Approved",
                "Rolled back"
            ]
        );
        assert_eq!(items[2].detail, "for Product");
        assert!(items[2].starred && items[2].highlighted() && !items[0].highlighted());
        let f = figures(events[0].at, None, &events, &items);
        assert_eq!(f.to_detection_minutes, Some(5));
        assert_eq!(f.to_rolled_back_minutes, Some(50));
        assert_eq!(f.to_plan_minutes, None);
    }
}
