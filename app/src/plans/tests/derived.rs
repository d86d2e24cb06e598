//! What the server derives whatever the form sends: component names from ids, the restore clock
//! from the change, the version to restore from the component's history.

use chrono::DateTime;

use super::*;
use crate::{catalog::repo as catalog_repo, plans::model::PlanBody};

pub(super) async fn body_of(db: &Db, plan_id: i64) -> PlanBody {
    let (rev, _) = current(db, plan_id).await;
    repo::revision(&mut Conn::Db(db), plan_id, rev)
        .await
        .unwrap()
        .body()
        .unwrap()
}

pub(super) async fn deployed_at(db: &Db) -> DateTime<Utc> {
    let change = crate::changes::repo::get(&mut Conn::Db(db), 1)
        .await
        .unwrap();
    change.deployed_at
}

async fn a_forged_component_name_and_restore_clock_change_nothing(t: &TestDb) {
    let w = world(&t.db, 0).await;
    let (rev, _) = current(&t.db, w.plan_id).await;
    let mut body = body_of(&t.db, w.plan_id).await;
    let row = &mut body.stages[0].rows[0];
    assert_eq!(row.component, "staged");
    row.component = "scratch.tmp".into();
    let restore = row
        .restore
        .as_mut()
        .expect("the proposal restores `staged`");
    restore.since = "2099-01-01T00:00:00Z".parse().unwrap();
    restore.undo_version = "forged".into();
    row.scope = "partition 2026-11-19".into(); // a real edit, so a revision is saved
    service::save(&t.db, &Ctx::system(), &w.requester, w.plan_id, rev, body)
        .await
        .unwrap();
    let saved = body_of(&t.db, w.plan_id).await;
    let row = &saved.stages[0].rows[0];
    assert_eq!(row.component, "staged", "the name comes from the id");
    let restore = row.restore.as_ref().unwrap();
    assert_eq!(restore.since, deployed_at(&t.db).await);
    assert_eq!(restore.undo_version, "snap-7", "from the change");
}
backend_test!(
    forged_fields,
    a_forged_component_name_and_restore_clock_change_nothing
);

async fn a_row_naming_another_components_id_shows_that_components_name(t: &TestDb) {
    let w = world(&t.db, 0).await;
    let (rev, _) = current(&t.db, w.plan_id).await;
    let mut body = body_of(&t.db, w.plan_id).await;
    let refs = catalog_repo::refs_by_names(&mut Conn::Db(&t.db), &["audit_copy".to_string()])
        .await
        .unwrap();
    let last = body.stages.last_mut().unwrap().rows.last_mut().unwrap();
    last.component_id = refs[0].id;
    last.component = "dashboard".into();
    service::save(&t.db, &Ctx::system(), &w.requester, w.plan_id, rev, body)
        .await
        .unwrap();
    let saved = body_of(&t.db, w.plan_id).await;
    let last = saved.stages.last().unwrap().rows.last().unwrap();
    assert_eq!(last.component, "audit_copy");
}
backend_test!(
    other_id,
    a_row_naming_another_components_id_shows_that_components_name
);

async fn a_dag_action_on_a_component_without_that_dag_is_refused_on_save(t: &TestDb) {
    let w = world(&t.db, 0).await;
    let (rev, _) = current(&t.db, w.plan_id).await;
    let mut body = body_of(&t.db, w.plan_id).await;
    body.stages[0].rows[0].action = Action::PauseDag;
    body.stages[0].rows[0].restore = None;
    let Err(PlanError::Invalid(errors)) =
        service::save(&t.db, &Ctx::system(), &w.requester, w.plan_id, rev, body).await
    else {
        panic!("refused")
    };
    assert_eq!(errors[0].field, "s1r1.action");
    assert!(
        errors[0].message.contains("bound to no connector"),
        "{}",
        errors[0].message
    );
}
backend_test!(
    unbound_dag,
    a_dag_action_on_a_component_without_that_dag_is_refused_on_save
);

#[test]
fn a_renamed_or_rebound_row_shows_in_the_comparison() {
    use crate::plans::{
        diff::diff,
        model::{Binding, Row, Stage},
    };
    let row = Row {
        component_id: 2,
        component: "orders_etl".into(),
        scope: "all".into(),
        action: Action::TriggerRollback {
            params: "{}".into(),
        },
        checks: vec![],
        flagging: String::new(),
        owner: "rita".into(),
        restore: None,
        binding: Some(Binding {
            rollback_dag_id: Some("orders_etl_rollback".into()),
            ..Default::default()
        }),
        deadline_minutes: None,
    };
    let body = |row: Row| PlanBody {
        reason: "x".into(),
        stages: vec![Stage { rows: vec![row] }],
        ..Default::default()
    };
    let renamed = Row {
        component: "scratch.tmp".into(),
        binding: Some(Binding {
            rollback_dag_id: Some("orders_etl".into()),
            ..Default::default()
        }),
        ..row.clone()
    };
    let d = diff(&body(row), &body(renamed));
    let fields: Vec<&str> = d.changed[0]
        .fields
        .iter()
        .map(|f| f.field.as_str())
        .collect();
    assert_eq!(fields, ["Component", "Rollback DAG"]);
}

