//! Four eyes everywhere: no one who shaped a plan decides on it (the database refuses it from
//! the plan's own rows too), and only approvers still standing count at sign-off.

use super::*;
use crate::approvals::repo::{self as approvals_repo, NewDecision};

async fn revise_as(db: &Db, w: &World, who: &Actor) {
    let (rev, _) = current(db, w.plan_id).await;
    let mut body = repo::revision(&mut Conn::Db(db), w.plan_id, rev)
        .await
        .unwrap()
        .body()
        .unwrap();
    body.stages[0].rows[0].scope = format!("partition edited by {}", who.username);
    service::save(db, &Ctx::system(), who, w.plan_id, rev, body)
        .await
        .unwrap();
}

async fn the_author_of_any_revision_cannot_approve_the_plan(t: &TestDb) {
    let w = world(&t.db, 1).await;
    submit(&t.db, &w).await;
    let engineer = &w.engineers[0];
    revise_as(&t.db, &w, engineer).await;
    revise_as(&t.db, &w, &w.requester).await; // the engineer no longer wrote the current one
    let Err(PlanError::Refused(m)) = approve(&t.db, w.plan_id, engineer, "k1").await else {
        panic!("refused")
    };
    assert!(m.contains("You wrote a revision of this plan"), "{m}");
    let page = load::page(
        &t.db,
        &viewer(
            engineer,
            &[Role::Approver],
            &[group_id(&t.db, "Engineering").await],
        ),
        w.plan_id,
    )
    .await
    .unwrap();
    assert!(!page.rights.decide);
    assert!(page
        .rights
        .decide_refusal
        .unwrap()
        .contains("You wrote a revision"));
}
backend_test!(
    revision_author,
    the_author_of_any_revision_cannot_approve_the_plan
);

async fn the_database_refuses_a_decision_by_a_revision_author_whatever_the_row_copies(t: &TestDb) {
    let w = world(&t.db, 1).await;
    submit(&t.db, &w).await;
    let engineer = &w.engineers[0];
    revise_as(&t.db, &w, engineer).await;
    let (revision, hash) = current(&t.db, w.plan_id).await;
    let mut tx = t.db.begin().await.unwrap();
    let forged = NewDecision {
        plan_id: w.plan_id,
        revision,
        content_hash: &hash,
        approver_id: engineer.id,
        group_id: Some(group_id(&t.db, "Engineering").await),
        approve: true,
        reason: "",
        // The copies the old CHECK compared with name someone else entirely.
        plan_author_id: w.product.id,
        change_author_id: w.product.id,
        request_key: "forged",
        at: Utc::now(),
        renewal: 0,
    };
    let err = approvals_repo::insert_decision(&mut tx, &forged)
        .await
        .unwrap_err();
    assert!(
        err.is_conflict_on("approval_decisions_four_eyes"),
        "{err:?}"
    );
}
backend_test!(
    database_four_eyes,
    the_database_refuses_a_decision_by_a_revision_author_whatever_the_row_copies
);

async fn an_approval_by_someone_who_left_the_group_stops_counting_before_sign_off(t: &TestDb) {
    let w = world(&t.db, 1).await;
    submit(&t.db, &w).await;
    approve(&t.db, w.plan_id, &w.product, "p").await.unwrap();
    approve(&t.db, w.plan_id, &w.governance, "g").await.unwrap();
    let product = group_id(&t.db, "Product").await;
    let sql = format!(
        "DELETE FROM group_members WHERE user_id = {} AND group_id = {product}",
        w.product.id
    );
    conn_run!(&mut Conn::Db(&t.db), |c| sqlx::query(&sql)
        .execute(c)
        .await
        .map(|_| ()))
    .unwrap();
    let outcome = approve(&t.db, w.plan_id, &w.engineers[0], "e")
        .await
        .unwrap();
    assert_eq!(
        outcome,
        Outcome::Recorded,
        "Product's approval no longer counts"
    );
    let page = load::page(
        &t.db,
        &viewer(&w.governance, &[Role::Auditor], &[]),
        w.plan_id,
    )
    .await
    .unwrap();
    let pia = page.decisions.iter().find(|d| d.approver == "pia").unwrap();
    assert_eq!(
        pia.void_reason.as_deref(),
        Some("No longer counts: pia is no longer an active approver in Product.")
    );
    let stand_in = actor(
        add_user(&t.db, "pat", &["approver"], &[product]).await,
        "pat",
    );
    let outcome = approve(&t.db, w.plan_id, &stand_in, "p2").await.unwrap();
    assert!(matches!(outcome, Outcome::SignedOff { .. }), "{outcome:?}");
}
backend_test!(
    lapsed_approver,
    an_approval_by_someone_who_left_the_group_stops_counting_before_sign_off
);
