//! Plans and approvals against a real database (SQLite, and PostgreSQL twins): drafting,
//! revising, four eyes, voiding, rejection, sign-off, and exactly-once under concurrency.

use chrono::{Datelike, Duration, Utc};

use super::{
    load,
    model::{Action, PlanStatus},
    repo,
    service::{self, PlanError},
};
use crate::{
    approvals::service::{decide, ensure_default_policy, Decision, Outcome},
    audit::{repo::Ctx, Actor},
    auth::{model::GroupRef, CurrentUser, Role},
    backend_test,
    catalog::tests::seed_chain,
    changes::{model::ChangeInput, model::NewChange, service as changes},
    conn_run,
    db::{testing::TestDb, Conn, Db},
    users::tests::{add_user, group_id},
};

struct World {
    requester: Actor,
    product: Actor,
    governance: Actor,
    engineers: Vec<Actor>,
    plan_id: i64,
}

fn actor(id: i64, name: &str) -> Actor {
    Actor {
        id,
        username: name.into(),
    }
}

/// A change on `staged` (raw → staged → mart → dashboard), its drafted plan, and approvers.
async fn world(db: &Db, engineers: usize) -> World {
    seed_chain(db).await;
    let (p, g, e) = (
        group_id(db, "Product").await,
        group_id(db, "Data governance").await,
        group_id(db, "Engineering").await,
    );
    ensure_default_policy(db).await.unwrap();
    let rita = add_user(db, "rita", &["requester"], &[]).await;
    let input = ChangeInput {
        title: "Currency fix".into(),
        kind: "transform".into(),
        why: "Totals doubled".into(),
        git_sha: "0123abc".into(),
        components: vec![("staged".into(), "snap-7".into())],
        ..Default::default()
    };
    let new = NewChange::parse(&input, Utc::now()).unwrap();
    let change = changes::create(db, &Ctx::system(), rita, &new, None)
        .await
        .unwrap();
    let requester = actor(rita, "rita");
    let plan_id = service::draft(db, &Ctx::system(), &requester, change)
        .await
        .unwrap();
    let mut engineer_actors = Vec::new();
    for i in 0..engineers {
        let name = format!("eng{i}");
        engineer_actors.push(actor(add_user(db, &name, &["approver"], &[e]).await, &name));
    }
    World {
        requester,
        product: actor(add_user(db, "pia", &["approver"], &[p]).await, "pia"),
        governance: actor(add_user(db, "gus", &["approver"], &[g]).await, "gus"),
        engineers: engineer_actors,
        plan_id,
    }
}

async fn current(db: &Db, plan_id: i64) -> (i32, String) {
    let plan = repo::get(&mut Conn::Db(db), plan_id).await.unwrap();
    let rev = repo::revision(&mut Conn::Db(db), plan_id, plan.current_revision)
        .await
        .unwrap();
    (rev.number, rev.content_hash)
}

async fn submit(db: &Db, w: &World) {
    let (rev, _) = current(db, w.plan_id).await;
    service::submit(
        db,
        &Ctx::system(),
        &w.requester,
        w.plan_id,
        rev,
        None,
        Utc::now(),
    )
    .await
    .unwrap();
}

async fn approve(db: &Db, plan_id: i64, who: &Actor, key: &str) -> Result<Outcome, PlanError> {
    let (revision, content_hash) = current(db, plan_id).await;
    let d = Decision {
        plan_id,
        revision,
        content_hash,
        approve: true,
        reason: String::new(),
        request_key: key.into(),
    };
    decide(db, &Ctx::system(), who, d, Utc::now()).await
}

async fn count(db: &Db, sql: &str) -> i64 {
    conn_run!(&mut Conn::Db(db), |c| sqlx::query_scalar::<_, i64>(sql)
        .fetch_one(c)
        .await)
    .unwrap()
}

fn viewer(a: &Actor, roles: &[Role], groups: &[i64]) -> CurrentUser {
    CurrentUser {
        id: a.id,
        username: a.username.clone(),
        display_name: a.username.clone(),
        roles: roles.to_vec(),
        groups: groups
            .iter()
            .map(|id| GroupRef {
                id: *id,
                name: String::new(),
            })
            .collect(),
    }
}

