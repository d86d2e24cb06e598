//! Plans and approvals against a real database (SQLite, and PostgreSQL twins): drafting,
//! revising, four eyes, voiding, rejection, sign-off, and exactly-once under concurrency.

mod decisions;
mod derived;
mod four_eyes;
mod lifecycle;
mod timing;
mod versions;

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

pub(crate) struct World {
    pub requester: Actor,
    pub product: Actor,
    pub governance: Actor,
    pub engineers: Vec<Actor>,
    pub plan_id: i64,
}

fn actor(id: i64, name: &str) -> Actor {
    Actor {
        id,
        username: name.into(),
    }
}

/// A change on `staged` (raw → staged → mart → dashboard), its drafted plan, and approvers.
pub(crate) async fn world(db: &Db, engineers: usize) -> World {
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
    complete(db, &requester, plan_id).await;
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

/// What the requester adds to the proposal before submitting: why not fix forward, and for
/// each row that restores data its verification and how consumers see reconciled data.
async fn complete(db: &Db, requester: &Actor, plan_id: i64) {
    let (rev, _) = current(db, plan_id).await;
    let mut body = repo::revision(&mut Conn::Db(db), plan_id, rev)
        .await
        .unwrap()
        .body()
        .unwrap();
    body.criteria = "A forward fix needs a day; consumers read wrong totals now.".into();
    for stage in &mut body.stages {
        for row in &mut stage.rows {
            if row.restore.is_some() {
                row.checks = vec![crate::plans::model::Check::RowCount { min: 1, max: 1000 }];
                row.flagging = "`is_reconciled` column set to true".into();
            }
        }
    }
    service::save(db, &Ctx::system(), requester, plan_id, rev, body)
        .await
        .unwrap();
}

async fn current(db: &Db, plan_id: i64) -> (i32, String) {
    let plan = repo::get(&mut Conn::Db(db), plan_id).await.unwrap();
    let rev = repo::revision(&mut Conn::Db(db), plan_id, plan.current_revision)
        .await
        .unwrap();
    (rev.number, rev.content_hash)
}

pub(crate) async fn submit(db: &Db, w: &World) {
    try_submit(db, w).await.unwrap();
}

/// Submits the plan's current revision as its requester.
async fn try_submit(db: &Db, w: &World) -> Result<(), PlanError> {
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
}

pub(crate) async fn approve(
    db: &Db,
    plan_id: i64,
    who: &Actor,
    key: &str,
) -> Result<Outcome, PlanError> {
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
        m.starts_with("Stage 1 row 1 (`staged`) restores the version before snap-7"),
        "{m}"
    );
}
backend_test!(
    restorable,
    an_expired_restore_refuses_submission_naming_the_row
);

async fn a_plan_with_no_rows_is_refused_and_nothing_is_saved(t: &TestDb) {
    let w = world(&t.db, 0).await;
    let (rev, _) = current(&t.db, w.plan_id).await;
    let mut body = repo::revision(&mut Conn::Db(&t.db), w.plan_id, rev)
        .await
        .unwrap()
        .body()
        .unwrap();
    body.stages.clear();
    let Err(PlanError::Invalid(f)) =
        service::save(&t.db, &Ctx::system(), &w.requester, w.plan_id, rev, body).await
    else {
        panic!()
    };
    assert!(f.iter().any(|e| e.message.contains("at least one row")));
    assert_eq!(count(&t.db, "SELECT COUNT(*) FROM plan_revisions").await, 2);
    let mut body = repo::revision(&mut Conn::Db(&t.db), w.plan_id, rev)
        .await
        .unwrap()
        .body()
        .unwrap();
    body.stages[0].rows[0].action = Action::Manual {
        instructions: String::new(),
    };
    assert!(
        service::save(&t.db, &Ctx::system(), &w.requester, w.plan_id, rev, body)
            .await
            .is_err()
    );
}
backend_test!(no_rows, a_plan_with_no_rows_is_refused_and_nothing_is_saved);

async fn a_row_added_by_name_becomes_the_last_stage_and_an_unknown_name_is_refused(t: &TestDb) {
    let w = world(&t.db, 0).await;
    let (base, _) = current(&t.db, w.plan_id).await;
    let Err(PlanError::Invalid(f)) = service::add_row(
        &t.db,
        &Ctx::system(),
        &w.requester,
        w.plan_id,
        base,
        "no.such",
    )
    .await
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
        base,
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
    assert_eq!((rev, last.component.as_str()), (base + 1, "audit_copy"));
}
backend_test!(
    add_row,
    a_row_added_by_name_becomes_the_last_stage_and_an_unknown_name_is_refused
);
