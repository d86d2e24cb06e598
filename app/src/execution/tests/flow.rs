//! The whole flow on both databases, claiming, and waking across instances.

use super::*;

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
    let listed = crate::execution::load::list(&w.db, Some(JobStatus::Succeeded), None)
        .await
        .unwrap();
    assert_eq!(
        listed
            .jobs
            .iter()
            .map(|j| (j.id, j.change_title.as_str()))
            .collect::<Vec<_>>(),
        [(w.job, "Orders v42")]
    );
    assert!(
        crate::execution::load::list(&w.db, Some(JobStatus::Halted), None)
            .await
            .unwrap()
            .jobs
            .is_empty()
    );
    assert!(
        crate::execution::load::list(&w.db, None, Some(w.job))
            .await
            .unwrap()
            .jobs
            .is_empty(),
        "nothing before the first"
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
        tokio::spawn(async move { r.claim_next().await.unwrap().map(|c| c.id) })
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

/// SQLite has one process: the in-process signal is the whole story there.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs PostgreSQL: set TEST_DATABASE_URL (make test does when it answers)"]
async fn a_job_committed_elsewhere_wakes_this_worker_through_postgres() {
    let t = crate::db::testing::postgres().await;
    let crate::db::Db::Postgres(pool) = &t.db else {
        unreachable!("a PostgreSQL test database")
    };
    let woken = std::sync::Arc::new(tokio::sync::Notify::new());
    let relay = {
        let woken = woken.clone();
        tokio::spawn(crate::execution::relay_notifications(
            pool.clone(),
            crate::execution::CHANNEL,
            move || woken.notify_one(),
        ))
    };
    tokio::time::sleep(StdDuration::from_millis(300)).await; // LISTEN is in place
    let mut tx = t.db.begin().await.unwrap();
    crate::execution::notify_others(&mut tx).await.unwrap();
    let early = tokio::time::timeout(StdDuration::from_millis(300), woken.notified()).await;
    assert!(early.is_err(), "nothing is delivered before the commit");
    tx.commit().await.unwrap();
    tokio::time::timeout(StdDuration::from_secs(5), woken.notified())
        .await
        .expect("the commit's NOTIFY reaches the listener");
    relay.abort();
    t.finish().await;
}

async fn the_postmortem_timeline_shows_each_pipeline_call_of_the_rollback(t: &TestDb) {
    let w = world(&t.db, |c| {
        standard(c.etl, json!({"row_count": 42, "checksum": "abc"}))
    })
    .await;
    assert!(runner(&w, "worker-a").tick().await.unwrap());
    let pam = Actor {
        id: add_user(&w.db, "pam", &["postmortem_author"], &[]).await,
        username: "pam".into(),
    };
    let id = crate::postmortems::service::open(&w.db, &Ctx::system(), &pam, w.change, Utc::now())
        .await
        .unwrap();
    let v = crate::postmortems::service::view(&w.db, id).await.unwrap();
    let count = |label: &str| v.timeline.iter().filter(|i| i.label == label).count();
    assert_eq!(count("Approved"), 3);
    assert_eq!(
        count("Step started"),
        3,
        "one per pipeline call: pause, trigger, unpause"
    );
    assert_eq!(count("Step succeeded"), 6);
    assert_eq!(count("Rolled back"), 1);
    let trigger = v
        .timeline
        .iter()
        .find(|i| i.label == "Step started" && i.detail.starts_with("step 2"));
    assert!(trigger.is_some(), "{:?}", v.timeline);
    assert!(v.figures.to_rolled_back_minutes.is_some());
    assert!(v
        .postmortem
        .section("impact")
        .contains("(rolled back) was affected"));
}
backend_test!(
    postmortem_timeline,
    the_postmortem_timeline_shows_each_pipeline_call_of_the_rollback
);