async fn drafting_proposes_the_changed_component_and_everything_downstream(t: &TestDb) {
    let w = world(&t.db, 1).await;
    let rev = repo::revision(&mut Conn::Db(&t.db), w.plan_id, 1)
        .await
        .unwrap();
    let body = rev.body().unwrap();
    let order: Vec<&str> = body.rows().map(|(_, _, r)| r.component.as_str()).collect();
    assert_eq!(order, ["staged", "mart", "dashboard"]);
    assert_eq!(rev.content_hash, service::content_hash(&body).unwrap());
    assert_eq!(rev.content_hash.len(), 64);
    let status: String = conn_run!(&mut Conn::Db(&t.db), |c| sqlx::query_scalar(
        "SELECT status FROM changes"
    )
    .fetch_one(c)
    .await)
    .unwrap();
    assert_eq!(status, "rollback_planned");
    // Drafting again opens the same plan.
    let again = service::draft(&t.db, &Ctx::system(), &w.requester, 1)
        .await
        .unwrap();
    assert_eq!(again, w.plan_id);
}
backend_test!(
    draft,
    drafting_proposes_the_changed_component_and_everything_downstream
);

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

async fn editing_after_an_approval_voids_it_and_keeps_the_plan_in_review(t: &TestDb) {
    let w = world(&t.db, 1).await;
    submit(&t.db, &w).await;
    approve(&t.db, w.plan_id, &w.product, "k1").await.unwrap();
    let (rev, old_hash) = current(&t.db, w.plan_id).await;
    let mut body = repo::revision(&mut Conn::Db(&t.db), w.plan_id, rev)
        .await
        .unwrap()
        .body()
        .unwrap();
    body.stages[0].rows[0].scope = "partition 2026-11-19".into();
    let new = service::save(&t.db, &Ctx::system(), &w.requester, w.plan_id, rev, body)
        .await
        .unwrap();
    assert_eq!(new, rev + 1);
    let plan = repo::get(&mut Conn::Db(&t.db), w.plan_id).await.unwrap();
    assert_eq!(
        (plan.status(), plan.current_revision),
        (PlanStatus::InReview, new)
    );
    let page = load::page(
        &t.db,
        &viewer(&w.product, &[Role::Approver], &[]),
        w.plan_id,
    )
    .await
    .unwrap();
    let voided = &page.decisions[0];
    assert_eq!((voided.approver.as_str(), voided.revision), ("pia", rev));
    assert!(voided
        .void_reason
        .as_deref()
        .unwrap()
        .contains(&format!("Revision {new} changed the plan")));
    assert!(page.approval.unwrap().groups[0].approvers.is_empty());
    // Approving the old revision is refused; the product approver may approve the new one.
    let d = Decision {
        plan_id: w.plan_id,
        revision: rev,
        content_hash: old_hash,
        approve: true,
        reason: String::new(),
        request_key: "old".into(),
    };
    let Err(PlanError::Refused(m)) = decide(&t.db, &Ctx::system(), &w.product, d, Utc::now()).await
    else {
        panic!()
    };
    assert!(m.contains("no longer current"), "{m}");
    assert_eq!(
        approve(&t.db, w.plan_id, &w.product, "k2").await.unwrap(),
        Outcome::Recorded
    );
}
backend_test!(
    voiding,
    editing_after_an_approval_voids_it_and_keeps_the_plan_in_review
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

async fn an_expired_restore_refuses_submission_naming_the_row(t: &TestDb) {
    let w = world(&t.db, 0).await;
    let (rev, _) = current(&t.db, w.plan_id).await;
    let later = Utc::now() + Duration::days(2);
    let Err(PlanError::Refused(m)) = service::submit(
        &t.db,
        &Ctx::system(),
        &w.requester,
        w.plan_id,
        rev,
        None,
        later,
    )
    .await
    else {
        panic!("refused")
    };
    assert!(
        m.starts_with("Stage 1 row 1 (`staged`) restores data version snap-7"),
        "{m}"
    );
}
backend_test!(
    restorable,
    an_expired_restore_refuses_submission_naming_the_row
);

async fn a_plan_with_no_rows_is_refused_and_nothing_is_saved(t: &TestDb) {
    let w = world(&t.db, 0).await;
    let mut body = repo::revision(&mut Conn::Db(&t.db), w.plan_id, 1)
        .await
        .unwrap()
        .body()
        .unwrap();
    body.stages.clear();
    let Err(PlanError::Invalid(f)) =
        service::save(&t.db, &Ctx::system(), &w.requester, w.plan_id, 1, body).await
    else {
        panic!()
    };
    assert!(f.iter().any(|e| e.message.contains("at least one row")));
    assert_eq!(count(&t.db, "SELECT COUNT(*) FROM plan_revisions").await, 1);
    let mut body = repo::revision(&mut Conn::Db(&t.db), w.plan_id, 1)
        .await
        .unwrap()
        .body()
        .unwrap();
    body.stages[0].rows[0].action = Action::Manual {
        instructions: String::new(),
    };
    assert!(
        service::save(&t.db, &Ctx::system(), &w.requester, w.plan_id, 1, body)
            .await
            .is_err()
    );
}
backend_test!(no_rows, a_plan_with_no_rows_is_refused_and_nothing_is_saved);

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
    let mut signed = 0;
    for task in tasks {
        match task.await.unwrap() {
            Ok(Outcome::SignedOff { .. }) => signed += 1,
            Ok(_) | Err(PlanError::Refused(_)) => {}
            Err(e) => panic!("unexpected error: {e:?}"),
        }
    }
    assert_eq!(signed, 1);
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

async fn a_row_added_by_name_becomes_the_last_stage_and_an_unknown_name_is_refused(t: &TestDb) {
    let w = world(&t.db, 0).await;
    let Err(PlanError::Invalid(f)) =
        service::add_row(&t.db, &Ctx::system(), &w.requester, w.plan_id, 1, "no.such").await
    else {
        panic!("refused")
    };
    assert_eq!(f[0].field, "component");
    assert!(f[0]
        .message
        .contains("`no.such` is not a component in the catalog"));
    let rev = service::add_row(
        &t.db,
        &Ctx::system(),
        &w.requester,
        w.plan_id,
        1,
        "AUDIT_COPY",
    )
    .await
    .unwrap();
    let body = repo::revision(&mut Conn::Db(&t.db), w.plan_id, rev)
        .await
        .unwrap()
        .body()
        .unwrap();
    let last = &body.stages.last().unwrap().rows[0];
    assert_eq!((rev, last.component.as_str()), (2, "audit_copy"));
}
backend_test!(
    add_row,
    a_row_added_by_name_becomes_the_last_stage_and_an_unknown_name_is_refused
);

/// Gives the default policy a window that is closed now (weekly, two days ahead, UTC).
async fn close_windows_now(db: &Db) {
    use crate::approvals::{repo as policies, windows::Window};
    let mut policy = policies::policies(&mut Conn::Db(db))
        .await
        .unwrap()
        .remove(0);
    let day = (Utc::now() + Duration::days(2)).weekday();
    let at = |h| chrono::NaiveTime::from_hms_opt(h, 0, 0).unwrap();
    policy.windows = vec![Window::Weekly {
        day,
        start: at(2),
        end: at(3),
        tz: "UTC".into(),
    }];
    let mut tx = db.begin().await.unwrap();
    policies::save_policy(&mut tx, &policy, Utc::now())
        .await
        .unwrap()
        .unwrap();
    tx.commit().await.unwrap();
}

async fn outside_a_window_the_signed_off_job_waits_for_the_next_window(t: &TestDb) {
    let w = world(&t.db, 1).await;
    close_windows_now(&t.db).await;
    submit(&t.db, &w).await;
    approve(&t.db, w.plan_id, &w.product, "p").await.unwrap();
    approve(&t.db, w.plan_id, &w.governance, "g").await.unwrap();
    let Outcome::SignedOff {
        run_after: Some(start),
        ..
    } = approve(&t.db, w.plan_id, &w.engineers[0], "e")
        .await
        .unwrap()
    else {
        panic!("signed off with a start")
    };
    assert!(start > Utc::now() + Duration::days(1), "{start}");
    assert_eq!(
        repo::get(&mut Conn::Db(&t.db), w.plan_id)
            .await
            .unwrap()
            .status(),
        PlanStatus::Scheduled
    );
}
backend_test!(
    scheduled,
    outside_a_window_the_signed_off_job_waits_for_the_next_window
);

async fn break_glass_needs_one_more_engineering_approval_and_starts_at_once(t: &TestDb) {
    let w = world(&t.db, 2).await;
    close_windows_now(&t.db).await;
    let (rev, _) = current(&t.db, w.plan_id).await;
    service::submit(
        &t.db,
        &Ctx::system(),
        &w.requester,
        w.plan_id,
        rev,
        Some("Finance close tonight".into()),
        Utc::now(),
    )
    .await
    .unwrap();
    approve(&t.db, w.plan_id, &w.product, "p").await.unwrap();
    approve(&t.db, w.plan_id, &w.governance, "g").await.unwrap();
    assert_eq!(
        approve(&t.db, w.plan_id, &w.engineers[0], "e0")
            .await
            .unwrap(),
        Outcome::Recorded
    );
    let Outcome::SignedOff {
        run_after: Some(start),
        ..
    } = approve(&t.db, w.plan_id, &w.engineers[1], "e1")
        .await
        .unwrap()
    else {
        panic!("the second engineer completes the break-glass quorum")
    };
    assert!(start <= Utc::now());
    assert_eq!(
        repo::get(&mut Conn::Db(&t.db), w.plan_id)
            .await
            .unwrap()
            .status(),
        PlanStatus::SignedOff
    );
}
backend_test!(
    break_glass,
    break_glass_needs_one_more_engineering_approval_and_starts_at_once
);

async fn an_expired_approval_no_longer_counts_and_its_approver_may_renew_it(t: &TestDb) {
    let w = world(&t.db, 1).await;
    submit(&t.db, &w).await;
    let (revision, content_hash) = current(&t.db, w.plan_id).await;
    let decision = |key: &str| Decision {
        plan_id: w.plan_id,
        revision,
        content_hash: content_hash.clone(),
        approve: true,
        reason: String::new(),
        request_key: key.into(),
    };
    let yesterday = Utc::now() - chrono::Duration::hours(25);
    for (who, key) in [(&w.product, "p1"), (&w.governance, "g1")] {
        decide(&t.db, &Ctx::system(), who, decision(key), yesterday)
            .await
            .unwrap();
    }
    assert_eq!(
        approve(&t.db, w.plan_id, &w.engineers[0], "e1")
            .await
            .unwrap(),
        Outcome::Recorded,
        "two of the three approvals are past the 24 hours"
    );
    let product = viewer(
        &w.product,
        &[Role::Approver],
        &[group_id(&t.db, "Product").await],
    );
    let inbox = load::inbox(&t.db, &product).await.unwrap();
    assert!(inbox.iter().any(|i| i.plan_id == w.plan_id && i.renew));
    let page = load::page(&t.db, &product, w.plan_id).await.unwrap();
    assert!(page.rights.decide && page.rights.renew);

    assert_eq!(
        approve(&t.db, w.plan_id, &w.product, "p2").await.unwrap(),
        Outcome::Recorded
    );
    let Err(PlanError::Refused(m)) = approve(&t.db, w.plan_id, &w.product, "p3").await else {
        panic!("a live approval is not renewed twice")
    };
    assert!(m.contains("You already approved"), "{m}");
    let outcome = approve(&t.db, w.plan_id, &w.governance, "g2")
        .await
        .unwrap();
    assert!(matches!(outcome, Outcome::SignedOff { .. }), "{outcome:?}");
    let voided = count(
        &t.db,
        "SELECT COUNT(*) FROM approval_decisions WHERE void_reason LIKE 'expired at %; renewed by a new approval'",
    )
    .await;
    assert_eq!(voided, 2);
    assert_eq!(count(&t.db, "SELECT COUNT(*) FROM executions").await, 1);
}
backend_test!(
    renew_expired,
    an_expired_approval_no_longer_counts_and_its_approver_may_renew_it
);
