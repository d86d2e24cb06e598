//! Decisions and sign-off: quorum, four eyes, rejections, exactly-once.

use super::*;

async fn three_approvals_from_the_three_groups_sign_off_and_create_one_job(t: &TestDb) {
    let w = world(&t.db, 1).await;
    submit(&t.db, &w).await;
    assert_eq!(
        approve(&t.db, w.plan_id, &w.product, "k1").await.unwrap(),
        Outcome::Recorded
    );
    let Err(PlanError::Refused(m)) = approve(&t.db, w.plan_id, &w.product, "k1-again").await else {
        panic!("a second decision on the same revision is refused")
    };
    assert!(m.contains("You already approved revision"), "{m}");
    assert_eq!(
        approve(&t.db, w.plan_id, &w.governance, "k2")
            .await
            .unwrap(),
        Outcome::Recorded
    );
    let Outcome::SignedOff { run_after, .. } = approve(&t.db, w.plan_id, &w.engineers[0], "k3")
        .await
        .unwrap()
    else {
        panic!("the third approval signs off");
    };
    assert!(
        run_after.is_some(),
        "without windows the job may start at once"
    );
    assert_eq!(
        repo::get(&mut Conn::Db(&t.db), w.plan_id)
            .await
            .unwrap()
            .status(),
        PlanStatus::SignedOff
    );
    assert_eq!(count(&t.db, "SELECT COUNT(*) FROM executions").await, 1);
    let actions = count(&t.db, "SELECT COUNT(*) FROM audit_events WHERE action IN ('plan.signed_off', 'execution.scheduled')").await;
    assert_eq!(actions, 2);
    let page = load::page(
        &t.db,
        &viewer(&w.product, &[Role::Approver], &[]),
        w.plan_id,
    )
    .await
    .unwrap();
    let groups: Vec<(String, Vec<String>)> = page
        .approval
        .unwrap()
        .groups
        .into_iter()
        .map(|g| (g.group, g.approvers))
        .collect();
    assert_eq!(
        groups[2],
        ("Engineering".to_string(), vec!["eng0".to_string()])
    );
}
backend_test!(
    sign_off,
    three_approvals_from_the_three_groups_sign_off_and_create_one_job
);

async fn the_requester_cannot_approve_and_the_database_refuses_it_too(t: &TestDb) {
    let w = world(&t.db, 0).await;
    let e = group_id(&t.db, "Engineering").await;
    let (rev, hash) = current(&t.db, w.plan_id).await;
    // Even in the engineering group, the plan's author is refused.
    conn_run!(&mut Conn::Db(&t.db), |c| sqlx::query(
        "INSERT INTO group_members (user_id, group_id, created_at) VALUES ($1, $2, $3)"
    )
    .bind(w.requester.id)
    .bind(e)
    .bind(Utc::now())
    .execute(c)
    .await
    .map(|_| ()))
    .unwrap();
    submit(&t.db, &w).await;
    let Err(PlanError::Refused(m)) = approve(&t.db, w.plan_id, &w.requester, "own").await else {
        panic!("refused")
    };
    assert!(m.contains("four eyes"), "{m}");
    let page = load::page(
        &t.db,
        &viewer(&w.requester, &[Role::Requester, Role::Approver], &[e]),
        w.plan_id,
    )
    .await
    .unwrap();
    assert!(!page.rights.decide);
    let sql = "INSERT INTO approval_decisions (plan_id, revision, content_hash, approver_id, decision, reason, plan_author_id, \
               change_author_id, request_key, decided_at) VALUES ($1, $2, $3, $4, 'approve', '', $4, $4, 'x', $5)";
    let direct = conn_run!(&mut Conn::Db(&t.db), |c| sqlx::query(sql)
        .bind(w.plan_id)
        .bind(rev)
        .bind(&hash)
        .bind(w.requester.id)
        .bind(Utc::now())
        .execute(c)
        .await
        .map(|_| ()));
    assert!(
        direct.is_err(),
        "the four-eyes check constraint refuses the row"
    );
}
backend_test!(
    four_eyes,
    the_requester_cannot_approve_and_the_database_refuses_it_too
);

