//! When a signed-off job may start (windows, break-glass) and approvals that expire.

use super::*;

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

async fn a_plan_no_window_can_ever_serve_is_refused_at_submit(t: &TestDb) {
    use crate::approvals::{repo as policies, windows::Window};
    let w = world(&t.db, 0).await;
    let mut policy = policies::policies(&mut Conn::Db(&t.db))
        .await
        .unwrap()
        .remove(0);
    let past = |d: &str| chrono::NaiveDateTime::parse_from_str(d, "%Y-%m-%d %H:%M").unwrap();
    policy.windows = vec![Window::Once {
        start: past("2020-01-01 00:00"),
        end: past("2020-01-02 00:00"),
        tz: "UTC".into(),
    }];
    let mut tx = t.db.begin().await.unwrap();
    policies::save_policy(&mut tx, &policy, Utc::now())
        .await
        .unwrap()
        .unwrap();
    tx.commit().await.unwrap();
    let Err(PlanError::Refused(m)) = try_submit(&t.db, &w).await else {
        panic!("refused")
    };
    assert!(m.contains("could never start"), "{m}");
    let plan = repo::get(&mut Conn::Db(&t.db), w.plan_id).await.unwrap();
    assert_eq!(plan.status(), PlanStatus::Draft, "nothing changed");
}
backend_test!(
    no_window_ever,
    a_plan_no_window_can_ever_serve_is_refused_at_submit
);
