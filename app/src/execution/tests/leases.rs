//! Fencing: every write of a claim proves the claim still holds its lease, and a heartbeat
//! keeps the lease while a slow orchestrator call is in flight.

use super::*;

fn patient(w: &World, owner: &str, lease: chrono::Duration) -> Runner {
    let base = runner(w, owner);
    Runner {
        settings: RunnerSettings {
            lease,
            retry: RetryPolicy {
                timeout: StdDuration::from_secs(5),
                ..base.settings.retry
            },
            ..base.settings.clone()
        },
        ..base
    }
}

async fn a_worker_that_lost_its_lease_during_a_call_writes_nothing_after_it(t: &TestDb) {
    let w = world(&t.db, |c| standard(c.etl, json!({}))).await;
    fault(
        &w.fake,
        Method::PATCH,
        "/dags/orders_etl",
        Fault::Delay(StdDuration::from_millis(1500)),
    );
    let a = patient(&w, "a", chrono::Duration::seconds(60));
    let stale = tokio::spawn(async move { a.tick().await.unwrap() });
    tokio::time::sleep(StdDuration::from_millis(500)).await;
    // Meanwhile another worker took the job over (or an operator aborted it).
    conn_run!(&mut Conn::Db(&w.db), |c| sqlx::query(
        "UPDATE executions SET lease_owner = 'usurper', lease_until = $1"
    )
    .bind(Utc::now() + chrono::Duration::seconds(60))
    .execute(c)
    .await
    .map(|_| ()))
    .unwrap();
    assert!(stale.await.unwrap());
    assert_eq!(
        states(&w).await[0],
        StepState::Running,
        "the stale result is not written"
    );
    let after_the_intent = "SELECT COUNT(*) FROM execution_evidence WHERE kind <> 'intent'";
    assert_eq!(
        count(&w.db, after_the_intent).await,
        0,
        "only the intent, written before"
    );
    assert_eq!(
        count(
            &w.db,
            "SELECT COUNT(*) FROM audit_events WHERE action IN ('execution.step_succeeded', 'execution.step_failed')"
        )
        .await,
        0
    );
}
backend_test!(
    lost_lease,
    a_worker_that_lost_its_lease_during_a_call_writes_nothing_after_it
);

async fn a_call_slower_than_the_lease_keeps_it_so_no_other_worker_takes_the_job(t: &TestDb) {
    let w = world(&t.db, |c| {
        standard(c.etl, json!({"row_count": 5, "checksum": "abc"}))
    })
    .await;
    fault(
        &w.fake,
        Method::PATCH,
        "/dags/orders_etl",
        Fault::Delay(StdDuration::from_millis(2500)),
    );
    let a = patient(&w, "a", chrono::Duration::seconds(1));
    let slow = tokio::spawn(async move { a.tick().await.unwrap() });
    tokio::time::sleep(StdDuration::from_millis(1600)).await;
    let b = patient(&w, "b", chrono::Duration::seconds(1));
    assert_eq!(
        b.claim_next().await.unwrap(),
        None,
        "the heartbeat kept the lease"
    );
    assert!(slow.await.unwrap());
    assert_eq!(status(&w).await, JobStatus::Succeeded);
    assert_eq!(w.fake.lock().unwrap().runs.len(), 1);
}
backend_test!(
    heartbeat,
    a_call_slower_than_the_lease_keeps_it_so_no_other_worker_takes_the_job
);

async fn two_operators_pressing_retry_at_once_start_one_new_run(t: &TestDb) {
    let w = world(&t.db, |c| {
        standard(c.etl, json!({"row_count": 5, "checksum": "abc"}))
    })
    .await;
    w.fake.lock().unwrap().fail_next = 1;
    assert!(runner(&w, "a").tick().await.unwrap());
    assert_eq!(status(&w).await, JobStatus::Halted);
    let failed = repo::steps(&mut Conn::Db(&w.db), w.job).await.unwrap()[1].id;
    let presses = (0..2).map(|_| {
        let (db, ctx, job) = (w.db.clone(), ctx(&w), w.job);
        tokio::spawn(async move {
            operate(
                &db,
                &ctx,
                job,
                Some(failed),
                Operation::Retry,
                "",
                Utc::now(),
            )
            .await
        })
    });
    let mut outcomes = Vec::new();
    for p in presses {
        outcomes.push(p.await.unwrap());
    }
    assert_eq!(
        outcomes.iter().filter(|o| o.is_ok()).count(),
        1,
        "{outcomes:?}"
    );
    let refused = outcomes.iter().find_map(|o| match o {
        Err(crate::plans::service::PlanError::Refused(m)) => Some(m.clone()),
        _ => None,
    });
    assert!(refused.unwrap().contains("Someone else just did this"));
    let steps = repo::steps(&mut Conn::Db(&w.db), w.job).await.unwrap();
    assert_eq!(
        steps[1].retries, 1,
        "one new idempotency key, so one new run"
    );
}
backend_test!(
    concurrent_retry,
    two_operators_pressing_retry_at_once_start_one_new_run
);

