//! Execution tests: the worker against a real local HTTP server speaking Airflow 3's wire format
//! (faults injected per call), on SQLite and (twins) PostgreSQL, and against a real Airflow.

mod abort;
mod approved;
mod deadlines;
mod faults;
mod flow;
mod leases;
mod operators;
mod real_airflow;

use std::time::Duration as StdDuration;

use chrono::Utc;
use reqwest::Method;
use serde_json::json;

use super::{
    fake_airflow::{self, fault, Fault, Shared, PASSWORD},
    http::RetryPolicy,
    model::{JobStatus, StepState},
    repo,
    runner::{Runner, RunnerSettings},
    service::{operate, Operation},
};
use crate::{
    approvals::service::{decide, ensure_default_policy, Decision, Outcome},
    audit::{repo::Ctx, Actor},
    backend_test,
    catalog::{
        model::{ComponentKind, Declaration},
        repo as catalog_repo,
        service::{self as catalog, Source},
    },
    changes::{model::ChangeInput, model::NewChange, repo as changes_repo, service as changes},
    conn_run,
    connectors::{model::NewConnector, secret::SecretKey, service as connectors},
    db::{testing::TestDb, Conn, Db},
    plans::{
        model::{Action, Check, PlanBody, PlanStatus, Row, Stage},
        repo as plans_repo, service as plans,
    },
    users::tests::{add_user, group_id},
};

struct World {
    db: Db,
    fake: Shared,
    key: SecretKey,
    job: i64,
    plan: i64,
    change: i64,
    operator: Actor,
}

fn row(id: i64, action: Action, checks: Vec<Check>) -> Row {
    Row {
        component_id: id,
        component: "orders_etl".into(),
        scope: "partitions 2026-11-01..2026-11-03".into(),
        action,
        checks,
        flagging: "`is_reconciled` set on restored rows".into(),
        owner: "rita".into(),
        restore: None,
        binding: None,
        deadline_minutes: None,
    }
}

fn trigger(report: serde_json::Value) -> Action {
    Action::TriggerRollback {
        params: json!({ "report": report, "target_version": "v41" }).to_string(),
    }
}

/// Pause, trigger the rollback DAG (three checks on what it reports), unpause.
fn standard(etl: i64, report: serde_json::Value) -> Vec<Stage> {
    let checks = vec![
        Check::RunSucceeded,
        Check::RowCount { min: 1, max: 100 },
        Check::Checksum {
            expected: "abc".into(),
        },
    ];
    vec![
        Stage {
            rows: vec![row(etl, Action::PauseDag, vec![])],
        },
        Stage {
            rows: vec![row(etl, trigger(report), checks)],
        },
        Stage {
            rows: vec![row(etl, Action::UnpauseDag, vec![])],
        },
    ]
}

/// The components a plan may use: the Airflow-bound job and the webhook-bound consumer.
#[derive(Debug, Clone, Copy)]
struct Ids {
    etl: i64,
    hook: i64,
}

/// Components bound to the fake Airflow and to a webhook, a change, and its plan signed off by
/// three approvers; `stages` builds the matrix from the components' ids.
async fn world(db: &Db, stages: impl Fn(Ids) -> Vec<Stage>) -> World {
    world_at(db, None, stages).await
}

/// The same against another Airflow: (base URL, username, password).
async fn world_at(
    db: &Db,
    airflow: Option<(&str, &str, &str)>,
    stages: impl Fn(Ids) -> Vec<Stage>,
) -> World {
    build(db, airflow, None, stages).await
}

/// The same for a change deployed at `deployed_at` (retention counts from there).
async fn world_deployed(
    db: &Db,
    deployed_at: chrono::DateTime<Utc>,
    stages: impl Fn(Ids) -> Vec<Stage>,
) -> World {
    build(db, None, Some(deployed_at), stages).await
}

