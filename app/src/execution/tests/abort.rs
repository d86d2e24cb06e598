//! An abort undoes what the job did: the runs it left going are marked failed, the DAGs it
//! paused are unpaused, each as a recorded step; what cannot be undone is said, not hidden.

use super::*;

async fn abort(w: &World) {
    operate(
        &w.db,
        &ctx(w),
        w.job,
        None,
        Operation::Abort,
        "Fixing forward instead",
        Utc::now(),
    )
    .await
    .unwrap();
}

async fn actions(db: &Db) -> Vec<String> {
    conn_run!(&mut Conn::Db(db), |c| sqlx::query_scalar::<_, String>(
        "SELECT action FROM audit_events WHERE entity_type = 'execution' ORDER BY seq"
    )
    .fetch_all(c)
    .await)
    .unwrap()
}

async fn an_abort_mid_run_stops_the_run_and_unpauses_the_dag_it_paused(t: &TestDb) {
    let w = world(&t.db, |c| {
        standard(c.etl, json!({"row_count": 5, "checksum": "abc"}))
    })
    .await;
    // The first poll of the rollback run answers slowly: the abort lands while it is in flight.
    fault(
        &w.fake,
        Method::GET,
        "/dagRuns/rg-",
        Fault::Delay(StdDuration::from_millis(500)),
    );
    let worker = runner(&w, "a");
    let busy = tokio::spawn(async move { worker.tick().await });
    let mut running = false;
    // Up to 20 s: a loaded machine may take a while to reach the call.
    for _ in 0..1000 {
        let steps = repo::steps(&mut Conn::Db(&t.db), w.job).await.unwrap();
        if steps
            .get(1)
            .is_some_and(|s| s.state() == StepState::Running && s.remote_ref.is_some())
        {
            running = true;
            break;
        }
        tokio::time::sleep(StdDuration::from_millis(20)).await;
    }
    assert!(running, "the rollback run was started");
    abort(&w).await;
    assert_eq!(status(&w).await, JobStatus::Aborting);
    busy.await.unwrap().unwrap(); // the first worker lost its lease and wrote nothing more
    assert!(
        runner(&w, "b").tick().await.unwrap(),
        "the undo steps are claimed"
    );
    assert_eq!(status(&w).await, JobStatus::Aborted);
    {
        let fake = w.fake.lock().unwrap();
        assert_eq!(
            fake.paused.get("orders_etl"),
            Some(&false),
            "unpaused again"
        );
        let run = fake.runs.values().next().unwrap();
        assert_eq!(
            run.marked.as_deref(),
            Some("failed"),
            "the run was marked failed"
        );
    }
    let steps = repo::steps(&mut Conn::Db(&t.db), w.job).await.unwrap();
    let undo: Vec<_> = steps.iter().filter(|s| s.kind == "undo").collect();
    assert_eq!(undo.len(), 2, "stop the run, then unpause");
    assert_eq!((undo[0].undoes, undo[1].undoes), (Some(2), Some(1)));
    assert!(undo.iter().all(|s| s.state() == StepState::Succeeded));
    assert!(
        undo[0].message.contains("Marked run"),
        "{}",
        undo[0].message
    );
    assert!(
        undo[1].message.contains("Unpaused `orders_etl`"),
        "{}",
        undo[1].message
    );
    let job = repo::job(&mut Conn::Db(&t.db), w.job).await.unwrap();
    assert!(
        job.reason
            .contains("Everything it did was undone (2 steps)"),
        "{}",
        job.reason
    );
    let done = actions(&t.db).await;
    assert_eq!(
        done.iter()
            .filter(|a| *a == "execution.step_undone")
            .count(),
        2
    );
    assert_eq!(done.last().map(String::as_str), Some("execution.undone"));
}
backend_test!(
    abort_mid_run,
    an_abort_mid_run_stops_the_run_and_unpauses_the_dag_it_paused
);