async fn submitting_a_plan_that_verifies_nothing_is_refused_naming_each_gap(t: &TestDb) {
    let w = world(&t.db, 0).await;
    let (rev, _) = current(&t.db, w.plan_id).await;
    let mut body = body_of(&t.db, w.plan_id).await;
    body.criteria.clear();
    body.stages[0].rows[0].checks.clear();
    service::save(&t.db, &Ctx::system(), &w.requester, w.plan_id, rev, body)
        .await
        .unwrap();
    let Err(PlanError::Invalid(errors)) = try_submit(&t.db, &w).await else {
        panic!("refused")
    };
    let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
    assert_eq!(fields, ["criteria", "s1r1.checks"]);
    assert!(errors[1].message.contains("verifies nothing"));
}
backend_test!(
    readiness,
    submitting_a_plan_that_verifies_nothing_is_refused_naming_each_gap
);

async fn submit_checks_the_order_against_lineage_declared_after_the_save(t: &TestDb) {
    use crate::catalog::{
        model::Declaration,
        service::{self as catalog, Source},
    };
    let w = world(&t.db, 0).await;
    let (rev, _) = current(&t.db, w.plan_id).await;
    service::add_row(
        &t.db,
        &Ctx::system(),
        &w.requester,
        w.plan_id,
        rev,
        "audit_copy",
    )
    .await
    .unwrap();
    // Now `staged` (stage 1) reads from `audit_copy`, which the plan restores last.
    let staged = Declaration {
        name: "staged".into(),
        kind: Some(crate::catalog::model::ComponentKind::Dataset),
        upstream: Some(vec!["raw".into(), "audit_copy".into()]),
        ..Default::default()
    };
    catalog::declare(&t.db, &Ctx::system(), Source::Browser, "test", vec![staged])
        .await
        .unwrap();
    let Err(PlanError::Invalid(errors)) = try_submit(&t.db, &w).await else {
        panic!("refused")
    };
    assert!(
        errors
            .iter()
            .any(|e| e.field == "s1r1.position" && e.message.contains("depends on `audit_copy`")),
        "{errors:?}"
    );
}
backend_test!(
    stale_lineage,
    submit_checks_the_order_against_lineage_declared_after_the_save
);

async fn a_revision_in_review_falls_under_the_policy_its_rows_now_need(t: &TestDb) {
    use crate::{
        approvals::{policy::Scope, repo as policies},
        catalog::{
            model::Declaration,
            service::{self as catalog, Source},
        },
    };
    let w = world(&t.db, 0).await;
    submit(&t.db, &w).await;
    let mut finance = policies::policies(&mut Conn::Db(&t.db))
        .await
        .unwrap()
        .remove(0);
    finance.id = 0;
    finance.name = "Finance data".into();
    finance.scope = Scope::Tag("finance".into());
    finance.requirements[0].count = 2;
    let mut tx = t.db.begin().await.unwrap();
    policies::save_policy(&mut tx, &finance, Utc::now())
        .await
        .unwrap()
        .unwrap();
    tx.commit().await.unwrap();
    let mart = Declaration {
        name: "mart".into(),
        kind: Some(crate::catalog::model::ComponentKind::Dataset),
        tags: vec!["finance".into()],
        ..Default::default()
    };
    catalog::declare(&t.db, &Ctx::system(), Source::Browser, "test", vec![mart])
        .await
        .unwrap();
    let (rev, _) = current(&t.db, w.plan_id).await;
    let mut body = body_of(&t.db, w.plan_id).await;
    body.expected_duration = "40 minutes".into();
    let new = service::save(&t.db, &Ctx::system(), &w.requester, w.plan_id, rev, body)
        .await
        .unwrap();
    let request = crate::approvals::repo::request(&mut Conn::Db(&t.db), w.plan_id, new)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(request.policy_name, "Finance data");
    assert_eq!(request.requirements[0].count, 2);
}
backend_test!(
    policy_per_revision,
    a_revision_in_review_falls_under_the_policy_its_rows_now_need
);