async fn build(
    db: &Db,
    airflow: Option<(&str, &str, &str)>,
    deployed_at: Option<chrono::DateTime<Utc>>,
    stages: impl Fn(Ids) -> Vec<Stage>,
) -> World {
    let (fake_base, fake) = fake_airflow::start().await;
    let (base, user, password) = airflow.unwrap_or((&fake_base, "runner", PASSWORD));
    let key = SecretKey::generate();
    let ctx = Ctx::system();
    let airflow = NewConnector::parse("airflow", "airflow3", base, user, "", password).unwrap();
    connectors::save(db, &ctx, &key, None, airflow)
        .await
        .unwrap();
    let etl = Declaration {
        name: "orders_etl".into(),
        kind: Some(ComponentKind::Job),
        upstream: Some(vec![]),
        connector: Some("airflow".into()),
        dag_id: Some("orders_etl".into()),
        rollback_dag_id: Some("orders_etl_rollback".into()),
        ..Default::default()
    };
    let hooks = NewConnector::parse(
        "hooks",
        "webhook",
        &format!("{fake_base}/hook"),
        "",
        "",
        fake_airflow::WEBHOOK_SECRET,
    )
    .unwrap();
    connectors::save(db, &ctx, &key, None, hooks).await.unwrap();
    let hook = Declaration {
        name: "finance_feed".into(),
        kind: Some(ComponentKind::Job),
        upstream: Some(vec![]),
        connector: Some("hooks".into()),
        ..Default::default()
    };
    catalog::declare(db, &ctx, Source::File, "test", vec![etl, hook])
        .await
        .unwrap();
    let names = ["orders_etl".to_string(), "finance_feed".to_string()];
    let refs = catalog_repo::refs_by_names(&mut Conn::Db(db), &names)
        .await
        .unwrap();
    let id = |name: &str| refs.iter().find(|r| r.name == name).map(|r| r.id).unwrap();
    let ids = Ids {
        etl: id("orders_etl"),
        hook: id("finance_feed"),
    };
    group_id(db, "Product").await; // creates the default groups the default policy names
    ensure_default_policy(db).await.unwrap();
    let rita_id = add_user(db, "rita", &["requester"], &[]).await;
    let rita = Actor {
        id: rita_id,
        username: "rita".into(),
    };
    let input = ChangeInput {
        title: "Orders v42".into(),
        kind: "transform".into(),
        why: "Doubled totals".into(),
        git_sha: "0123abc".into(),
        components: vec![("orders_etl".into(), "snap-41".into())],
        ..Default::default()
    };
    let change = changes::create(
        db,
        &ctx,
        rita_id,
        &NewChange::parse(&input, Utc::now()).unwrap(),
        None,
    )
    .await
    .unwrap();
    if let Some(at) = deployed_at {
        conn_run!(&mut Conn::Db(db), |c| sqlx::query(
            "UPDATE changes SET deployed_at = $1 WHERE id = $2"
        )
        .bind(at)
        .bind(change)
        .execute(c)
        .await
        .map(|_| ()))
        .unwrap();
    }
    let plan = plans::draft(db, &ctx, &rita, change).await.unwrap();
    let body = PlanBody {
        reason: "Totals doubled".into(),
        criteria: "A forward fix needs a day; consumers read wrong totals now.".into(),
        stages: stages(ids),
        ..Default::default()
    };
    let revision = plans::save(db, &ctx, &rita, plan, 1, body).await.unwrap();
    plans::submit(db, &ctx, &rita, plan, revision, None, Utc::now())
        .await
        .unwrap();
    let hash = plans_repo::revision(&mut Conn::Db(db), plan, revision)
        .await
        .unwrap()
        .content_hash;
    let mut job = 0;
    for (name, group) in [
        ("pia", "Product"),
        ("gus", "Data governance"),
        ("eve", "Engineering"),
    ] {
        let g = group_id(db, group).await;
        let who = Actor {
            id: add_user(db, name, &["approver"], &[g]).await,
            username: name.into(),
        };
        let d = Decision {
            plan_id: plan,
            revision,
            content_hash: hash.clone(),
            approve: true,
            reason: String::new(),
            request_key: format!("key-{name}"),
        };
        if let Outcome::SignedOff { execution_id, .. } =
            decide(db, &ctx, &who, d, Utc::now()).await.unwrap()
        {
            job = execution_id;
        }
    }
    assert!(job > 0, "the third approval signs off");
    World {
        db: db.clone(),
        fake,
        key,
        job,
        plan,
        change,
        operator: rita,
    }
}

fn runner(w: &World, owner: &str) -> Runner {
    Runner {
        db: w.db.clone(),
        key: w.key.clone(),
        owner: owner.into(),
        settings: RunnerSettings {
            retry: RetryPolicy {
                attempts: 4,
                base: StdDuration::from_millis(10),
                cap: StdDuration::from_millis(40),
                timeout: StdDuration::from_millis(700),
            },
            poll_first: StdDuration::from_millis(5),
            poll_longest: StdDuration::from_millis(20),
            ..Default::default()
        },
    }
}

async fn status(w: &World) -> JobStatus {
    repo::job(&mut Conn::Db(&w.db), w.job)
        .await
        .unwrap()
        .status()
}

async fn states(w: &World) -> Vec<StepState> {
    repo::steps(&mut Conn::Db(&w.db), w.job)
        .await
        .unwrap()
        .iter()
        .map(|s| s.state())
        .collect()
}

async fn count(db: &Db, sql: &str) -> i64 {
    conn_run!(&mut Conn::Db(db), |c| sqlx::query_scalar::<_, i64>(sql)
        .fetch_one(c)
        .await)
    .unwrap()
}

/// Every lease has ended, as when the worker holding it died.
async fn expire_leases(db: &Db) {
    conn_run!(&mut Conn::Db(db), |c| sqlx::query(
        "UPDATE executions SET lease_until = $1"
    )
    .bind(Utc::now() - chrono::Duration::seconds(1))
    .execute(c)
    .await
    .map(|_| ()))
    .unwrap();
}

fn ctx(w: &World) -> Ctx {
    Ctx::user(w.operator.clone(), None)
}

async fn sqlite() -> TestDb {
    crate::db::testing::sqlite().await
}