async fn an_undo_that_fails_is_shown_and_the_job_still_ends_aborted(t: &TestDb) {
    let w = world(&t.db, |c| standard(c.etl, json!({}))).await;
    assert!(runner(&w, "a").tick().await.unwrap());
    assert_eq!(status(&w).await, JobStatus::Halted, "no row count reported");
    abort(&w).await;
    let steps = repo::steps(&mut Conn::Db(&t.db), w.job).await.unwrap();
    let refused = operate(
        &w.db,
        &ctx(&w),
        w.job,
        Some(steps[0].id),
        Operation::Retry,
        "",
        Utc::now(),
    )
    .await;
    assert!(
        matches!(&refused, Err(crate::plans::service::PlanError::Refused(m)) if m.contains("undoing")),
        "{refused:?}"
    );
    fault(
        &w.fake,
        Method::PATCH,
        "/api/v2/dags/orders_etl",
        Fault::Status(403),
    );
    assert!(runner(&w, "a").tick().await.unwrap());
    assert_eq!(status(&w).await, JobStatus::Aborted);
    assert_eq!(
        w.fake.lock().unwrap().paused.get("orders_etl"),
        Some(&true),
        "Airflow refused the unpause"
    );
    let steps = repo::steps(&mut Conn::Db(&t.db), w.job).await.unwrap();
    let undo = steps.iter().find(|s| s.kind == "undo").unwrap();
    assert_eq!(undo.state(), StepState::Failed);
    assert!(
        undo.message
            .starts_with("Could not undo: the Airflow user may not do this"),
        "{}",
        undo.message
    );
    let job = repo::job(&mut Conn::Db(&t.db), w.job).await.unwrap();
    assert!(
        job.reason.contains("1 of 1 undo steps failed") && job.reason.contains("by hand"),
        "{}",
        job.reason
    );
    assert!(actions(&t.db)
        .await
        .contains(&"execution.undo_failed".to_string()));
}
backend_test!(
    failed_undo,
    an_undo_that_fails_is_shown_and_the_job_still_ends_aborted
);

async fn an_abort_before_anything_ran_ends_at_once(t: &TestDb) {
    let w = world(&t.db, |c| standard(c.etl, json!({}))).await;
    abort(&w).await;
    assert_eq!(status(&w).await, JobStatus::Aborted);
    assert!(!runner(&w, "a").tick().await.unwrap(), "nothing to undo");
    assert!(
        w.fake.lock().unwrap().calls.is_empty(),
        "Airflow was never called"
    );
}
backend_test!(abort_unstarted, an_abort_before_anything_ran_ends_at_once);

async fn a_worker_that_dies_mid_undo_is_replaced_and_the_undo_is_done_once_more(t: &TestDb) {
    let w = world(&t.db, |c| standard(c.etl, json!({}))).await;
    assert!(runner(&w, "a").tick().await.unwrap());
    abort(&w).await;
    // The unpause takes effect but its answer never arrives: the worker dies waiting.
    fault(
        &w.fake,
        Method::PATCH,
        "/api/v2/dags/orders_etl",
        Fault::AnswerLate(StdDuration::from_secs(30)),
    );
    let worker = runner(&w, "a");
    let dying = tokio::spawn(async move { worker.tick().await });
    for _ in 0..1000 {
        if w.fake.lock().unwrap().paused.get("orders_etl") == Some(&false) {
            break;
        }
        tokio::time::sleep(StdDuration::from_millis(20)).await;
    }
    assert_eq!(
        w.fake.lock().unwrap().paused.get("orders_etl"),
        Some(&false),
        "the first worker unpaused the DAG"
    );
    dying.abort();
    expire_leases(&t.db).await;
    assert!(runner(&w, "b").tick().await.unwrap());
    assert_eq!(status(&w).await, JobStatus::Aborted);
    let steps = repo::steps(&mut Conn::Db(&t.db), w.job).await.unwrap();
    let undo = steps.iter().find(|s| s.kind == "undo").unwrap();
    assert_eq!(undo.state(), StepState::Succeeded, "{}", undo.message);
    let intents = count(
        &t.db,
        &format!(
            "SELECT COUNT(*) FROM execution_evidence WHERE step_id = {} AND kind = 'intent'",
            undo.id
        ),
    )
    .await;
    assert_eq!(intents, 2, "both attempts are on record");
}
backend_test!(
    undo_takeover,
    a_worker_that_dies_mid_undo_is_replaced_and_the_undo_is_done_once_more
);
