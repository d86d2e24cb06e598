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
    assert_eq!(
        count(&w.db, "SELECT COUNT(*) FROM execution_evidence").await,
        0
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
