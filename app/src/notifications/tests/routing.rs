//! Who is told of each event: the groups still needed, the plan's people, never the actor.

use chrono::Utc;

use super::{as_user, told, told_of};
use crate::{
    approvals::service::{decide, Decision},
    audit::Actor,
    backend_test, conn_run,
    db::{testing::TestDb, Conn, Db},
    plans::{service as plans, tests::world},
    users::tests::{add_user, group_id},
};

/// The plan's current revision and hash.
pub(super) async fn current(db: &Db, plan_id: i64) -> (i32, String) {
    let sql =
        "SELECT r.number, r.content_hash FROM plans p JOIN plan_revisions r ON r.plan_id = p.id \
               AND r.number = p.current_revision WHERE p.id = $1";
    conn_run!(&mut Conn::Db(db), |c| sqlx::query_as(sql)
        .bind(plan_id)
        .fetch_one(c)
        .await)
    .unwrap()
}

pub(super) async fn submit_as(db: &Db, who: &Actor, plan_id: i64) {
    let (rev, _) = current(db, plan_id).await;
    plans::submit(db, &as_user(who), who, plan_id, rev, None, Utc::now())
        .await
        .unwrap();
}

pub(super) async fn decide_as(db: &Db, who: &Actor, plan_id: i64, approve: bool) {
    let (revision, content_hash) = current(db, plan_id).await;
    let d = Decision {
        plan_id,
        revision,
        content_hash,
        approve,
        reason: if approve {
            String::new()
        } else {
            "The backfill window is wrong".into()
        },
        request_key: format!("{}-{revision}", who.username),
    };
    decide(db, &as_user(who), who, d, Utc::now()).await.unwrap();
}

fn names(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| s.to_string()).collect()
}

async fn each_event_reaches_the_people_it_concerns_once_and_never_the_one_who_caused_it(
    t: &TestDb,
) {
    let db = &t.db;
    let w = world(db, 1).await; // rita drafts; pia (Product), gus (governance), eng0 (Engineering)
    let product = group_id(db, "Product").await;
    add_user(db, "bea", &["approver"], &[product]).await;
    add_user(db, "viewer", &["auditor"], &[]).await;

    submit_as(db, &w.requester, w.plan_id).await;
    assert_eq!(
        told_of(db, "approval_requested").await,
        names(&["bea", "eng0", "gus", "pia"]),
        "every member of every group still needed, not the submitter"
    );

    decide_as(db, &w.product, w.plan_id, true).await;
    assert_eq!(
        told_of(db, "plan_approved").await,
        names(&["rita"]),
        "the approver is not told of their own approval"
    );

    decide_as(db, &w.governance, w.plan_id, true).await;
    decide_as(db, &w.engineers[0], w.plan_id, true).await;
    // rita ×3; pia hears of gus's and eng0's; gus of eng0's.
    assert_eq!(
        told_of(db, "plan_approved").await,
        names(&["gus", "pia", "pia", "rita", "rita", "rita"])
    );
    assert_eq!(
        told_of(db, "signed_off").await,
        names(&["gus", "pia", "rita"]),
        "the sign-off reaches the plan's people and approvers, not the last approver who caused it"
    );
    let all = told(db).await;
    assert!(
        all.iter().all(|(u, _)| u != "viewer"),
        "someone with no part hears nothing"
    );
    let sql = "SELECT COUNT(*) FROM notifications n JOIN messages m ON m.id = n.message_id \
               GROUP BY m.audit_seq, n.user_id HAVING COUNT(*) > 1";
    let doubled: Vec<i64> = conn_run!(&mut Conn::Db(db), |c| sqlx::query_scalar(sql)
        .fetch_all(c)
        .await)
    .unwrap();
    assert!(doubled.is_empty(), "nobody is told twice of one event");
    let sql = "SELECT COUNT(*) FROM deliveries";
    let queued: i64 = conn_run!(&mut Conn::Db(db), |c| sqlx::query_scalar(sql)
        .fetch_one(c)
        .await)
    .unwrap();
    assert_eq!(
        queued, 0,
        "without an e-mail server, notifications are only listed"
    );
}
backend_test!(
    told_once,
    each_event_reaches_the_people_it_concerns_once_and_never_the_one_who_caused_it
);

async fn a_rejection_tells_the_requester_and_earlier_approvers_why(t: &TestDb) {
    let db = &t.db;
    let w = world(db, 1).await;
    submit_as(db, &w.requester, w.plan_id).await;
    decide_as(db, &w.product, w.plan_id, true).await;
    decide_as(db, &w.governance, w.plan_id, false).await;
    let sql = "SELECT m.body FROM notifications n JOIN messages m ON m.id = n.message_id \
               WHERE m.kind = 'plan_rejected' AND n.user_id = $1";
    let body: String = conn_run!(&mut Conn::Db(db), |c| sqlx::query_scalar(sql)
        .bind(w.requester.id)
        .fetch_one(c)
        .await)
    .unwrap();
    assert!(body.contains("The backfill window is wrong"), "{body}");
    assert_eq!(told_of(db, "plan_rejected").await, names(&["pia", "rita"]));
}
backend_test!(
    rejected,
    a_rejection_tells_the_requester_and_earlier_approvers_why
);

async fn an_edit_in_review_tells_only_those_whose_approval_it_voided(t: &TestDb) {
    let db = &t.db;
    let w = world(db, 1).await;
    submit_as(db, &w.requester, w.plan_id).await;
    decide_as(db, &w.product, w.plan_id, true).await;
    let (rev, _) = current(db, w.plan_id).await;
    let mut body = crate::plans::repo::revision(&mut Conn::Db(db), w.plan_id, rev)
        .await
        .unwrap()
        .body()
        .unwrap();
    body.expected_duration = "40 minutes".into();
    plans::save(
        db,
        &as_user(&w.requester),
        &w.requester,
        w.plan_id,
        rev,
        body,
    )
    .await
    .unwrap();
    assert_eq!(told_of(db, "approvals_voided").await, names(&["pia"]));
    let sql = "SELECT link FROM messages WHERE kind = 'approvals_voided'";
    let link: String = conn_run!(&mut Conn::Db(db), |c| sqlx::query_scalar(sql)
        .fetch_one(c)
        .await)
    .unwrap();
    assert_eq!(link, format!("/plans/{}/compare", w.plan_id));
}
backend_test!(
    voided,
    an_edit_in_review_tells_only_those_whose_approval_it_voided
);
