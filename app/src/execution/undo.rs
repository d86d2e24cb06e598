//! What an abort undoes: the remote runs the job started that may still be going (stopped
//! first), then the DAGs it paused and had not unpaused again. Pure, so the choice is tested
//! without a database; the worker carries the steps out.

use super::{
    model::StepState,
    repo::StepRow,
    steps::{row_of, NewStep, StepKind},
};
use crate::plans::model::{Action, PlanBody};

/// The undo steps for an aborted job, numbered after its last step.
pub fn undos(steps: &[StepRow], body: &PlanBody) -> Vec<NewStep> {
    let mut stops = Vec::new();
    // (component, the pausing step): a component's production DAG, paused and not yet unpaused.
    let mut paused: Vec<(i64, &StepRow)> = Vec::new();
    for step in steps.iter().filter(|s| s.kind() == StepKind::Action) {
        let Some(row) = row_of(body, step.stage, step.row_number) else {
            continue;
        };
        let state = step.state();
        match &row.action {
            // A pause that failed may still have taken effect (an answer lost): unpause it too.
            Action::PauseDag if !matches!(state, StepState::Pending | StepState::Skipped) => {
                paused.retain(|(c, _)| *c != row.component_id);
                paused.push((row.component_id, step));
            }
            Action::UnpauseDag if state == StepState::Succeeded => {
                paused.retain(|(c, _)| *c != row.component_id);
            }
            Action::TriggerRollback { .. } | Action::ClearRerun
                if step.remote_ref.is_some()
                    && matches!(state, StepState::Running | StepState::Failed) =>
            {
                stops.push(step);
            }
            _ => {}
        }
    }
    let first = steps.iter().map(|s| s.position).max().unwrap_or(0) + 1;
    stops
        .into_iter()
        .chain(paused.into_iter().map(|(_, s)| s))
        .enumerate()
        .map(|(i, s)| NewStep {
            position: first + i as i32,
            stage: s.stage,
            row_number: s.row_number,
            kind: StepKind::Undo(s.position),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plans::model::{Row, Stage};

    fn row(component_id: i64, action: Action) -> Row {
        Row {
            component_id,
            component: format!("c{component_id}"),
            scope: "all".into(),
            action,
            checks: vec![],
            flagging: String::new(),
            owner: "ana".into(),
            restore: None,
            binding: None,
            deadline_minutes: None,
        }
    }

    fn step(position: i32, stage: i32, row_number: i32, state: &str, run: bool) -> StepRow {
        StepRow {
            id: position.into(),
            position,
            stage,
            row_number,
            kind: "action".into(),
            check_number: None,
            undoes: None,
            state: state.into(),
            retries: 0,
            remote_ref: run.then(|| format!("rg-x-e1-s{position}-r0")),
            values_json: None,
            message: String::new(),
            started_at: None,
            finished_at: None,
        }
    }

    fn body() -> PlanBody {
        let trigger = Action::TriggerRollback {
            params: "{}".into(),
        };
        PlanBody {
            stages: vec![
                Stage {
                    rows: vec![row(1, Action::PauseDag), row(2, Action::PauseDag)],
                },
                Stage {
                    rows: vec![row(1, trigger)],
                },
                Stage {
                    rows: vec![row(2, Action::UnpauseDag)],
                },
            ],
            ..Default::default()
        }
    }

    fn undone(out: &[NewStep]) -> Vec<i32> {
        out.iter()
            .map(|s| match s.kind {
                StepKind::Undo(p) => p,
                _ => panic!("only undo steps"),
            })
            .collect()
    }

    #[test]
    fn an_abort_mid_run_stops_the_run_first_then_unpauses_both_paused_dags() {
        let steps = [
            step(1, 1, 1, "succeeded", false),
            step(2, 1, 2, "succeeded", false),
            step(3, 2, 1, "running", true),
            step(4, 3, 1, "pending", false),
        ];
        let out = undos(&steps, &body());
        assert_eq!(undone(&out), [3, 1, 2]);
        assert_eq!(out[0].position, 5, "numbered after the job's last step");
        assert_eq!((out[1].stage, out[1].row_number), (1, 1));
    }

    #[test]
    fn a_dag_the_plan_already_unpaused_is_left_alone() {
        let steps = [
            step(1, 1, 1, "succeeded", false),
            step(2, 1, 2, "succeeded", false),
            step(3, 2, 1, "succeeded", true),
            step(4, 3, 1, "succeeded", false),
        ];
        assert_eq!(undone(&undos(&steps, &body())), [1]);
    }

    #[test]
    fn nothing_is_undone_before_the_first_step_ran() {
        let steps = [
            step(1, 1, 1, "pending", false),
            step(2, 1, 2, "pending", false),
        ];
        assert!(undos(&steps, &body()).is_empty());
    }

    #[test]
    fn a_failed_pause_is_undone_in_case_it_took_effect() {
        let steps = [
            step(1, 1, 1, "failed", false),
            step(2, 1, 2, "pending", false),
        ];
        assert_eq!(undone(&undos(&steps, &body())), [1]);
    }
}
