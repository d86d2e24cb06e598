//! The rules a plan revision must satisfy before it is saved, and the restorability rule checked
//! when it is approved or executed. Pure functions: the lineage comes in as a graph.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};

pub use super::form::row_field;
use super::model::{Action, Check, PlanBody, Row};
use crate::{catalog::graph::Graph, error::FieldError, validate};

/// Checks every field and the order of the stages against lineage; all problems at once.
pub fn check(body: &PlanBody, lineage: &Graph) -> Result<(), Vec<FieldError>> {
    let mut errors = Vec::new();
    let mut keep = |r: Result<String, FieldError>| {
        if let Err(e) = r {
            errors.push(e);
        }
    };
    keep(validate::text("reason", &body.reason, 4000, true, true));
    keep(validate::text(
        "criteria",
        &body.criteria,
        4000,
        false,
        true,
    ));
    keep(validate::text(
        "expected_impact",
        &body.expected_impact,
        4000,
        false,
        true,
    ));
    keep(validate::text(
        "expected_duration",
        &body.expected_duration,
        200,
        false,
        false,
    ));
    keep(validate::text(
        "consumers",
        &body.consumers,
        4000,
        false,
        true,
    ));
    keep(validate::text(
        "communication",
        &body.communication,
        4000,
        false,
        true,
    ));
    if body.row_count() == 0 {
        errors.push(FieldError::new(
            "stages",
            "A plan needs at least one row: add the components to roll back.",
        ));
    }
    for (i, stage) in body.stages.iter().enumerate() {
        if stage.rows.is_empty() {
            errors.push(FieldError::new(
                "stages",
                format!(
                    "Stage {} has no rows: remove it or move a row into it.",
                    i + 1
                ),
            ));
        }
    }
    let mut seen: HashMap<(i64, &str), (usize, usize)> = HashMap::new();
    for (s, r, row) in body.rows() {
        errors.extend(row_errors(s, r, row));
        if let Some((ps, pr)) = seen.insert((row.component_id, row.action.kind()), (s, r)) {
            errors.push(FieldError::new(
                &row_field(s, r, "action"),
                format!(
                    "`{}` already has this action in stage {ps} row {pr}: one row per component and action.",
                    row.component
                ),
            ));
        }
    }
    errors.extend(order_errors(body, lineage));
    errors.extend(paused_rerun_errors(body));
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors)
    }
}

fn row_errors(s: usize, r: usize, row: &Row) -> Vec<FieldError> {
    let f = |name: &str| row_field(s, r, name);
    let mut errors = Vec::new();
    for (name, value, max, required, multiline) in [
        ("scope", row.scope.as_str(), 500, true, false),
        ("flagging", row.flagging.as_str(), 1000, false, true),
        ("owner", row.owner.as_str(), 100, true, false),
    ] {
        if let Err(e) = validate::text(&f(name), value, max, required, multiline) {
            errors.push(e);
        }
    }
    match &row.action {
        Action::TriggerRollback { params } if !params.trim().is_empty() => {
            if !matches!(
                serde_json::from_str::<serde_json::Value>(params),
                Ok(serde_json::Value::Object(_))
            ) {
                errors.push(FieldError::new(
                    &f("detail"),
                    "The rollback DAG's parameters must be a JSON object, like {\"scope\": \"2026-11-01\"}.",
                ));
            }
        }
        Action::Manual { instructions } if instructions.trim().is_empty() => {
            errors.push(FieldError::new(
                &f("detail"),
                "A manual step needs instructions: say what the person does.",
            ));
        }
        _ => {}
    }
    for check in &row.checks {
        if let Some(message) = check_error(check) {
            errors.push(FieldError::new(&f("checks"), message));
        }
    }
    if let Some(restore) = &row.restore {
        if restore.target_version.trim().is_empty() {
            errors.push(FieldError::new(
                &f("target_version"),
                "Name the snapshot or time-travel id this row restores, or `previous`.",
            ));
        } else if let Err(e) = validate::text(
            &f("target_version"),
            &restore.target_version,
            200,
            true,
            false,
        ) {
            errors.push(e);
        }
        if let super::model::Retention::Custom { hours } = &restore.retention {
            if !(1..=87_600).contains(hours) {
                errors.push(FieldError::new(
                    &f("retention_hours"),
                    "The retention must be between 1 hour and 10 years (87 600 hours).",
                ));
            }
        }
    }
    errors
}

fn check_error(check: &Check) -> Option<String> {
    match check {
        Check::RowCount { min, max } if min < &0 || min > max => {
            Some(format!("The row count range {min}–{max} is empty: the minimum must be 0 or more and not above the maximum."))
        }
        Check::RowCountEqualsSnapshot { snapshot, count } if snapshot.trim().is_empty() || *count < 0 => {
            Some("A snapshot row count check needs the snapshot id and its row count (0 or more).".into())
        }
        Check::Checksum { expected } if expected.trim().is_empty() => Some("A checksum check needs the expected checksum.".into()),
        Check::Custom { name, expected } if name.trim().is_empty() || expected.trim().is_empty() => {
            Some("A custom check needs the name of the reported value and the value expected.".into())
        }
        _ => None,
    }
}

