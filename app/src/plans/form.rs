//! The plan editor's form: every row's fields flat, with its stage number, plus the button that
//! was pressed (save, add, remove, move). Works the same with and without JavaScript.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::model::{Action, Check, PlanBody, Restore, Retention, Row, Stage};
use crate::error::FieldError;

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RowForm {
    pub stage: String,
    pub component_id: i64,
    pub component: String,
    #[serde(default)]
    pub scope: String,
    #[serde(default)]
    pub action: String,
    /// Parameters (JSON) or instructions.
    #[serde(default)]
    pub detail: String,
    /// One check per line (see `parse_check`).
    #[serde(default)]
    pub checks: String,
    #[serde(default)]
    pub flagging: String,
    #[serde(default)]
    pub owner: String,
    /// The data version to restore (`previous` or an id); empty when the row restores none.
    #[serde(default)]
    pub target_version: String,
    #[serde(default)]
    pub retention: String,
    #[serde(default)]
    pub retention_hours: String,
    /// Minutes the action may take; empty for the default.
    #[serde(default)]
    pub deadline_minutes: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanForm {
    #[serde(default)]
    pub reason: String,
    #[serde(default)]
    pub criteria: String,
    #[serde(default)]
    pub expected_impact: String,
    #[serde(default)]
    pub expected_duration: String,
    #[serde(default)]
    pub consumers: String,
    #[serde(default)]
    pub communication: String,
    #[serde(default)]
    pub rows: Vec<RowForm>,
}

/// The form field of a row's input: `s{stage}r{row}.{name}`, both counted from 1.
pub fn row_field(stage: usize, row: usize, name: &str) -> String {
    format!("s{stage}r{row}.{name}")
}

/// The button pressed, with the index of the row it belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Save,
    Remove(usize),
    Up(usize),
    Down(usize),
    /// Put the row in a stage of its own, right after its current stage.
    OwnStage(usize),
}

impl Op {
    pub fn parse(s: &str) -> Op {
        let (verb, index) = s.split_once(':').unwrap_or((s, ""));
        match (verb, index.parse::<usize>()) {
            ("remove", Ok(i)) => Op::Remove(i),
            ("up", Ok(i)) => Op::Up(i),
            ("down", Ok(i)) => Op::Down(i),
            ("stage", Ok(i)) => Op::OwnStage(i),
            _ => Op::Save,
        }
    }
}

/// One check as written: `run succeeded`, `row count 100-200`, `row count = snapshot S (123)`,
/// `checksum ABC`, `custom NAME = VALUE`.
pub fn parse_check(line: &str) -> Result<Check, String> {
    let l = line.trim();
    // Prefixes compared without case, on byte boundaries `get` checks (never a panic).
    let strip = |prefix: &str| {
        l.get(..prefix.len())
            .filter(|p| p.eq_ignore_ascii_case(prefix))
            .and_then(|_| l.get(prefix.len()..))
            .map(str::trim)
    };
    if l.eq_ignore_ascii_case("run succeeded") {
        return Ok(Check::RunSucceeded);
    }
    if let Some(rest) = strip("row count = snapshot ") {
        let (snapshot, count) = rest
            .rsplit_once('(')
            .and_then(|(s, c)| {
                Some((
                    s.trim().to_string(),
                    c.trim_end_matches(')').trim().parse::<i64>().ok()?,
                ))
            })
            .ok_or_else(|| format!("`{l}`: write `row count = snapshot ID (ROWS)`"))?;
        return Ok(Check::RowCountEqualsSnapshot { snapshot, count });
    }
    if let Some(rest) = strip("row count ") {
        let (min, max) = rest
            .split_once('-')
            .and_then(|(a, b)| Some((a.trim().parse().ok()?, b.trim().parse().ok()?)))
            .ok_or_else(|| {
                format!("`{l}`: write `row count MIN-MAX`, e.g. `row count 1000-1200`")
            })?;
        return Ok(Check::RowCount { min, max });
    }
    if let Some(expected) = strip("checksum ") {
        return Ok(Check::Checksum {
            expected: expected.to_string(),
        });
    }
    if let Some(rest) = strip("custom ") {
        let (name, expected) = rest
            .split_once('=')
            .ok_or_else(|| format!("`{l}`: write `custom NAME = VALUE`"))?;
        return Ok(Check::Custom {
            name: name.trim().into(),
            expected: expected.trim().into(),
        });
    }
    Err(format!(
        "`{l}` is not a check: use `run succeeded`, `row count MIN-MAX`, `row count = snapshot ID (ROWS)`, `checksum VALUE` or `custom NAME = VALUE`"
    ))
}

