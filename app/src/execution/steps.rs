//! A plan revision unrolled into the steps a job carries out: per stage, each row's action in
//! order, then each row's checks. Pure, so the order is tested without a database.

use serde_json::{Map, Value};

use crate::plans::model::{Check, PlanBody, Row};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StepKind {
    Action,
    /// The row's check with this number, from 1.
    Check(i32),
    /// After an abort: undoes the step at this position (unpauses the DAG it paused, stops the
    /// run it started).
    Undo(i32),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewStep {
    pub position: i32,
    pub stage: i32,
    pub row_number: i32,
    pub kind: StepKind,
}

pub fn unroll(body: &PlanBody) -> Vec<NewStep> {
    let mut out = Vec::new();
    let mut push = |stage: usize, row: usize, kind| {
        out.push(NewStep {
            position: out.len() as i32 + 1,
            stage: stage as i32,
            row_number: row as i32,
            kind,
        })
    };
    for (s, stage) in body.stages.iter().enumerate() {
        for r in 0..stage.rows.len() {
            push(s + 1, r + 1, StepKind::Action);
        }
        for (r, row) in stage.rows.iter().enumerate() {
            for c in 0..row.checks.len() {
                push(s + 1, r + 1, StepKind::Check(c as i32 + 1));
            }
        }
    }
    out
}

/// The row a step belongs to.
pub fn row_of(body: &PlanBody, stage: i32, row: i32) -> Option<&Row> {
    body.stages
        .get(usize::try_from(stage - 1).ok()?)?
        .rows
        .get(usize::try_from(row - 1).ok()?)
}

/// Judges a check against what the row's action did and the values its pipeline reported.
/// `Ok` and `Err` both carry the sentence stored as evidence.
pub fn judge(
    check: &Check,
    action_ran: bool,
    values: Option<&Map<String, Value>>,
) -> Result<String, String> {
    if let Check::RunSucceeded = check {
        return match action_ran {
            true => Ok("The row's action succeeded.".into()),
            false => Err("The row's action was skipped, so there is no run to check.".into()),
        };
    }
    let (name, expected) = match check {
        Check::RowCount { .. } | Check::RowCountEqualsSnapshot { .. } => ("row_count", None),
        Check::Checksum { expected } => ("checksum", Some(expected.clone())),
        Check::Custom { name, expected } => (name.as_str(), Some(expected.clone())),
        Check::RunSucceeded => unreachable!("answered above"),
    };
    let Some(value) = values.and_then(|v| v.get(name)).filter(|v| !v.is_null()) else {
        return Err(format!("The pipeline reported no `{name}` value."));
    };
    let shown = match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    match check {
        Check::RowCount { min, max } => match value.as_i64() {
            Some(n) if (*min..=*max).contains(&n) => {
                Ok(format!("Row count {n} is between {min} and {max}."))
            }
            Some(n) => Err(format!("Row count {n} is outside {min}–{max}.")),
            None => Err(format!("`row_count` is not a whole number: {shown}.")),
        },
        Check::RowCountEqualsSnapshot { snapshot, count } => match value.as_i64() {
            Some(n) if n == *count => Ok(format!("Row count {n} equals snapshot {snapshot}.")),
            Some(n) => Err(format!(
                "Row count {n} differs from snapshot {snapshot} ({count})."
            )),
            None => Err(format!("`row_count` is not a whole number: {shown}.")),
        },
        _ => {
            let expected = expected.unwrap_or_default();
            match shown == expected {
                true => Ok(format!("`{name}` is {shown}, as expected.")),
                false => Err(format!("`{name}` is {shown}; the plan expects {expected}.")),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::plans::model::{Action, Stage};

    fn row(checks: Vec<Check>) -> Row {
        Row {
            component_id: 1,
            component: "orders".into(),
            scope: "all".into(),
            action: Action::PauseDag,
            checks,
            flagging: String::new(),
            owner: "ana".into(),
            restore: None,
            binding: None,
            deadline_minutes: None,
        }
    }

    #[test]
    fn each_stage_runs_its_actions_before_its_checks() {
        let body = PlanBody {
            stages: vec![
                Stage {
                    rows: vec![row(vec![Check::RunSucceeded]), row(vec![])],
                },
                Stage {
                    rows: vec![row(vec![
                        Check::RunSucceeded,
                        Check::Checksum {
                            expected: "x".into(),
                        },
                    ])],
                },
            ],
            ..Default::default()
        };
        let got: Vec<(i32, i32, i32, StepKind)> = unroll(&body)
            .into_iter()
            .map(|s| (s.position, s.stage, s.row_number, s.kind))
            .collect();
        assert_eq!(
            got,
            [
                (1, 1, 1, StepKind::Action),
                (2, 1, 2, StepKind::Action),
                (3, 1, 1, StepKind::Check(1)),
                (4, 2, 1, StepKind::Action),
                (5, 2, 1, StepKind::Check(1)),
                (6, 2, 1, StepKind::Check(2)),
            ]
        );
    }

    #[test]
    fn checks_compare_reported_values_with_the_plan() {
        let values = json!({"row_count": 12, "checksum": "ab12", "late_rows": 0})
            .as_object()
            .cloned()
            .unwrap();
        let v = Some(&values);
        assert!(judge(&Check::RowCount { min: 10, max: 20 }, true, v).is_ok());
        assert_eq!(
            judge(&Check::RowCount { min: 13, max: 20 }, true, v),
            Err("Row count 12 is outside 13–20.".into())
        );
        assert!(judge(
            &Check::RowCountEqualsSnapshot {
                snapshot: "s1".into(),
                count: 12
            },
            true,
            v
        )
        .is_ok());
        assert!(judge(
            &Check::Checksum {
                expected: "ab12".into()
            },
            true,
            v
        )
        .is_ok());
        assert!(judge(
            &Check::Custom {
                name: "late_rows".into(),
                expected: "0".into()
            },
            true,
            v
        )
        .is_ok());
        assert_eq!(
            judge(
                &Check::Custom {
                    name: "nulls".into(),
                    expected: "0".into()
                },
                true,
                v
            ),
            Err("The pipeline reported no `nulls` value.".into())
        );
        assert!(
            judge(&Check::RunSucceeded, false, None).is_err(),
            "a skipped action has no run"
        );
    }
}