/// Rows that restore or recompute data must come after the rows of their upstream components:
/// a stage may not depend on a later stage. Pausing and unpausing are free to go anywhere.
fn order_errors(body: &PlanBody, lineage: &Graph) -> Vec<FieldError> {
    let data_rows: Vec<(usize, usize, &Row)> = body
        .rows()
        .filter(|(_, _, row)| !matches!(row.action, Action::PauseDag | Action::UnpauseDag))
        .collect();
    let ids: HashSet<i64> = data_rows
        .iter()
        .map(|(_, _, row)| row.component_id)
        .collect();
    let mut errors = Vec::new();
    for &(s, r, row) in &data_rows {
        let below: HashSet<i64> = lineage
            .reach(row.component_id)
            .into_keys()
            .filter(|id| ids.contains(id))
            .collect();
        for &(ds, dr, down) in &data_rows {
            if below.contains(&down.component_id) && (ds, dr) < (s, r) {
                errors.push(FieldError::new(
                    &row_field(ds, dr, "position"),
                    format!(
                        "Stage {ds} row {dr} (`{}`) depends on `{}`, which comes later (stage {s} row {r}): move it after its upstream.",
                        down.component, row.component
                    ),
                ));
            }
        }
    }
    errors
}

/// What a plan needs before approvers see it: every row that restores or re-runs data names
/// how it is verified and how consumers can tell reconciled data, and the plan says why rolling
/// back beats a forward fix.
pub fn readiness(body: &PlanBody) -> Vec<FieldError> {
    let mut errors = Vec::new();
    if body.criteria.trim().is_empty() {
        errors.push(FieldError::new(
            "criteria",
            "Say why rolling back beats a forward fix: approvers weigh exactly that.",
        ));
    }
    for (s, r, row) in body.rows().filter(|(_, _, row)| touches_data(row)) {
        if row.checks.is_empty() {
            errors.push(FieldError::new(
                &row_field(s, r, "checks"),
                format!(
                    "Stage {s} row {r} (`{}`) restores or re-runs data but verifies nothing: add a check such as `run succeeded` or `row count MIN-MAX`.",
                    row.component
                ),
            ));
        }
        if row.flagging.trim().is_empty() {
            errors.push(FieldError::new(
                &row_field(s, r, "flagging"),
                format!(
                    "Stage {s} row {r} (`{}`) changes data consumers read: say how they can tell reconciled data (a flag column, a banner, a note).",
                    row.component
                ),
            ));
        }
    }
    errors
}

/// Rows that restore or recompute data (pausing, unpausing and plain manual steps do not).
fn touches_data(row: &Row) -> bool {
    matches!(
        row.action,
        Action::TriggerRollback { .. } | Action::ClearRerun
    ) || row.restore.is_some()
}

/// A clear-and-re-run of a DAG that an earlier stage paused (and no stage before it unpauses)
/// would stay queued in Airflow for good.
fn paused_rerun_errors(body: &PlanBody) -> Vec<FieldError> {
    let mut paused: HashMap<i64, (usize, usize)> = HashMap::new();
    let mut errors = Vec::new();
    for (s, stage) in body.stages.iter().enumerate() {
        for (r, row) in stage.rows.iter().enumerate() {
            if let (Action::ClearRerun, Some((ps, pr))) =
                (&row.action, paused.get(&row.component_id))
            {
                errors.push(FieldError::new(
                    &row_field(s + 1, r + 1, "action"),
                    format!(
                        "`{}` is paused in stage {ps} row {pr}, so its re-run would stay queued in Airflow: unpause it in an earlier stage, or do not pause it.",
                        row.component
                    ),
                ));
            }
        }
        for (r, row) in stage.rows.iter().enumerate() {
            match row.action {
                Action::PauseDag => {
                    paused.insert(row.component_id, (s + 1, r + 1));
                }
                Action::UnpauseDag => {
                    paused.remove(&row.component_id);
                }
                _ => {}
            }
        }
    }
    errors
}

/// Refuses approving or executing once a restored data version may be gone, naming the row.
pub fn check_restorable(body: &PlanBody, now: DateTime<Utc>) -> Result<(), String> {
    match body.restorable_until() {
        Some((until, s, r, row)) if until <= now => Err(format!(
            "Stage {s} row {r} (`{}`) restores {} which was restorable only until {} UTC: the storage may have discarded it. Revise the plan (a newer version, or a longer retention if the storage keeps it).",
            row.component,
            row.restore.as_ref().map(|x| x.target_label()).unwrap_or_default(),
            until.format("%Y-%m-%d %H:%M")
        )),
        _ => Ok(()),
    }
}
