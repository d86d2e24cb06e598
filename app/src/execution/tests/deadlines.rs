//! Nothing waits forever: a manual step nobody marks done and a run that never ends both fail
//! at their deadline (the row's own, else the default) and halt the job for an operator.

use super::*;

fn manual(etl: i64) -> Vec<Stage> {
    vec![Stage {
        rows: vec![row(
            etl,
            Action::Manual {
                instructions: "Tell finance".into(),
            },
            vec![],
        )],
    }]
}

async fn a_manual_step_nobody_marks_done_fails_at_its_deadline(t: &TestDb) {
    let w = world(&t.db, |c| manual(c.etl)).await;
    let mut impatient = runner(&w, "a");
    impatient.settings.manual_deadline = chrono::Duration::milliseconds(300);
    assert!(impatient.tick().await.unwrap());
    assert_eq!(status(&w).await, JobStatus::Running, "waiting for a person");
    assert!(
        !impatient.tick().await.unwrap(),
        "not claimed before the deadline"
    );
    tokio::time::sleep(StdDuration::from_millis(400)).await;
    assert!(
        impatient.tick().await.unwrap(),
        "claimed again at the deadline"
    );
    assert_eq!(status(&w).await, JobStatus::Halted);
    let steps = repo::steps(&mut Conn::Db(&t.db), w.job).await.unwrap();
    assert_eq!(steps[0].state(), StepState::Failed);
    assert!(
        steps[0].message.starts_with("No one marked it done within"),
        "{}",
        steps[0].message
    );
    // A retry waits again, with a fresh deadline.
    operate(
        &w.db,
        &ctx(&w),
        w.job,
        Some(steps[0].id),
        Operation::Retry,
        "",
        Utc::now(),
    )
    .await
    .unwrap();
    assert!(impatient.tick().await.unwrap());
    assert_eq!(states(&w).await, [StepState::Running]);
}
backend_test!(
    manual_deadline,
    a_manual_step_nobody_marks_done_fails_at_its_deadline
);

async fn a_rows_own_deadline_wins_over_the_default_for_a_run(t: &TestDb) {
    let w = world(&t.db, |c| {
        let mut slow = row(c.etl, trigger(json!({})), vec![Check::RunSucceeded]);
        slow.deadline_minutes = Some(1);
        vec![Stage { rows: vec![slow] }]
    })
    .await;
    // The first worker dies while it polls the run.
    fault(
        &w.fake,
        Method::GET,
        "/dagRuns/rg-",
        Fault::AnswerLate(StdDuration::from_secs(30)),
    );
    let worker = runner(&w, "a");
    let dying = tokio::spawn(async move { worker.tick().await });
    // Up to 20 s: on a loaded machine the first worker may take a while to trigger the run.
    for _ in 0..1000 {
        if w.fake.lock().unwrap().runs.len() == 1 {
            break;
        }
        tokio::time::sleep(StdDuration::from_millis(20)).await;
    }
    assert_eq!(
        w.fake.lock().unwrap().runs.len(),
        1,
        "the first worker triggered the run"
    );
    dying.abort();
    // Two minutes have passed since the step started: past the row's 1 min, within the 2 h default.
    conn_run!(&mut Conn::Db(&t.db), |c| sqlx::query(
        "UPDATE execution_steps SET started_at = $1"
    )
    .bind(Utc::now() - chrono::Duration::minutes(2))
    .execute(c)
    .await
    .map(|_| ()))
    .unwrap();
    expire_leases(&t.db).await;
    assert!(runner(&w, "b").tick().await.unwrap());
    assert_eq!(status(&w).await, JobStatus::Halted);
    let steps = repo::steps(&mut Conn::Db(&t.db), w.job).await.unwrap();
    assert!(
        steps[0].message.starts_with("No result within 1 min"),
        "{}",
        steps[0].message
    );
    assert_eq!(
        w.fake.lock().unwrap().runs.len(),
        1,
        "the run was adopted, not started twice"
    );
}
backend_test!(
    row_deadline,
    a_rows_own_deadline_wins_over_the_default_for_a_run
);