/// Deterministic on PostgreSQL: a retry that arrives while another operator's action holds the
/// job row waits for it, then sees what it did.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs PostgreSQL: set TEST_DATABASE_URL (make test does when it answers)"]
async fn a_retry_waits_for_the_operator_action_holding_the_job_and_sees_it() {
    let t = crate::db::testing::postgres().await;
    let w = world(&t.db, |c| standard(c.etl, json!({}))).await;
    w.fake.lock().unwrap().fail_next = 1;
    assert!(runner(&w, "a").tick().await.unwrap());
    let failed = repo::steps(&mut Conn::Db(&w.db), w.job).await.unwrap()[1].id;
    let mut first = w.db.begin().await.unwrap();
    repo::lock_job(&mut first, w.job).await.unwrap();
    let (db, ctx, job) = (w.db.clone(), ctx(&w), w.job);
    let second = tokio::spawn(async move {
        operate(
            &db,
            &ctx,
            job,
            Some(failed),
            Operation::Retry,
            "",
            Utc::now(),
        )
        .await
    });
    tokio::time::sleep(StdDuration::from_millis(400)).await;
    assert!(!second.is_finished(), "it waits for the row");
    let now = Utc::now();
    repo::retry_step(&mut first, failed, now).await.unwrap();
    repo::set_job(&mut first, w.job, JobStatus::Running, Some(now), "", now)
        .await
        .unwrap();
    first.commit().await.unwrap();
    let Err(crate::plans::service::PlanError::Refused(m)) = second.await.unwrap() else {
        panic!("the second retry is refused")
    };
    assert!(m.contains("Someone else just did this"), "{m}");
    let steps = repo::steps(&mut Conn::Db(&w.db), w.job).await.unwrap();
    assert_eq!(steps[1].retries, 1);
    t.finish().await;
}

/// A weekly window two days ahead (UTC), closed now.
fn closed_windows() -> String {
    use chrono::Datelike;
    let day = (Utc::now() + chrono::Duration::days(2)).weekday();
    json!([{"kind": "weekly", "day": day.to_string(), "start": "02:00:00", "end": "03:00:00", "tz": "UTC"}])
        .to_string()
}

async fn a_job_whose_window_closed_before_it_started_waits_for_the_next_one(t: &TestDb) {
    let w = world(&t.db, |c| standard(c.etl, json!({}))).await;
    let sql = format!(
        "UPDATE approval_requests SET windows_json = '{}'",
        closed_windows()
    );
    conn_run!(&mut Conn::Db(&w.db), |c| sqlx::query(&sql)
        .execute(c)
        .await
        .map(|_| ()))
    .unwrap();
    assert!(
        !runner(&w, "a").tick().await.unwrap(),
        "nothing starts outside the window"
    );
    let job = repo::job(&mut Conn::Db(&w.db), w.job).await.unwrap();
    assert_eq!(job.status(), JobStatus::Scheduled);
    assert!(job.run_after.unwrap() > Utc::now() + chrono::Duration::days(1));
    assert!(
        job.reason.starts_with("Waits for the window opening"),
        "{}",
        job.reason
    );
    assert!(w.fake.lock().unwrap().calls.is_empty());
    assert_eq!(
        count(
            &w.db,
            "SELECT COUNT(*) FROM audit_events WHERE action = 'execution.deferred'"
        )
        .await,
        1
    );
}
backend_test!(
    window_at_start,
    a_job_whose_window_closed_before_it_started_waits_for_the_next_one
);

async fn a_call_cut_off_by_a_crash_leaves_its_intent_and_is_resolved_by_its_key(t: &TestDb) {
    let w = world(&t.db, |c| {
        standard(c.etl, json!({"row_count": 5, "checksum": "abc"}))
    })
    .await;
    fault(
        &w.fake,
        Method::POST,
        "/dagRuns",
        Fault::AnswerLate(StdDuration::from_secs(3)),
    );
    let a = patient(&w, "a", chrono::Duration::seconds(60));
    let crashed = tokio::spawn(async move { a.tick().await });
    tokio::time::sleep(StdDuration::from_millis(1500)).await;
    crashed.abort(); // the process dies mid-call: the trigger took effect, its answer is lost
    let intents = count(
        &w.db,
        "SELECT COUNT(*) FROM execution_evidence WHERE kind = 'intent' AND note LIKE '%Trigger the rollback DAG%'",
    )
    .await;
    assert_eq!(
        intents, 1,
        "the call is on record although its answer never came"
    );
    expire_leases(&w.db).await;
    assert!(runner(&w, "b").tick().await.unwrap());
    assert_eq!(status(&w).await, JobStatus::Succeeded);
    assert_eq!(
        w.fake.lock().unwrap().runs.len(),
        1,
        "adopted by its key, not started twice"
    );
    let again = count(
        &w.db,
        "SELECT COUNT(*) FROM execution_evidence WHERE kind = 'intent' AND note LIKE 'Sending again%'",
    )
    .await;
    assert_eq!(again, 1);
}
backend_test!(
    intent_before_call,
    a_call_cut_off_by_a_crash_leaves_its_intent_and_is_resolved_by_its_key
);

async fn a_run_that_never_finishes_fails_its_step_at_the_deadline(t: &TestDb) {
    let w = world(&t.db, |c| standard(c.etl, json!({}))).await;
    // Airflow keeps the run queued (here: its DAG paused behind Rollgate's back).
    w.fake
        .lock()
        .unwrap()
        .paused
        .insert("orders_etl_rollback".into(), true);
    let base = runner(&w, "a");
    let a = Runner {
        settings: RunnerSettings {
            run_deadline: chrono::Duration::seconds(1),
            ..base.settings.clone()
        },
        ..base
    };
    assert!(a.tick().await.unwrap(), "the worker slot is given back");
    let job = repo::job(&mut Conn::Db(&w.db), w.job).await.unwrap();
    assert_eq!(job.status(), JobStatus::Halted);
    assert!(
        job.reason.contains("No result within 1 s"),
        "{}",
        job.reason
    );
    assert!(job.reason.contains("is still queued"), "{}", job.reason);
}
backend_test!(
    run_deadline,
    a_run_that_never_finishes_fails_its_step_at_the_deadline
);