/// A check written back the way `parse_check` reads it.
pub fn format_check(c: &Check) -> String {
    match c {
        Check::RunSucceeded => "run succeeded".into(),
        Check::RowCount { min, max } => format!("row count {min}-{max}"),
        Check::RowCountEqualsSnapshot { snapshot, count } => {
            format!("row count = snapshot {snapshot} ({count})")
        }
        Check::Checksum { expected } => format!("checksum {expected}"),
        Check::Custom { name, expected } => format!("custom {name} = {expected}"),
    }
}

fn action(kind: &str, detail: &str) -> Option<Action> {
    Some(match kind {
        "pause_dag" => Action::PauseDag,
        "trigger_rollback" => Action::TriggerRollback {
            params: detail.trim().to_string(),
        },
        "clear_rerun" => Action::ClearRerun,
        "unpause_dag" => Action::UnpauseDag,
        "webhook" => Action::Webhook,
        "manual" => Action::Manual {
            instructions: detail.trim().to_string(),
        },
        _ => return None,
    })
}

fn retention(kind: &str, hours: &str) -> Result<Retention, String> {
    Ok(match kind {
        "delta_vacuum" => Retention::DeltaVacuum,
        "iceberg_snapshot_expiry" => Retention::IcebergSnapshotExpiry,
        "custom" => Retention::Custom {
            hours: hours
                .trim()
                .parse()
                .map_err(|_| format!("`{}` is not a number of hours", hours.trim()))?,
        },
        _ => Retention::SnowflakeTimeTravel,
    })
}

impl PlanForm {
    /// The form as rows in stage order, one position per row, before the button's move.
    fn ordered(&self) -> Vec<(u32, &RowForm)> {
        let mut rows: Vec<(u32, usize, &RowForm)> = self
            .rows
            .iter()
            .enumerate()
            .map(|(i, r)| (r.stage.trim().parse().unwrap_or(u32::MAX), i, r))
            .collect();
        rows.sort_by_key(|(s, i, _)| (*s, *i));
        rows.into_iter().map(|(s, _, r)| (s, r)).collect()
    }

    /// Applies the button and builds the body; field errors name `s{stage}r{row}.{field}`.
    pub fn body(&self, op: Op) -> Result<PlanBody, Vec<FieldError>> {
        let mut stages: BTreeMap<u32, Vec<&RowForm>> = BTreeMap::new();
        for (s, r) in self.ordered() {
            stages.entry(s).or_default().push(r);
        }
        let mut grid: Vec<Vec<&RowForm>> = stages.into_values().collect();
        apply(&mut grid, &self.rows, op);
        let mut errors = Vec::new();
        let mut out = Vec::new();
        for (s, rows) in grid.into_iter().filter(|r| !r.is_empty()).enumerate() {
            let mut stage = Stage::default();
            for (r, row) in rows.into_iter().enumerate() {
                match row_from(row, s + 1, r + 1) {
                    Ok(row) => stage.rows.push(row),
                    Err(e) => errors.extend(e),
                }
            }
            out.push(stage);
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        Ok(PlanBody {
            reason: self.reason.clone(),
            criteria: self.criteria.clone(),
            expected_impact: self.expected_impact.clone(),
            expected_duration: self.expected_duration.clone(),
            consumers: self.consumers.clone(),
            communication: self.communication.clone(),
            stages: out,
        })
    }
}

fn position(grid: &[Vec<&RowForm>], target: &RowForm) -> Option<(usize, usize)> {
    grid.iter().enumerate().find_map(|(s, rows)| {
        rows.iter()
            .position(|r| std::ptr::eq(*r, target))
            .map(|r| (s, r))
    })
}

fn apply<'a>(grid: &mut Vec<Vec<&'a RowForm>>, rows: &'a [RowForm], op: Op) {
    let index = match op {
        Op::Save => return,
        Op::Remove(i) | Op::Up(i) | Op::Down(i) | Op::OwnStage(i) => i,
    };
    let Some((s, r)) = rows.get(index).and_then(|row| position(grid, row)) else {
        return;
    };
    match op {
        Op::Remove(_) => {
            grid[s].remove(r);
        }
        Op::Up(_) if r > 0 => grid[s].swap(r, r - 1),
        Op::Up(_) if s > 0 => {
            let row = grid[s].remove(r);
            grid[s - 1].push(row);
        }
        Op::Down(_) if r + 1 < grid[s].len() => grid[s].swap(r, r + 1),
        Op::Down(_) if s + 1 < grid.len() => {
            let row = grid[s].remove(r);
            grid[s + 1].insert(0, row);
        }
        Op::OwnStage(_) if grid[s].len() > 1 => {
            let row = grid[s].remove(r);
            grid.insert(s + 1, vec![row]);
        }
        _ => {}
    }
}

