//! Against the real Apache Airflow 3 that `make test` starts (`end2end/airflow/airflow.sh`).

use super::*;

/// The real Apache Airflow 3 that `make test` starts (`end2end/airflow/airflow.sh`).
fn real_airflow() -> Option<String> {
    let url = std::env::var("ROLLGATE_AIRFLOW_URL")
        .ok()
        .filter(|u| !u.is_empty());
    if url.is_none() {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI runs these against a real Airflow: `make test` starts one and sets ROLLGATE_AIRFLOW_URL"
        );
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
async fn against_real_airflow_swapping_the_dags_after_sign_off_still_runs_the_approved_ones() {
    let Some(url) = real_airflow() else { return };
    let t = sqlite().await;
    let w = world_at(&t.db, Some((&url, "runner", "runner")), |c| {
        let trigger = Action::TriggerRollback {
            params: json!({"target_version": "v41"}).to_string(),
        };
        vec![
            Stage {
                rows: vec![row(c.etl, Action::PauseDag, vec![])],
            },
            Stage {
                rows: vec![row(c.etl, trigger, vec![Check::RunSucceeded])],
            },
            Stage {
                rows: vec![row(c.etl, Action::UnpauseDag, vec![])],
            },
        ]
    })
    .await;
    // After sign-off, someone with catalog access swaps the production and rollback DAGs.
    let swapped = Declaration {
        name: "orders_etl".into(),
        kind: Some(ComponentKind::Job),
        connector: Some("airflow".into()),
        dag_id: Some("orders_etl_rollback".into()),
        rollback_dag_id: Some("orders_etl".into()),
        ..Default::default()
    };
    catalog::declare(
        &w.db,
        &Ctx::system(),
        Source::Browser,
        "mallory",
        vec![swapped],
    )
    .await
    .unwrap();
    assert!(real_runner(&w).tick().await.unwrap());
    assert_eq!(status(&w).await, JobStatus::Succeeded);
    let evidence = repo::evidence(&mut Conn::Db(&w.db), w.job).await.unwrap();
    let calls: Vec<String> = evidence
        .iter()
        .filter(|(_, e)| e.method == "POST" || e.method == "PATCH")
        .filter(|(_, e)| !e.url.ends_with("/auth/token"))
        .map(|(_, e)| {
            format!(
                "{} {}",
                e.method,
                e.url.split("/api/v2").nth(1).unwrap_or("")
            )
        })
        .collect();
    assert_eq!(
        calls,
        [
            "PATCH /dags/orders_etl",
            "POST /dags/orders_etl_rollback/dagRuns",
            "PATCH /dags/orders_etl"
        ],
        "the approved DAGs, as Airflow received them"
    );
    t.finish().await;
}

/// Clear and re-run is a new run of the production DAG under Rollgate's own run id (so a retry
/// after a lost answer adopts it), on a DAG the plan does not pause.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn against_real_airflow_a_clear_and_re_run_starts_and_finishes_a_run_of_the_production_dag() {
    let Some(url) = real_airflow() else { return };
    let t = sqlite().await;
    let w = world_at(&t.db, Some((&url, "runner", "runner")), |c| {
        vec![Stage {
            rows: vec![row(c.etl, Action::ClearRerun, vec![Check::RunSucceeded])],
        }]
    })
    .await;
    assert!(real_runner(&w).tick().await.unwrap());
    let steps = repo::steps(&mut Conn::Db(&w.db), w.job).await.unwrap();
    assert_eq!(
        status(&w).await,
        JobStatus::Succeeded,
        "{}",
        steps[0].message
    );
    let evidence = repo::evidence(&mut Conn::Db(&w.db), w.job).await.unwrap();
    assert!(evidence
        .iter()
        .any(|(_, e)| e.method == "POST" && e.url.ends_with("/api/v2/dags/orders_etl/dagRuns")));
    t.finish().await;
}

/// An abort while the rollback run is going marks that run failed in Airflow and unpauses the
/// production DAG the plan paused, each as a recorded undo step.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn against_real_airflow_an_abort_mid_run_marks_the_run_failed_and_unpauses_the_dag() {
    let Some(url) = real_airflow() else { return };
    let t = sqlite().await;
    let w = world_at(&t.db, Some((&url, "runner", "runner")), |c| {
        let slow = Action::TriggerRollback {
            params: json!({"hold_seconds": 120}).to_string(),
        };
        vec![
            Stage {
                rows: vec![row(c.etl, Action::PauseDag, vec![])],
            },
            Stage {
                rows: vec![row(c.etl, slow, vec![Check::RunSucceeded])],
            },
        ]
    })
    .await;
    let worker = real_runner(&w);
    let busy = tokio::spawn(async move { worker.tick().await });
    let mut polled = false;
    for _ in 0..120 {
        let steps = repo::steps(&mut Conn::Db(&w.db), w.job).await.unwrap();
        if steps
            .get(1)
            .is_some_and(|s| s.message.starts_with("The run is"))
        {
            polled = true;
            break;
        }
        tokio::time::sleep(StdDuration::from_millis(500)).await;
    }
    assert!(polled, "the rollback run was started and polled");
    operate(
        &w.db,
        &ctx(&w),
        w.job,
        None,
        Operation::Abort,
        "Wrong snapshot",
        Utc::now(),
    )
    .await
    .unwrap();
    busy.await.unwrap().unwrap();
    assert!(real_runner(&w).tick().await.unwrap());
    let steps = repo::steps(&mut Conn::Db(&w.db), w.job).await.unwrap();
    let messages: Vec<&str> = steps.iter().map(|s| s.message.as_str()).collect();
    assert_eq!(status(&w).await, JobStatus::Aborted, "{messages:?}");
    let evidence = repo::evidence(&mut Conn::Db(&w.db), w.job).await.unwrap();
    assert!(
        evidence.iter().any(|(_, e)| e.method == "PATCH"
            && e.url.contains("/dagRuns/rg-")
            && e.response_body.contains("\"state\":\"failed\"")),
        "{messages:?}"
    );
    assert!(evidence.iter().any(|(_, e)| e.method == "PATCH"
        && e.url.ends_with("/api/v2/dags/orders_etl")
        && e.response_body.contains("\"is_paused\":false")));
    t.finish().await;
}
