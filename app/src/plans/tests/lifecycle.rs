//! A plan's whole life: withdrawn with a reason, a change closed as fixed forward, and a new
//! plan after one that ended; each move audited.

use super::*;
use crate::plans::lifecycle::{fix_forward, withdraw};

async fn actions_of(db: &Db, entity: &str) -> Vec<String> {
    let sql =
        format!("SELECT action FROM audit_events WHERE entity_type = '{entity}' ORDER BY seq");
    conn_run!(&mut Conn::Db(db), |c| sqlx::query_scalar(&sql)
        .fetch_all(c)
        .await)
    .unwrap()
}

async fn change_status(db: &Db) -> String {
    let sql = "SELECT status FROM changes WHERE id = 1";
    conn_run!(&mut Conn::Db(db), |c| sqlx::query_scalar(sql)
        .fetch_one(c)
        .await)
    .unwrap()
}

async fn a_withdrawn_plan_stays_in_the_history_and_a_new_one_can_be_drafted(t: &TestDb) {
    let w = world(&t.db, 0).await;
    submit(&t.db, &w).await;
    approve(&t.db, w.plan_id, &w.product, "p").await.unwrap();
    let now = Utc::now();
    let Err(PlanError::Invalid(f)) =
        withdraw(&t.db, &Ctx::system(), &w.requester, w.plan_id, " ", now).await
    else {
        panic!("a reason is required")
    };
    assert_eq!(f[0].field, "reason");
    withdraw(
        &t.db,
        &Ctx::system(),
        &w.requester,
        w.plan_id,
        "Wrong scope",
        now,
    )
    .await
    .unwrap();
    let plan = repo::get(&mut Conn::Db(&t.db), w.plan_id).await.unwrap();
    assert_eq!(plan.status(), PlanStatus::Withdrawn);
    assert_eq!(plan.end_reason.as_deref(), Some("Wrong scope"));
    assert_eq!(change_status(&t.db).await, "recorded");
    let voided = count(
        &t.db,
        "SELECT COUNT(*) FROM approval_decisions WHERE voided_at IS NOT NULL",
    )
    .await;
    assert_eq!(voided, 1, "the approval no longer counts");
    assert!(actions_of(&t.db, "plan")
        .await
        .contains(&"plan.withdrawn".to_string()));
    let again = service::draft(&t.db, &Ctx::system(), &w.requester, 1)
        .await
        .unwrap();
    assert_ne!(again, w.plan_id, "a new plan, the old one kept");
    let plans = repo::plans_of_change(&mut Conn::Db(&t.db), 1)
        .await
        .unwrap();
    let statuses: Vec<&str> = plans.iter().map(|p| p.status.as_str()).collect();
    assert_eq!(statuses, ["draft", "withdrawn"]);
    assert_eq!(change_status(&t.db).await, "rollback_planned");
}
backend_test!(
    withdrawn,
    a_withdrawn_plan_stays_in_the_history_and_a_new_one_can_be_drafted
);

async fn a_change_fixed_forward_is_closed_with_its_reason_and_its_plan_withdrawn(t: &TestDb) {
    let w = world(&t.db, 0).await;
    let now = Utc::now();
    let Err(PlanError::Invalid(f)) = fix_forward(
        &t.db,
        &Ctx::system(),
        &w.requester,
        1,
        "Hotfix",
        "not a link",
        now,
    )
    .await
    else {
        panic!("the link is checked")
    };
    assert_eq!(f[0].field, "link");
    fix_forward(
        &t.db,
        &Ctx::system(),
        &w.requester,
        1,
        "Hotfix 0.4.2 corrected the conversion",
        "https://git.example.com/pr/77",
        now,
    )
    .await
    .unwrap();
    let change = crate::changes::repo::get(&mut Conn::Db(&t.db), 1)
        .await
        .unwrap();
    assert_eq!(change.status.as_str(), "closed");
    let closed = change.closed.unwrap();
    assert_eq!(closed.reason, "Hotfix 0.4.2 corrected the conversion");
    assert_eq!(
        closed.link.as_deref(),
        Some("https://git.example.com/pr/77")
    );
    let plan = repo::get(&mut Conn::Db(&t.db), w.plan_id).await.unwrap();
    assert_eq!(plan.status(), PlanStatus::Withdrawn);
    let actions = actions_of(&t.db, "change").await;
    assert!(
        actions.ends_with(&[
            "change.status_changed".to_string(),
            "change.status_changed".to_string(),
            "change.closed".to_string()
        ]),
        "{actions:?}"
    );
    let Err(PlanError::Refused(m)) = service::draft(&t.db, &Ctx::system(), &w.requester, 1).await
    else {
        panic!("nothing left to plan")
    };
    assert!(m.contains("closed"), "{m}");
}
backend_test!(
    fixed_forward,
    a_change_fixed_forward_is_closed_with_its_reason_and_its_plan_withdrawn
);

async fn a_signed_off_plan_can_be_neither_withdrawn_nor_fixed_forward(t: &TestDb) {
    let w = world(&t.db, 1).await;
    submit(&t.db, &w).await;
    approve(&t.db, w.plan_id, &w.product, "p").await.unwrap();
    approve(&t.db, w.plan_id, &w.governance, "g").await.unwrap();
    approve(&t.db, w.plan_id, &w.engineers[0], "e")
        .await
        .unwrap();
    let now = Utc::now();
    assert!(matches!(
        withdraw(&t.db, &Ctx::system(), &w.requester, w.plan_id, "late", now).await,
        Err(PlanError::Refused(_))
    ));
    let Err(PlanError::Refused(m)) =
        fix_forward(&t.db, &Ctx::system(), &w.requester, 1, "late", "", now).await
    else {
        panic!("refused")
    };
    assert!(m.contains("abort the rollback first"), "{m}");
}
backend_test!(
    signed_off_stays,
    a_signed_off_plan_can_be_neither_withdrawn_nor_fixed_forward
);
