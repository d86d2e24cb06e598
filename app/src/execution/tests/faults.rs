//! Faults injected by the server: 5xx, timeouts, 409s, expired tokens, a webhook's 502.

use super::*;

async fn server_errors_and_timeouts_are_retried_with_the_same_run_id(t: &TestDb) {
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
}
backend_test!(
    server_errors_and_timeouts_are_retried_with_the_same_run_id,
    server_errors_and_timeouts_are_retried_with_the_same_run_id
);

async fn a_trigger_that_timed_out_but_took_effect_is_found_by_its_run_id_and_polled(t: &TestDb) {
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
}
backend_test!(
    a_trigger_that_timed_out_but_took_effect_is_found_by_its_run_id_and_polled,
    a_trigger_that_timed_out_but_took_effect_is_found_by_its_run_id_and_polled
);

async fn a_foreign_run_holding_the_run_id_halts_the_rollback(t: &TestDb) {
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
            marked: None,
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
}
backend_test!(
    a_foreign_run_holding_the_run_id_halts_the_rollback,
    a_foreign_run_holding_the_run_id_halts_the_rollback
);

async fn a_token_that_expires_mid_run_is_fetched_again_once(t: &TestDb) {
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
}
backend_test!(
    a_token_that_expires_mid_run_is_fetched_again_once,
    a_token_that_expires_mid_run_is_fetched_again_once
);

async fn a_webhook_row_is_signed_and_the_values_it_returns_are_checked(t: &TestDb) {
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
}
backend_test!(
    a_webhook_row_is_signed_and_the_values_it_returns_are_checked,
    a_webhook_row_is_signed_and_the_values_it_returns_are_checked
);

async fn a_fresh_token_that_expires_while_a_call_is_retried_is_fetched_again(t: &TestDb) {
    let w = world(&t.db, |c| {
        standard(c.etl, json!({"row_count": 5, "checksum": "abc"}))
    })
    .await;
    // The job's first call signs in, meets a 503, and its retry finds the token expired.
    fault(
        &w.fake,
        Method::PATCH,
        "/dags/orders_etl",
        Fault::Status(503),
    );
    fault(
        &w.fake,
        Method::PATCH,
        "/dags/orders_etl",
        Fault::ExpireToken,
    );
    assert!(runner(&w, "a").tick().await.unwrap());
    let steps = repo::steps(&mut Conn::Db(&w.db), w.job).await.unwrap();
    assert_eq!(
        status(&w).await,
        JobStatus::Succeeded,
        "{}",
        steps[0].message
    );
    assert_eq!(w.fake.lock().unwrap().logins, 2);
}
backend_test!(
    a_fresh_token_that_expires_while_a_call_is_retried_is_fetched_again,
    a_fresh_token_that_expires_while_a_call_is_retried_is_fetched_again
);

async fn halted_on_a_failed_read(w: &World) -> String {
    assert!(runner(w, "a").tick().await.unwrap());
    assert_eq!(status(w).await, JobStatus::Halted);
    let steps = repo::steps(&mut Conn::Db(&w.db), w.job).await.unwrap();
    let trigger = &steps[1];
    assert_eq!(
        trigger.state(),
        StepState::Failed,
        "the run's step, not a check"
    );
    trigger.message.clone()
}

async fn a_refused_read_of_the_task_instances_fails_the_step_instead_of_reporting_nothing(
    t: &TestDb,
) {
    let w = world(&t.db, |c| {
        standard(c.etl, json!({"row_count": 5, "checksum": "abc"}))
    })
    .await;
    fault(&w.fake, Method::GET, "/taskInstances", Fault::Status(403));
    let message = halted_on_a_failed_read(&w).await;
    assert!(message.contains("(403)"), "{message}");
    assert!(!message.contains("reported no"), "{message}");
}
backend_test!(
    a_refused_read_of_the_task_instances_fails_the_step_instead_of_reporting_nothing,
    a_refused_read_of_the_task_instances_fails_the_step_instead_of_reporting_nothing
);

async fn a_refused_read_of_the_verification_values_fails_the_step(t: &TestDb) {
    let w = world(&t.db, |c| {
        standard(c.etl, json!({"row_count": 5, "checksum": "abc"}))
    })
    .await;
    fault(&w.fake, Method::GET, "/xcomEntries", Fault::Status(403));
    let message = halted_on_a_failed_read(&w).await;
    assert!(message.contains("(403)"), "{message}");
}
backend_test!(
    a_refused_read_of_the_verification_values_fails_the_step,
    a_refused_read_of_the_verification_values_fails_the_step
);
