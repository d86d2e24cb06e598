//! Halts and what operators do about them; leases; manual steps; retention at execution.

use super::*;

async fn a_failed_run_halts_and_a_retry_starts_a_new_run_that_succeeds(t: &TestDb) {
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
}
backend_test!(
    a_failed_run_halts_and_a_retry_starts_a_new_run_that_succeeds,
    a_failed_run_halts_and_a_retry_starts_a_new_run_that_succeeds
);

async fn a_failed_check_halts_and_skipping_it_needs_a_reason(t: &TestDb) {
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
}
backend_test!(
    a_failed_check_halts_and_skipping_it_needs_a_reason,
    a_failed_check_halts_and_skipping_it_needs_a_reason
);

async fn an_abort_is_final_and_needs_a_reason(t: &TestDb) {
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
    assert_eq!(
        status(&w).await,
        JobStatus::Aborting,
        "it unpauses the DAG first"
    );
    assert!(runner(&w, "a").tick().await.unwrap());
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
}
backend_test!(
    an_abort_is_final_and_needs_a_reason,
    an_abort_is_final_and_needs_a_reason
);

async fn a_job_whose_worker_died_is_taken_over_when_its_lease_ends(t: &TestDb) {
    let w = world(&t.db, |c| {
        let etl = c.etl;
        standard(etl, json!({"row_count": 5, "checksum": "abc"}))
    })
    .await;
    let dead = runner(&w, "dead");
    let claim = dead.claim_next().await.unwrap().expect("claimed");
    assert_eq!(claim.id, w.job);
    assert_eq!(
        runner(&w, "b").claim_next().await.unwrap(),
        None,
        "the lease still holds"
    );
    expire_leases(&w.db).await;
    assert!(runner(&w, "b").tick().await.unwrap());
    assert_eq!(status(&w).await, JobStatus::Succeeded);
    dead.carry_out(&claim).await.unwrap();
    assert_eq!(
        w.fake.lock().unwrap().runs.len(),
        1,
        "the dead worker's lease is gone: it does nothing"
    );
}
backend_test!(
    a_job_whose_worker_died_is_taken_over_when_its_lease_ends,
    a_job_whose_worker_died_is_taken_over_when_its_lease_ends
);

async fn a_manual_step_waits_for_a_person_to_mark_it_done(t: &TestDb) {
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
    assert_eq!((job.status(), job.lease_owner), (JobStatus::Running, None));
    let deadline = job
        .lease_until
        .expect("claimed again at the manual step's deadline");
    assert!(
        deadline > Utc::now() + chrono::Duration::hours(23),
        "24 h by default"
    );
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
}
backend_test!(
    a_manual_step_waits_for_a_person_to_mark_it_done,
    a_manual_step_waits_for_a_person_to_mark_it_done
);

async fn a_restore_whose_retention_ended_after_sign_off_is_refused_before_any_step(t: &TestDb) {
    let expires = Utc::now() + chrono::Duration::seconds(3);
    let w = world_deployed(&t.db, expires - chrono::Duration::hours(1), |c| {
        let mut restore = row(c.etl, trigger(json!({})), vec![Check::RunSucceeded]);
        restore.restore = Some(crate::plans::model::Restore {
            target_version: "snap-40".into(),
            undo_version: String::new(),
            code_version: None,
            since: chrono::DateTime::<Utc>::UNIX_EPOCH, // the server derives it from the change
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
            .contains("restores snap-40 which was restorable only until"),
        "{}",
        job.reason
    );
    assert_eq!(states(&w).await, [StepState::Pending, StepState::Pending]);
    assert!(
        w.fake.lock().unwrap().runs.is_empty(),
        "nothing was started"
    );
}
backend_test!(
    a_restore_whose_retention_ended_after_sign_off_is_refused_before_any_step,
    a_restore_whose_retention_ended_after_sign_off_is_refused_before_any_step
);
