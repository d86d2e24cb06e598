//! What runs is what was approved: the worker uses the revision's binding snapshot, never the
//! catalog or a connector as they are later, and sends the restore target the plan names.

use super::*;
use crate::{
    auth::{CurrentUser, Role},
    plans::{load as plans_load, model::Restore},
};

async fn rebind_rollback_dag(db: &Db, dag: &str) {
    let rebound = Declaration {
        name: "orders_etl".into(),
        kind: Some(ComponentKind::Job),
        connector: Some("airflow".into()),
        dag_id: Some("orders_etl".into()),
        rollback_dag_id: Some(dag.into()),
        ..Default::default()
    };
    catalog::declare(db, &Ctx::system(), Source::Browser, "test", vec![rebound])
        .await
        .unwrap();
}

fn auditor() -> CurrentUser {
    CurrentUser {
        id: 0,
        username: "audrey".into(),
        display_name: "Audrey".into(),
        roles: vec![Role::Auditor],
        groups: vec![],
    }
}

async fn a_rollback_dag_rebound_after_sign_off_is_not_the_one_that_runs(t: &TestDb) {
    let w = world(&t.db, |c| {
        standard(c.etl, json!({"row_count": 5, "checksum": "abc"}))
    })
    .await;
    rebind_rollback_dag(&t.db, "orders_etl_backfill").await;
    let page = plans_load::page(&t.db, &auditor(), w.plan).await.unwrap();
    assert_eq!(page.drift.len(), 1, "{:?}", page.drift);
    assert_eq!(
        page.drift[0].what,
        "rollback DAG `orders_etl_rollback` → `orders_etl_backfill`"
    );
    assert!(runner(&w, "a").tick().await.unwrap());
    assert_eq!(status(&w).await, JobStatus::Succeeded);
    let dags: Vec<String> = w
        .fake
        .lock()
        .unwrap()
        .runs
        .keys()
        .map(|(dag, _)| dag.clone())
        .collect();
    assert_eq!(dags, ["orders_etl_rollback"], "the approved DAG ran, alone");
}
backend_test!(
    rebound_dag,
    a_rollback_dag_rebound_after_sign_off_is_not_the_one_that_runs
);

async fn a_connector_moved_to_another_host_after_sign_off_halts_instead_of_calling_it(t: &TestDb) {
    let w = world(&t.db, |c| standard(c.etl, json!({}))).await;
    let (other_base, other) = fake_airflow::start().await;
    let id = count(&t.db, "SELECT id FROM connectors WHERE name = 'airflow'").await;
    let moved =
        NewConnector::parse("airflow", "airflow3", &other_base, "runner", "", PASSWORD).unwrap();
    connectors::save(&t.db, &Ctx::system(), &w.key, Some(id), moved)
        .await
        .unwrap();
    assert!(runner(&w, "a").tick().await.unwrap());
    let job = repo::job(&mut Conn::Db(&w.db), w.job).await.unwrap();
    assert_eq!(job.status(), JobStatus::Halted);
    assert!(
        job.reason.contains("changed since approval"),
        "{}",
        job.reason
    );
    assert!(
        other.lock().unwrap().calls.is_empty(),
        "the new host was never called"
    );
    assert!(w.fake.lock().unwrap().calls.is_empty());
}
backend_test!(
    moved_connector,
    a_connector_moved_to_another_host_after_sign_off_halts_instead_of_calling_it
);

async fn the_pipeline_is_sent_the_version_to_restore_and_the_one_it_undoes(t: &TestDb) {
    let w = world(&t.db, |c| {
        let mut restore = row(c.etl, trigger(json!({})), vec![Check::RunSucceeded]);
        restore.restore = Some(Restore {
            target_version: "snap-40".into(),
            undo_version: "forged".into(),
            code_version: None,
            since: Utc::now(),
            retention: crate::plans::model::Retention::DeltaVacuum,
        });
        vec![Stage {
            rows: vec![restore],
        }]
    })
    .await;
    assert!(runner(&w, "a").tick().await.unwrap());
    assert_eq!(status(&w).await, JobStatus::Succeeded);
    let fake = w.fake.lock().unwrap();
    let run = fake.runs.values().next().expect("one run");
    assert_eq!(run.conf["target_version"], "snap-40");
    assert_eq!(
        run.conf["undo_version"], "snap-41",
        "the version the change produced, from the change, not the form"
    );
}
backend_test!(
    restore_target,
    the_pipeline_is_sent_the_version_to_restore_and_the_one_it_undoes
);

async fn change_statuses(db: &Db) -> Vec<String> {
    let sql =
        "SELECT after_json FROM audit_events WHERE action = 'change.status_changed' ORDER BY seq";
    let rows: Vec<String> = conn_run!(&mut Conn::Db(db), |c| sqlx::query_scalar(sql)
        .fetch_all(c)
        .await)
    .unwrap();
    rows.iter()
        .map(|r| {
            let v: serde_json::Value = serde_json::from_str(r).unwrap();
            v["status"].as_str().unwrap_or_default().to_string()
        })
        .collect()
}

async fn every_change_status_move_of_a_rollback_writes_its_change_event(t: &TestDb) {
    let w = world(&t.db, |c| {
        standard(c.etl, json!({"row_count": 5, "checksum": "abc"}))
    })
    .await;
    assert!(runner(&w, "a").tick().await.unwrap());
    assert_eq!(status(&w).await, JobStatus::Succeeded);
    assert_eq!(
        change_statuses(&t.db).await,
        ["rollback_planned", "rolling_back", "rolled_back"]
    );
}
backend_test!(
    change_events,
    every_change_status_move_of_a_rollback_writes_its_change_event
);

async fn an_aborted_rollback_writes_the_change_event_for_rollback_failed(t: &TestDb) {
    let w = world(&t.db, |c| standard(c.etl, json!({}))).await;
    assert!(runner(&w, "a").tick().await.unwrap());
    assert_eq!(status(&w).await, JobStatus::Halted, "no row count reported");
    operate(
        &w.db,
        &ctx(&w),
        w.job,
        None,
        Operation::Abort,
        "Fixing forward instead",
        Utc::now(),
    )
    .await
    .unwrap();
    assert_eq!(
        change_statuses(&t.db).await,
        ["rollback_planned", "rolling_back", "rollback_failed"]
    );
}
backend_test!(
    abort_event,
    an_aborted_rollback_writes_the_change_event_for_rollback_failed
);

async fn after_an_aborted_rollback_a_new_plan_can_be_drafted(t: &TestDb) {
    let w = world(&t.db, |c| standard(c.etl, json!({}))).await;
    assert!(runner(&w, "a").tick().await.unwrap());
    operate(
        &w.db,
        &ctx(&w),
        w.job,
        None,
        Operation::Abort,
        "The rollback DAG is broken",
        Utc::now(),
    )
    .await
    .unwrap();
    let again = plans::draft(&w.db, &ctx(&w), &w.operator, w.change)
        .await
        .unwrap();
    assert_ne!(again, w.plan, "a new plan; the aborted one stays read-only");
    let old = plans_repo::get(&mut Conn::Db(&w.db), w.plan).await.unwrap();
    assert_eq!(old.status(), PlanStatus::Aborted);
}
backend_test!(
    redraft_after_abort,
    after_an_aborted_rollback_a_new_plan_can_be_drafted
);
