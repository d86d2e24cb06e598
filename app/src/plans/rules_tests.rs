//! The plan rules without a database: proposal order, validation, restorability, comparison.

use chrono::{DateTime, Duration, TimeZone, Utc};
use proptest::prelude::*;

use super::{
    diff::diff,
    model::{Action, Check, PlanBody, Restore, Retention, Row, Stage},
    propose::{Candidate, Proposal},
    rules::{check, check_restorable},
};
use crate::catalog::{graph::Graph, model::ComponentKind};

fn at() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 20, 9, 0, 0).unwrap()
}

fn candidate(
    id: i64,
    name: &str,
    kind: ComponentKind,
    dag: bool,
    version: Option<&str>,
) -> Candidate {
    Candidate {
        id,
        name: name.into(),
        kind,
        owner: String::new(),
        dag_id: dag.then(|| format!("{name}_dag")),
        rollback_dag_id: dag.then(|| format!("{name}_rollback")),
        data_version: version.map(str::to_string),
    }
}

/// raw (1) → orders job (2) → mart (3) → dashboard (4)
fn lineage() -> Graph {
    Graph::from_edges([(1, 2), (2, 3), (3, 4)])
}

fn proposed() -> PlanBody {
    let g = lineage();
    Proposal {
        title: "Broken currency conversion",
        deployed_at: at(),
        requester: "rita",
        candidates: vec![
            candidate(1, "raw", ComponentKind::Dataset, false, Some("snap-41")),
            candidate(2, "orders", ComponentKind::Job, true, None),
            candidate(3, "mart", ComponentKind::Dataset, false, None),
            candidate(4, "dash", ComponentKind::Dashboard, false, None),
        ],
        lineage: &g,
    }
    .body()
}

fn names(stage: &Stage) -> Vec<(&str, &str)> {
    stage
        .rows
        .iter()
        .map(|r| (r.component.as_str(), r.action.kind()))
        .collect()
}

#[test]
fn the_proposal_pauses_jobs_restores_upstream_first_and_unpauses_last() {
    let body = proposed();
    let stages: Vec<_> = body.stages.iter().map(names).collect();
    assert_eq!(
        stages,
        vec![
            vec![("orders", "pause_dag")],
            vec![("raw", "manual")],
            vec![("orders", "trigger_rollback")],
            vec![("mart", "manual")],
            vec![("dash", "manual")],
            vec![("orders", "unpause_dag")],
        ]
    );
    let raw = &body.stages[1].rows[0];
    assert_eq!(
        raw.restore.as_ref().map(|r| r.undo_version.as_str()),
        Some("snap-41")
    );
    assert_eq!(raw.owner, "rita");
    assert_eq!(body.stages[2].rows[0].checks, vec![Check::RunSucceeded]);
    assert_eq!(check(&body, &lineage()), Ok(()));
}

#[test]
fn a_plan_without_rows_or_with_an_empty_stage_is_refused() {
    let empty = PlanBody {
        reason: "x".into(),
        ..Default::default()
    };
    let errors = check(&empty, &lineage()).unwrap_err();
    assert!(errors
        .iter()
        .any(|e| e.field == "stages" && e.message.contains("at least one row")));
    let mut body = proposed();
    body.stages.insert(1, Stage::default());
    let errors = check(&body, &lineage()).unwrap_err();
    assert!(errors
        .iter()
        .any(|e| e.message == "Stage 2 has no rows: remove it or move a row into it."));
}

#[test]
fn a_stage_that_depends_on_a_later_stage_is_refused_naming_both_rows() {
    let mut body = proposed();
    body.stages.swap(3, 1); // mart before raw
    let errors = check(&body, &lineage()).unwrap_err();
    let named = |text: &str| {
        errors
            .iter()
            .any(|e| e.field == "s2r1.position" && e.message.contains(text))
    };
    assert!(
        named("Stage 2 row 1 (`mart`) depends on `raw`, which comes later (stage 4 row 1)"),
        "{errors:?}"
    );
    assert!(
        named("Stage 2 row 1 (`mart`) depends on `orders`, which comes later (stage 3 row 1)"),
        "{errors:?}"
    );
}

#[test]
fn pausing_downstream_jobs_before_their_upstream_is_allowed() {
    let body = proposed();
    // Stage 1 pauses `orders`, which is downstream of `raw` restored in stage 2.
    assert_eq!(body.stages[0].rows[0].action, Action::PauseDag);
    assert_eq!(check(&body, &lineage()), Ok(()));
}

#[test]
fn row_fields_are_checked_with_the_row_named() {
    let mut body = proposed();
    body.stages[2].rows[0].action = Action::TriggerRollback {
        params: "[1, 2]".into(),
    };
    body.stages[2].rows[0]
        .checks
        .push(Check::RowCount { min: 10, max: 5 });
    body.stages[1].rows[0].scope = " ".into();
    body.stages[3].rows[0].action = Action::Manual {
        instructions: "".into(),
    };
    let errors = check(&body, &lineage()).unwrap_err();
    let field = |f: &str| {
        errors
            .iter()
            .find(|e| e.field == f)
            .map(|e| e.message.clone())
            .unwrap_or_default()
    };
    assert!(field("s3r1.detail").contains("JSON object"));
    assert!(field("s3r1.checks").contains("10–5 is empty"));
    assert_eq!(field("s2r1.scope"), "is required");
    assert!(field("s4r1.detail").contains("needs instructions"));
}

#[test]
fn the_same_action_twice_on_a_component_is_refused() {
    let mut body = proposed();
    let again = body.stages[0].rows[0].clone();
    body.stages[0].rows.push(again);
    let errors = check(&body, &lineage()).unwrap_err();
    assert!(errors.iter().any(|e| e.field == "s1r2.action"
        && e.message
            .contains("already has this action in stage 1 row 1")));
}

