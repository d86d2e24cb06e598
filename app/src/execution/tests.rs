//! Execution tests: the worker against a real local HTTP server speaking Airflow 3's wire format
//! (faults injected per call), on SQLite and (twins) PostgreSQL.

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
        flagging: String::new(),
        owner: "rita".into(),
        restore: None,
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

/// A component bound to the fake Airflow, a change on it, and its plan signed off by three
/// approvers; `stages` builds the matrix from the component's id.
/// The components a plan may use: the Airflow-bound job and the webhook-bound consumer.
#[derive(Debug, Clone, Copy)]
struct Ids {
    etl: i64,
    hook: i64,
}

async fn world(db: &Db, stages: impl Fn(Ids) -> Vec<Stage>) -> World {
    world_at(db, None, stages).await
}

/// The same against another Airflow: (base URL, username, password).
async fn world_at(
    db: &Db,
    airflow: Option<(&str, &str, &str)>,
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
    let plan = plans::draft(db, &ctx, &rita, change).await.unwrap();
    let body = PlanBody {
        reason: "Totals doubled".into(),
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

fn ctx(w: &World) -> Ctx {
    Ctx::user(w.operator.clone(), None)
}

async fn a_signed_off_rollback_pauses_triggers_verifies_and_unpauses(t: &TestDb) {
    let w = world(&t.db, |c| {
        let etl = c.etl;
        standard(etl, json!({"row_count": 42, "checksum": "abc"}))
    })
    .await;
    assert!(runner(&w, "worker-a").tick().await.unwrap());
    assert_eq!(status(&w).await, JobStatus::Succeeded);
    assert_eq!(states(&w).await, vec![StepState::Succeeded; 6]);
    let change = changes_repo::get(&mut Conn::Db(&w.db), w.change)
        .await
        .unwrap();
    assert_eq!(change.status.as_str(), "rolled_back");
    let plan = plans_repo::get(&mut Conn::Db(&w.db), w.plan).await.unwrap();
    assert_eq!(plan.status(), PlanStatus::RolledBack);
    {
        let fake = w.fake.lock().unwrap();
        assert_eq!(
            fake.paused.get("orders_etl"),
            Some(&false),
            "paused, then unpaused"
        );
        assert_eq!(fake.runs.len(), 1);
        let run = fake.runs.values().next().unwrap();
        assert_eq!(run.conf["change_id"], json!(w.change.to_string()));
        assert_eq!(run.conf["target_version"], json!("v41"));
        assert_eq!(run.conf["rollgate"]["step"], json!(2));
        let calls: Vec<&str> = fake.calls.iter().map(String::as_str).collect();
        assert_eq!(
            calls[..3],
            [
                "POST /auth/token",
                "PATCH /api/v2/dags/orders_etl",
                "POST /api/v2/dags/orders_etl_rollback/dagRuns"
            ]
        );
        assert_eq!(fake.logins, 1, "the token is reused for the whole job");
    }
    let evidence = repo::evidence(&mut Conn::Db(&w.db), w.job).await.unwrap();
    assert!(evidence
        .iter()
        .any(|(_, e)| e.kind == "check" && e.note.contains("Row count 42 is between 1 and 100")));
    assert!(evidence
        .iter()
        .all(|(_, e)| !e.request_body.contains(PASSWORD) && !e.response_body.contains("token-1")));
    let events = count(&w.db, "SELECT COUNT(*) FROM audit_events WHERE action IN ('execution.started', 'execution.succeeded')").await;
    assert_eq!(events, 2);
    assert!(
        !runner(&w, "worker-a").tick().await.unwrap(),
        "nothing more is due"
    );
}
backend_test!(
    full_flow,
    a_signed_off_rollback_pauses_triggers_verifies_and_unpauses
);

async fn one_due_job_is_claimed_by_exactly_one_of_ten_workers(t: &TestDb) {
    let w = world(&t.db, |c| standard(c.etl, json!({}))).await;
    let claims = (0..10).map(|i| {
        let r = runner(&w, &format!("worker-{i}"));
        tokio::spawn(async move { r.claim_next().await.unwrap() })
    });
    let mut won = Vec::new();
    for c in claims {
        won.extend(c.await.unwrap());
    }
    assert_eq!(won, vec![w.job]);
}
backend_test!(
    single_claim,
    one_due_job_is_claimed_by_exactly_one_of_ten_workers
);

async fn sqlite() -> TestDb {
    crate::db::testing::sqlite().await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_errors_and_timeouts_are_retried_with_the_same_run_id() {
    let t = sqlite().await;
    let w = world(&t.db, |c| {
        let etl = c.etl;
        standard(etl, json!({"row_count": 5, "checksum": "abc"}))
    })
    .await;
    fault(&w.fake, Method::POST, "/dagRuns", Fault::Status(500));
    fault(&w.fake, Method::POST, "/dagRuns", Fault::Status(503));
    fault(
        &w.fake,
        Method::GET,
        "/dagRuns/",
        Fault::Delay(StdDuration::from_millis(1500)),
    );
    assert!(runner(&w, "a").tick().await.unwrap());
    assert_eq!(status(&w).await, JobStatus::Succeeded);
    assert_eq!(
        w.fake.lock().unwrap().runs.len(),
        1,
        "one run, however many attempts"
    );
    let evidence = repo::evidence(&mut Conn::Db(&w.db), w.job).await.unwrap();
    let statuses: Vec<Option<i32>> = evidence
        .iter()
        .filter(|(_, e)| e.url.ends_with("/dagRuns"))
        .map(|(_, e)| e.status)
        .collect();
    assert_eq!(statuses, [Some(500), Some(503), Some(200)]);
    assert!(evidence
        .iter()
        .any(|(_, e)| e.status.is_none() && e.note.contains("time limit")));
    t.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_trigger_that_timed_out_but_took_effect_is_found_by_its_run_id_and_polled() {
    let t = sqlite().await;
    let w = world(&t.db, |c| {
        let etl = c.etl;
        standard(etl, json!({"row_count": 5, "checksum": "abc"}))
    })
    .await;
    fault(
        &w.fake,
        Method::POST,
        "/dagRuns",
        Fault::AnswerLate(StdDuration::from_millis(1500)),
    );
    assert!(runner(&w, "a").tick().await.unwrap());
    assert_eq!(status(&w).await, JobStatus::Succeeded);
    let (runs, posts) = {
        let fake = w.fake.lock().unwrap();
        let posts = fake
            .calls
            .iter()
            .filter(|c| c.starts_with("POST") && c.ends_with("/dagRuns"))
            .count();
        (fake.runs.len(), posts)
    };
    assert_eq!(runs, 1);
    assert_eq!(posts, 2, "the retry met a 409 and adopted the run");
    t.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_foreign_run_holding_the_run_id_halts_the_rollback() {
    let t = sqlite().await;
    let w = world(&t.db, |c| standard(c.etl, json!({}))).await;
    let installation = repo::job(&mut Conn::Db(&w.db), w.job)
        .await
        .unwrap()
        .installation;
    let key = format!("rg-{installation}-e{}-s2-r0", w.job);
    w.fake.lock().unwrap().runs.insert(
        ("orders_etl_rollback".into(), key.clone()),
        fake_airflow::Run {
            conf: json!({"rollgate": {"execution_id": 999}}),
            polls: 0,
            fail: false,
        },
    );
    assert!(runner(&w, "a").tick().await.unwrap());
    assert_eq!(status(&w).await, JobStatus::Halted);
    let job = repo::job(&mut Conn::Db(&w.db), w.job).await.unwrap();
    assert!(
        job.reason.contains(&format!(
            "A run Rollgate did not start already holds the id `{key}`"
        )),
        "{}",
        job.reason
    );
    assert_eq!(
        states(&w).await[..2],
        [StepState::Succeeded, StepState::Failed]
    );
    t.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_that_expires_mid_run_is_fetched_again_once() {
    let t = sqlite().await;
    let w = world(&t.db, |c| {
        let etl = c.etl;
        standard(etl, json!({"row_count": 5, "checksum": "abc"}))
    })
    .await;
    fault(&w.fake, Method::GET, "/dagRuns/", Fault::ExpireToken);
    assert!(runner(&w, "a").tick().await.unwrap());
    assert_eq!(status(&w).await, JobStatus::Succeeded);
    assert_eq!(w.fake.lock().unwrap().logins, 2);
    let evidence = repo::evidence(&mut Conn::Db(&w.db), w.job).await.unwrap();
    assert!(evidence.iter().any(|(_, e)| e.status == Some(401)));
    t.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_run_halts_and_a_retry_starts_a_new_run_that_succeeds() {
    let t = sqlite().await;
    let w = world(&t.db, |c| {
        let etl = c.etl;
        standard(etl, json!({"row_count": 5, "checksum": "abc"}))
    })
    .await;
    w.fake.lock().unwrap().fail_next = 1;
    assert!(runner(&w, "a").tick().await.unwrap());
    assert_eq!(status(&w).await, JobStatus::Halted);
    assert_eq!(
        plans_repo::get(&mut Conn::Db(&w.db), w.plan)
            .await
            .unwrap()
            .status(),
        PlanStatus::Halted
    );
    let steps = repo::steps(&mut Conn::Db(&w.db), w.job).await.unwrap();
    assert!(
        steps[1]
            .message
            .contains("failed (failed tasks: apply_rollback)"),
        "{}",
        steps[1].message
    );
    assert!(
        !runner(&w, "a").tick().await.unwrap(),
        "a halted job waits for an operator"
    );
    operate(
        &w.db,
        &ctx(&w),
        w.job,
        Some(steps[1].id),
        Operation::Retry,
        "",
        Utc::now(),
    )
    .await
    .unwrap();
    assert!(runner(&w, "a").tick().await.unwrap());
    assert_eq!(status(&w).await, JobStatus::Succeeded);
    let mut ids: Vec<String> = {
        let fake = w.fake.lock().unwrap();
        fake.runs.keys().map(|(_, id)| id.clone()).collect()
    };
    ids.sort();
    assert!(
        ids[0].ends_with("-s2-r0") && ids[1].ends_with("-s2-r1"),
        "{ids:?}"
    );
    let retried = count(
        &w.db,
        "SELECT COUNT(*) FROM audit_events WHERE action = 'execution.step_retried'",
    )
    .await;
    assert_eq!(retried, 1);
    t.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_check_halts_and_skipping_it_needs_a_reason() {
    let t = sqlite().await;
    let w = world(&t.db, |c| {
        let etl = c.etl;
        standard(etl, json!({"row_count": 500, "checksum": "abc"}))
    })
    .await;
    assert!(runner(&w, "a").tick().await.unwrap());
    assert_eq!(status(&w).await, JobStatus::Halted);
    let steps = repo::steps(&mut Conn::Db(&w.db), w.job).await.unwrap();
    assert_eq!(steps[3].state(), StepState::Failed);
    assert_eq!(steps[3].message, "Row count 500 is outside 1–100.");
    let err = operate(
        &w.db,
        &ctx(&w),
        w.job,
        Some(steps[3].id),
        Operation::Skip,
        " ",
        Utc::now(),
    )
    .await;
    assert!(matches!(
        err,
        Err(crate::plans::service::PlanError::Invalid(_))
    ));
    assert_eq!(status(&w).await, JobStatus::Halted, "nothing changed");
    operate(
        &w.db,
        &ctx(&w),
        w.job,
        Some(steps[3].id),
        Operation::Skip,
        "Counted by hand: 500 is right",
        Utc::now(),
    )
    .await
    .unwrap();
    assert!(runner(&w, "a").tick().await.unwrap());
    assert_eq!(status(&w).await, JobStatus::Succeeded);
    assert_eq!(states(&w).await[3], StepState::Skipped);
    t.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_abort_is_final_and_needs_a_reason() {
    let t = sqlite().await;
    let w = world(&t.db, |c| standard(c.etl, json!({}))).await;
    assert!(runner(&w, "a").tick().await.unwrap());
    assert_eq!(status(&w).await, JobStatus::Halted, "no row count reported");
    let err = operate(
        &w.db,
        &ctx(&w),
        w.job,
        None,
        Operation::Abort,
        "",
        Utc::now(),
    )
    .await;
    assert!(matches!(
        err,
        Err(crate::plans::service::PlanError::Invalid(_))
    ));
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
    assert_eq!(status(&w).await, JobStatus::Aborted);
    let change = changes_repo::get(&mut Conn::Db(&w.db), w.change)
        .await
        .unwrap();
    assert_eq!(change.status.as_str(), "rollback_failed");
    let steps = repo::steps(&mut Conn::Db(&w.db), w.job).await.unwrap();
    let again = operate(
        &w.db,
        &ctx(&w),
        w.job,
        Some(steps[3].id),
        Operation::Retry,
        "",
        Utc::now(),
    )
    .await;
    assert!(
        matches!(again, Err(crate::plans::service::PlanError::Refused(m)) if m.contains("aborted"))
    );
    t.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_job_whose_worker_died_is_taken_over_when_its_lease_ends() {
    let t = sqlite().await;
    let w = world(&t.db, |c| {
        let etl = c.etl;
        standard(etl, json!({"row_count": 5, "checksum": "abc"}))
    })
    .await;
    let dead = runner(&w, "dead");
    assert_eq!(dead.claim_next().await.unwrap(), Some(w.job));
    assert_eq!(
        runner(&w, "b").claim_next().await.unwrap(),
        None,
        "the lease still holds"
    );
    conn_run!(&mut Conn::Db(&w.db), |c| sqlx::query(
        "UPDATE executions SET lease_until = $1"
    )
    .bind(Utc::now() - chrono::Duration::seconds(1))
    .execute(c)
    .await
    .map(|_| ()))
    .unwrap();
    assert!(runner(&w, "b").tick().await.unwrap());
    assert_eq!(status(&w).await, JobStatus::Succeeded);
    dead.carry_out(w.job).await.unwrap();
    assert_eq!(
        w.fake.lock().unwrap().runs.len(),
        1,
        "the dead worker's lease is gone: it does nothing"
    );
    t.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_manual_step_waits_for_a_person_to_mark_it_done() {
    let t = sqlite().await;
    let w = world(&t.db, |c| {
        let etl = c.etl;
        vec![Stage {
            rows: vec![row(
                etl,
                Action::Manual {
                    instructions: "Tell finance".into(),
                },
                vec![Check::RunSucceeded],
            )],
        }]
    })
    .await;
    assert!(runner(&w, "a").tick().await.unwrap());
    let job = repo::job(&mut Conn::Db(&w.db), w.job).await.unwrap();
    assert_eq!((job.status(), job.lease_until), (JobStatus::Running, None));
    assert!(
        !runner(&w, "a").tick().await.unwrap(),
        "nobody claims a job waiting for a person"
    );
    let steps = repo::steps(&mut Conn::Db(&w.db), w.job).await.unwrap();
    operate(
        &w.db,
        &ctx(&w),
        w.job,
        Some(steps[0].id),
        Operation::CompleteManual,
        "Finance told",
        Utc::now(),
    )
    .await
    .unwrap();
    assert!(runner(&w, "a").tick().await.unwrap());
    assert_eq!(status(&w).await, JobStatus::Succeeded);
    t.finish().await;
}

/// The real Apache Airflow 3 that `make test` starts (`end2end/airflow/airflow.sh`).
fn real_airflow() -> Option<String> {
    let url = std::env::var("ROLLGATE_AIRFLOW_URL")
        .ok()
        .filter(|u| !u.is_empty());
    if url.is_none() {
        eprintln!("skipped: ROLLGATE_AIRFLOW_URL is not set (make test starts a real Airflow and sets it)");
    }
    url
}

fn real_runner(w: &World) -> Runner {
    Runner {
        settings: RunnerSettings {
            poll_first: StdDuration::from_millis(500),
            poll_longest: StdDuration::from_secs(2),
            ..Default::default()
        },
        ..runner(w, "airflow-test")
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn against_real_airflow_a_rollback_is_paused_triggered_polled_verified_and_unpaused() {
    let Some(url) = real_airflow() else { return };
    let t = sqlite().await;
    let checksum =
        format!("{:x}", <sha2::Sha256 as sha2::Digest>::digest(b"v41"))[..12].to_string();
    let w = world_at(&t.db, Some((&url, "runner", "runner")), |c| {
        let etl = c.etl;
        let checks = vec![
            Check::RunSucceeded,
            Check::RowCount { min: 1, max: 100 },
            Check::Checksum {
                expected: checksum.clone(),
            },
        ];
        let trigger = Action::TriggerRollback {
            params: json!({"target_version": "v41"}).to_string(),
        };
        vec![
            Stage {
                rows: vec![row(etl, Action::PauseDag, vec![])],
            },
            Stage {
                rows: vec![row(etl, trigger, checks)],
            },
            Stage {
                rows: vec![row(etl, Action::UnpauseDag, vec![])],
            },
        ]
    })
    .await;
    let started = std::time::Instant::now();
    assert!(real_runner(&w).tick().await.unwrap());
    let steps = repo::steps(&mut Conn::Db(&w.db), w.job).await.unwrap();
    let messages: Vec<&str> = steps.iter().map(|s| s.message.as_str()).collect();
    assert_eq!(status(&w).await, JobStatus::Succeeded, "{messages:?}");
    eprintln!(
        "real Airflow: pause → trigger → poll → verify → unpause in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    let change = changes_repo::get(&mut Conn::Db(&w.db), w.change)
        .await
        .unwrap();
    assert_eq!(change.status.as_str(), "rolled_back");
    let evidence = repo::evidence(&mut Conn::Db(&w.db), w.job).await.unwrap();
    assert!(evidence
        .iter()
        .any(|(_, e)| e.url.ends_with("/api/v2/dags/orders_etl")
            && e.response_body.contains("\"is_paused\":false")));
    assert!(evidence
        .iter()
        .all(|(_, e)| !e.request_body.contains("\"runner\"}")
            && !e.response_body.contains("access_token\":\"ey")));
    t.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn against_real_airflow_a_failing_rollback_halts_and_a_retry_succeeds() {
    let Some(url) = real_airflow() else { return };
    let t = sqlite().await;
    let w = world_at(&t.db, Some((&url, "runner", "runner")), |c| {
        let etl = c.etl;
        let trigger = Action::TriggerRollback {
            params: json!({"fail_until_retry": 1}).to_string(),
        };
        vec![Stage {
            rows: vec![row(
                etl,
                trigger,
                vec![Check::RunSucceeded, Check::RowCount { min: 42, max: 42 }],
            )],
        }]
    })
    .await;
    assert!(real_runner(&w).tick().await.unwrap());
    assert_eq!(status(&w).await, JobStatus::Halted);
    let steps = repo::steps(&mut Conn::Db(&w.db), w.job).await.unwrap();
    assert!(
        steps[0]
            .message
            .contains("failed (failed tasks: apply_rollback)"),
        "{}",
        steps[0].message
    );
    operate(
        &w.db,
        &ctx(&w),
        w.job,
        Some(steps[0].id),
        Operation::Retry,
        "fixed the input",
        Utc::now(),
    )
    .await
    .unwrap();
    assert!(real_runner(&w).tick().await.unwrap());
    assert_eq!(status(&w).await, JobStatus::Succeeded);
    t.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_webhook_row_is_signed_and_the_values_it_returns_are_checked() {
    let t = sqlite().await;
    let w = world(&t.db, |c| {
        let mut hook = row(
            c.hook,
            Action::Webhook,
            vec![Check::RowCount { min: 7, max: 7 }],
        );
        hook.component = "finance_feed".into();
        vec![Stage { rows: vec![hook] }]
    })
    .await;
    fault(&w.fake, Method::POST, "/hook", Fault::Status(502));
    assert!(runner(&w, "a").tick().await.unwrap());
    assert_eq!(status(&w).await, JobStatus::Succeeded);
    let calls = w.fake.lock().unwrap().webhooks.clone();
    assert_eq!(
        calls.len(),
        1,
        "the 502 was retried; the receiver verified one signed call"
    );
    let (_, payload) = &calls[0];
    assert_eq!(payload["type"], json!("rollgate.step"));
    assert_eq!(payload["data"]["rollgate"]["step"], json!(1));
    assert_eq!(payload["data"]["change_id"], json!(w.change.to_string()));
    t.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restore_whose_retention_ended_after_sign_off_is_refused_before_any_step() {
    let t = sqlite().await;
    let expires = Utc::now() + chrono::Duration::seconds(3);
    let w = world(&t.db, |c| {
        let mut restore = row(c.etl, trigger(json!({})), vec![]);
        restore.restore = Some(crate::plans::model::Restore {
            data_version: "snap-41".into(),
            since: expires - chrono::Duration::hours(1),
            retention: crate::plans::model::Retention::Custom { hours: 1 },
        });
        vec![Stage {
            rows: vec![restore],
        }]
    })
    .await;
    tokio::time::sleep(
        (expires - Utc::now()).to_std().unwrap_or_default() + StdDuration::from_millis(200),
    )
    .await;
    assert!(runner(&w, "a").tick().await.unwrap());
    let job = repo::job(&mut Conn::Db(&w.db), w.job).await.unwrap();
    assert_eq!(job.status(), JobStatus::Halted);
    assert!(
        job.reason
            .contains("restores data version snap-41 which was restorable only until"),
        "{}",
        job.reason
    );
    assert_eq!(states(&w).await, [StepState::Pending]);
    assert!(
        w.fake.lock().unwrap().runs.is_empty(),
        "nothing was started"
    );
    t.finish().await;
}