fn row_from(f: &RowForm, s: usize, r: usize) -> Result<Row, Vec<FieldError>> {
    let mut errors = Vec::new();
    let action = action(&f.action, &f.detail).unwrap_or_else(|| {
        errors.push(FieldError::new(
            &row_field(s, r, "action"),
            "Choose an action.",
        ));
        Action::PauseDag
    });
    let mut checks = Vec::new();
    for line in f.checks.lines().filter(|l| !l.trim().is_empty()) {
        match parse_check(line) {
            Ok(c) => checks.push(c),
            Err(m) => errors.push(FieldError::new(&row_field(s, r, "checks"), m)),
        }
    }
    // The undone version, the code version and the time retention counts from are filled in
    // by the server from the change (`plans::resolve`), never taken from the form.
    let restore = if f.target_version.trim().is_empty() {
        None
    } else {
        match retention(&f.retention, &f.retention_hours) {
            Ok(retention) => Some(Restore {
                target_version: f.target_version.trim().to_string(),
                undo_version: String::new(),
                code_version: None,
                since: DateTime::<Utc>::UNIX_EPOCH,
                retention,
            }),
            Err(m) => {
                errors.push(FieldError::new(&row_field(s, r, "retention_hours"), m));
                None
            }
        }
    };
    let deadline_minutes = match deadline(&f.deadline_minutes) {
        Ok(d) => d,
        Err(m) => {
            errors.push(FieldError::new(&row_field(s, r, "deadline_minutes"), m));
            None
        }
    };
    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(Row {
        component_id: f.component_id,
        component: f.component.clone(),
        scope: f.scope.trim().to_string(),
        action,
        checks,
        flagging: f.flagging.trim().to_string(),
        owner: f.owner.trim().to_string(),
        restore,
        binding: None,
        deadline_minutes,
    })
}

/// The longest a row may wait: a week.
pub const DEADLINE_MAX_MINUTES: u32 = 7 * 24 * 60;

/// A row's deadline in minutes: empty for the default, else a whole number up to a week.
fn deadline(raw: &str) -> Result<Option<u32>, String> {
    let raw = raw.trim();
    if raw.is_empty() {
        return Ok(None);
    }
    match raw.parse::<u32>() {
        Ok(m) if (1..=DEADLINE_MAX_MINUTES).contains(&m) => Ok(Some(m)),
        _ => Err(format!(
            "must be whole minutes from 1 to {DEADLINE_MAX_MINUTES} (a week), or empty for the default (2 h for a run, 24 h for a manual step)"
        )),
    }
}

/// The form a body is edited in (the inverse of `PlanForm::body` with `Op::Save`).
pub fn form_of(body: &PlanBody) -> PlanForm {
    PlanForm {
        reason: body.reason.clone(),
        criteria: body.criteria.clone(),
        expected_impact: body.expected_impact.clone(),
        expected_duration: body.expected_duration.clone(),
        consumers: body.consumers.clone(),
        communication: body.communication.clone(),
        rows: body
            .rows()
            .map(|(s, _, row)| RowForm {
                stage: s.to_string(),
                component_id: row.component_id,
                component: row.component.clone(),
                scope: row.scope.clone(),
                action: row.action.kind().into(),
                detail: row.action.detail().into(),
                checks: row
                    .checks
                    .iter()
                    .map(format_check)
                    .collect::<Vec<_>>()
                    .join("\n"),
                flagging: row.flagging.clone(),
                owner: row.owner.clone(),
                target_version: row
                    .restore
                    .as_ref()
                    .map(|x| x.target_version.clone())
                    .unwrap_or_default(),
                retention: row
                    .restore
                    .as_ref()
                    .map(|x| x.retention.kind().to_string())
                    .unwrap_or_default(),
                retention_hours: match row.restore.as_ref().map(|x| &x.retention) {
                    Some(Retention::Custom { hours }) => hours.to_string(),
                    _ => String::new(),
                },
                deadline_minutes: row
                    .deadline_minutes
                    .map(|m| m.to_string())
                    .unwrap_or_default(),
            })
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::deadline;

    #[test]
    fn a_deadline_is_whole_minutes_up_to_a_week_or_empty_for_the_default() {
        assert_eq!(deadline(""), Ok(None));
        assert_eq!(deadline(" 90 "), Ok(Some(90)));
        assert_eq!(deadline("10080"), Ok(Some(10080)));
        for bad in ["0", "10081", "1.5", "-3", "2h"] {
            let err = deadline(bad).unwrap_err();
            assert!(
                err.starts_with("must be whole minutes from 1 to 10080"),
                "{bad}: {err}"
            );
        }
    }
}