#[test]
fn approving_after_a_restored_version_expires_is_refused_naming_the_row() {
    let body = proposed();
    let until = at() + Duration::days(1);
    assert_eq!(body.restorable_until().map(|(t, ..)| t), Some(until));
    assert_eq!(
        check_restorable(&body, until - Duration::minutes(1)),
        Ok(())
    );
    let refused = check_restorable(&body, until).unwrap_err();
    assert!(refused.starts_with("Stage 2 row 1 (`raw`) restores the version before snap-41 which was restorable only until 2026-11-21 09:00 UTC"), "{refused}");
}

#[test]
fn retention_periods_follow_the_storage_defaults() {
    let r = |retention| {
        Restore {
            target_version: "v1".into(),
            undo_version: "v2".into(),
            code_version: None,
            since: at(),
            retention,
        }
        .restorable_until()
            - at()
    };
    assert_eq!(r(Retention::SnowflakeTimeTravel), Duration::days(1));
    assert_eq!(r(Retention::DeltaVacuum), Duration::days(7));
    assert_eq!(r(Retention::Custom { hours: 36 }), Duration::hours(36));
}

#[test]
fn comparing_revisions_lists_rows_added_removed_moved_and_changed() {
    let old = proposed();
    let mut new = old.clone();
    new.reason = "Revenue is double counted".into();
    new.stages[1].rows[0].scope = "partition 2026-11-19".into();
    let dash = new.stages.remove(4);
    new.stages[3].rows.extend(dash.rows); // dash moves into the mart stage
    new.stages[0].rows.clear();
    new.stages.remove(0); // no more pause
    let d = diff(&old, &new);
    assert_eq!(d.plan.len(), 1);
    assert_eq!(
        d.removed
            .iter()
            .map(|r| (r.component.as_str(), r.at.as_str()))
            .collect::<Vec<_>>(),
        vec![("orders", "stage 1 row 1")]
    );
    assert!(d.added.is_empty());
    let changed: Vec<(&str, Vec<&str>)> = d
        .changed
        .iter()
        .map(|r| {
            (
                r.component.as_str(),
                r.fields.iter().map(|f| f.field.as_str()).collect(),
            )
        })
        .collect();
    assert!(
        changed.contains(&("raw", vec!["Position", "Scope"])),
        "{changed:?}"
    );
    assert!(changed.contains(&("dash", vec!["Position"])), "{changed:?}");
    assert!(diff(&old, &old).is_empty());
}

#[test]
fn a_job_only_re_run_is_not_paused_and_a_paused_re_run_is_refused() {
    let g = Graph::from_edges([(1, 2)]);
    let body = Proposal {
        title: "t",
        deployed_at: at(),
        requester: "rita",
        candidates: vec![Candidate {
            rollback_dag_id: None,
            ..candidate(2, "orders", ComponentKind::Job, true, None)
        }],
        lineage: &g,
    }
    .body();
    let kinds: Vec<&str> = body.rows().map(|(_, _, r)| r.action.kind()).collect();
    assert_eq!(kinds, ["clear_rerun"], "nothing pauses the DAG it re-runs");
    let rerun = body.stages[0].rows[0].clone();
    let paused = PlanBody {
        reason: "x".into(),
        stages: vec![
            Stage {
                rows: vec![Row {
                    action: Action::PauseDag,
                    checks: vec![],
                    ..rerun.clone()
                }],
            },
            Stage { rows: vec![rerun] },
        ],
        ..Default::default()
    };
    let errors = check(&paused, &g).unwrap_err();
    assert_eq!(errors[0].field, "s2r1.action");
    assert!(
        errors[0].message.contains("would stay queued"),
        "{}",
        errors[0].message
    );
}

fn arb_row() -> impl Strategy<Value = Row> {
    (
        1i64..6,
        "[a-z]{1,8}",
        prop::sample::select(vec!["pause", "trigger", "manual"]),
    )
        .prop_map(|(id, scope, action)| Row {
            component_id: id,
            component: format!("c{id}"),
            scope,
            action: match action {
                "pause" => Action::PauseDag,
                "trigger" => Action::TriggerRollback {
                    params: "{}".into(),
                },
                _ => Action::Manual {
                    instructions: "do it".into(),
                },
            },
            checks: vec![],
            flagging: String::new(),
            owner: "o".into(),
            restore: None,
            binding: None,
            deadline_minutes: None,
        })
}

proptest! {
    /// A plan that passes the rules never runs a data row before one of its upstream rows.
    #[test]
    fn accepted_plans_respect_lineage(stages in prop::collection::vec(prop::collection::vec(arb_row(), 1..4), 1..4)) {
        let g = Graph::from_edges([(1, 2), (2, 3), (1, 4), (4, 5)]);
        let body = PlanBody { reason: "r".into(), stages: stages.into_iter().map(|rows| Stage { rows }).collect(), ..Default::default() };
        if check(&body, &g).is_ok() {
            let data: Vec<_> = body.rows().filter(|(_, _, r)| r.action != Action::PauseDag).collect();
            for (i, (_, _, a)) in data.iter().enumerate() {
                for (_, _, b) in &data[..i] {
                    prop_assert!(!g.reach(a.component_id).contains_key(&b.component_id));
                }
            }
        }
    }

    /// Comparing a revision with itself finds nothing; with any edit, finds something.
    #[test]
    fn a_revision_differs_from_another_exactly_when_its_content_does(scope in "[a-z]{1,6}") {
        let old = proposed();
        let mut new = old.clone();
        new.stages[1].rows[0].scope = scope.clone();
        prop_assert_eq!(diff(&old, &new).is_empty(), scope == "all");
    }
}
