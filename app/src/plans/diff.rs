//! Comparing two revisions of a plan: plan-level fields that changed, and rows added, removed or
//! changed. A row is the same row in both when it has the same component and action kind.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use super::model::{PlanBody, Row};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldChange {
    pub field: String,
    pub before: String,
    pub after: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RowChange {
    /// `stage N row M` in the newer revision (or the older one for removed rows).
    pub at: String,
    pub component: String,
    pub action: String,
    pub fields: Vec<FieldChange>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct PlanDiff {
    pub plan: Vec<FieldChange>,
    pub added: Vec<RowChange>,
    pub removed: Vec<RowChange>,
    pub changed: Vec<RowChange>,
}

impl PlanDiff {
    pub fn is_empty(&self) -> bool {
        self.plan.is_empty()
            && self.added.is_empty()
            && self.removed.is_empty()
            && self.changed.is_empty()
    }
}

fn change(field: &str, before: &str, after: &str) -> Option<FieldChange> {
    (before != after).then(|| FieldChange {
        field: field.into(),
        before: before.into(),
        after: after.into(),
    })
}

/// The fields of a row as people read them, in a stable order.
pub fn row_fields(row: &Row) -> Vec<(&'static str, String)> {
    let binding = |f: fn(&super::model::Binding) -> Option<String>| {
        row.binding.as_ref().and_then(f).unwrap_or_default()
    };
    vec![
        ("Component", row.component.clone()),
        ("Scope", row.scope.clone()),
        ("Action", row.action.label().to_string()),
        (
            "Parameters or instructions",
            row.action.detail().to_string(),
        ),
        (
            "Connector",
            binding(|b| {
                b.connector
                    .as_ref()
                    .map(|c| format!("{} ({}, {})", c.name, c.kind, c.base_url))
            }),
        ),
        ("Production DAG", binding(|b| b.dag_id.clone())),
        ("Rollback DAG", binding(|b| b.rollback_dag_id.clone())),
        (
            "Checks",
            row.checks
                .iter()
                .map(|c| c.describe())
                .collect::<Vec<_>>()
                .join("; "),
        ),
        ("Flagging", row.flagging.clone()),
        (
            "Deadline",
            row.deadline_minutes
                .map(|m| format!("{m} min"))
                .unwrap_or_default(),
        ),
        ("Owner", row.owner.clone()),
        (
            "Restores",
            row.restore
                .as_ref()
                .map(|r| {
                    format!(
                        "{} (undoes {}; code {}; restorable until {} UTC)",
                        r.target_label(),
                        if r.undo_version.is_empty() {
                            "an unrecorded version"
                        } else {
                            &r.undo_version
                        },
                        r.code_version.as_deref().unwrap_or("unchanged"),
                        r.restorable_until().format("%Y-%m-%d %H:%M")
                    )
                })
                .unwrap_or_default(),
        ),
    ]
}

pub fn diff(old: &PlanBody, new: &PlanBody) -> PlanDiff {
    let plan = [
        ("Reason", &old.reason, &new.reason),
        ("Criteria for rolling back", &old.criteria, &new.criteria),
        (
            "Expected impact",
            &old.expected_impact,
            &new.expected_impact,
        ),
        (
            "Expected duration",
            &old.expected_duration,
            &new.expected_duration,
        ),
        ("Consumers to notify", &old.consumers, &new.consumers),
        ("Communication", &old.communication, &new.communication),
    ]
    .into_iter()
    .filter_map(|(f, a, b)| change(f, a, b))
    .collect();
    let key = |row: &Row| (row.component_id, row.action.kind());
    let at = |s: usize, r: usize| format!("stage {s} row {r}");
    let olds: HashMap<_, _> = old
        .rows()
        .map(|(s, r, row)| (key(row), (s, r, row)))
        .collect();
    let news: HashMap<_, _> = new
        .rows()
        .map(|(s, r, row)| (key(row), (s, r, row)))
        .collect();
    let mut out = PlanDiff {
        plan,
        ..Default::default()
    };
    for (s, r, row) in new.rows() {
        let entry = |fields| RowChange {
            at: at(s, r),
            component: row.component.clone(),
            action: row.action.label().into(),
            fields,
        };
        match olds.get(&key(row)) {
            None => out.added.push(entry(Vec::new())),
            Some(&(os, or, before)) => {
                let mut fields: Vec<FieldChange> = row_fields(before)
                    .into_iter()
                    .zip(row_fields(row))
                    .filter_map(|((f, a), (_, b))| change(f, &a, &b))
                    .collect();
                if (os, or) != (s, r) {
                    fields.insert(
                        0,
                        FieldChange {
                            field: "Position".into(),
                            before: at(os, or),
                            after: at(s, r),
                        },
                    );
                }
                if !fields.is_empty() {
                    out.changed.push(entry(fields));
                }
            }
        }
    }
    for (s, r, row) in old.rows() {
        if !news.contains_key(&key(row)) {
            out.removed.push(RowChange {
                at: at(s, r),
                component: row.component.clone(),
                action: row.action.label().into(),
                fields: Vec::new(),
            });
        }
    }
    out
}