async fn a_rejection_needs_a_reason_and_stops_the_plan_until_revised(t: &TestDb) {
    let w = world(&t.db, 1).await;
    submit(&t.db, &w).await;
    let (revision, content_hash) = current(&t.db, w.plan_id).await;
    let reject = |reason: &str, key: &str| Decision {
        plan_id: w.plan_id,
        revision,
        content_hash: content_hash.clone(),
        approve: false,
        reason: reason.into(),
        request_key: key.into(),
    };
    let Err(PlanError::Invalid(f)) = decide(
        &t.db,
        &Ctx::system(),
        &w.governance,
        reject("  ", "r0"),
        Utc::now(),
    )
    .await
    else {
        panic!()
    };
    assert_eq!(f[0].field, "reason");
    let out = decide(
        &t.db,
        &Ctx::system(),
        &w.governance,
        reject("Scope too wide", "r1"),
        Utc::now(),
    )
    .await
    .unwrap();
    assert_eq!(out, Outcome::Rejected);
    // A retry of the same form answers the same result and writes nothing more.
    let again = decide(
        &t.db,
        &Ctx::system(),
        &w.governance,
        reject("Scope too wide", "r1"),
        Utc::now(),
    )
    .await
    .unwrap();
    assert_eq!(again, Outcome::Rejected);
    assert_eq!(
        count(&t.db, "SELECT COUNT(*) FROM approval_decisions").await,
        1
    );
    let Err(PlanError::Refused(_)) = approve(&t.db, w.plan_id, &w.product, "k1").await else {
        panic!("a rejected plan takes no approvals")
    };
    let mut body = repo::revision(&mut Conn::Db(&t.db), w.plan_id, revision)
        .await
        .unwrap()
        .body()
        .unwrap();
    body.stages[0].rows[0].scope = "orders of 2026-11-19".into();
    service::save(
        &t.db,
        &Ctx::system(),
        &w.requester,
        w.plan_id,
        revision,
        body,
    )
    .await
    .unwrap();
    assert_eq!(
        repo::get(&mut Conn::Db(&t.db), w.plan_id)
            .await
            .unwrap()
            .status(),
        PlanStatus::Draft
    );
    submit(&t.db, &w).await;
    assert_eq!(
        approve(&t.db, w.plan_id, &w.governance, "k2")
            .await
            .unwrap(),
        Outcome::Recorded
    );
}
backend_test!(
    rejection,
    a_rejection_needs_a_reason_and_stops_the_plan_until_revised
);

/// Twenty engineers (ten people, each sending twice with the same form key) race to give the
/// last approval: exactly one sign-off and one job.
async fn twenty_parallel_final_approvals_create_exactly_one_job(t: &TestDb) {
    let w = world(&t.db, 10).await;
    submit(&t.db, &w).await;
    approve(&t.db, w.plan_id, &w.product, "p").await.unwrap();
    approve(&t.db, w.plan_id, &w.governance, "g").await.unwrap();
    let (revision, content_hash) = current(&t.db, w.plan_id).await;
    let mut tasks = Vec::new();
    for i in 0..20 {
        let db = t.db.clone();
        let who = w.engineers[i % 10].clone();
        let d = Decision {
            plan_id: w.plan_id,
            revision,
            content_hash: content_hash.clone(),
            approve: true,
            reason: String::new(),
            request_key: format!("eng-{}", i % 10),
        };
        tasks.push(tokio::spawn(async move {
            decide(&db, &Ctx::system(), &who, d, Utc::now()).await
        }));
    }
    // The one final approval answers "signed off", and so does a replay of its form (the same
    // key): both name the one job.
    let mut jobs = std::collections::HashSet::new();
    for task in tasks {
        match task.await.unwrap() {
            Ok(Outcome::SignedOff { execution_id, .. }) => {
                jobs.insert(execution_id);
            }
            Ok(_) | Err(PlanError::Refused(_)) => {}
            Err(e) => panic!("unexpected error: {e:?}"),
        }
    }
    assert_eq!(jobs.len(), 1);
    assert_eq!(count(&t.db, "SELECT COUNT(*) FROM sign_offs").await, 1);
    assert_eq!(count(&t.db, "SELECT COUNT(*) FROM executions").await, 1);
    assert_eq!(
        count(
            &t.db,
            "SELECT COUNT(*) FROM audit_events WHERE action = 'plan.signed_off'"
        )
        .await,
        1
    );
}
backend_test!(
    exactly_once,
    twenty_parallel_final_approvals_create_exactly_one_job
);

async fn a_resent_final_approval_answers_that_it_signed_off_the_plan(t: &TestDb) {
    let w = world(&t.db, 1).await;
    submit(&t.db, &w).await;
    approve(&t.db, w.plan_id, &w.product, "p").await.unwrap();
    approve(&t.db, w.plan_id, &w.governance, "g").await.unwrap();
    let first = approve(&t.db, w.plan_id, &w.engineers[0], "e")
        .await
        .unwrap();
    let Outcome::SignedOff { execution_id, .. } = first else {
        panic!("signed off: {first:?}")
    };
    // The first answer was lost; the browser sends the same form again.
    let again = approve(&t.db, w.plan_id, &w.engineers[0], "e")
        .await
        .unwrap();
    assert_eq!(
        again, first,
        "the same sign-off, the same job #{execution_id}"
    );
    let earlier = approve(&t.db, w.plan_id, &w.product, "p").await.unwrap();
    assert_eq!(
        earlier,
        Outcome::Recorded,
        "an earlier approval stays an approval"
    );
    assert_eq!(count(&t.db, "SELECT COUNT(*) FROM executions").await, 1);
}
backend_test!(
    resent_final,
    a_resent_final_approval_answers_that_it_signed_off_the_plan
);
