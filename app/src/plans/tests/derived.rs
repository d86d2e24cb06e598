//! What the server derives whatever the form sends: component names from ids, the restore clock
//! from the change, the version to restore from the component's history.

use chrono::DateTime;

use super::*;
use crate::{
    catalog::repo as catalog_repo,
    plans::model::{PlanBody, Restore, Retention, PREVIOUS},
};

async fn body_of(db: &Db, plan_id: i64) -> PlanBody {
    let (rev, _) = current(db, plan_id).await;
    repo::revision(&mut Conn::Db(db), plan_id, rev)
        .await
        .unwrap()
        .body()
        .unwrap()
}

async fn deployed_at(db: &Db) -> DateTime<Utc> {
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

async fn record(db: &Db, rita: i64, title: &str, at: &str, sha: &str, version: &str) -> i64 {
    let input = ChangeInput {
        title: title.into(),
        kind: "transform".into(),
        why: "Because".into(),
        git_sha: sha.into(),
        deployed_at: at.into(),
        components: vec![("staged".into(), version.into())],
        ..Default::default()
    };
    let new = NewChange::parse(&input, Utc::now()).unwrap();
    changes::create(db, &Ctx::system(), rita, &new, None)
        .await
        .unwrap()
}

async fn the_restore_target_defaults_to_the_version_before_the_change(t: &TestDb) {
    seed_chain(&t.db).await;
    let rita = add_user(&t.db, "rita", &["requester"], &[]).await;
    record(
        &t.db,
        rita,
        "Older",
        "2026-11-01T08:00",
        "aaaa111",
        "snap-5",
    )
    .await;
    record(&t.db, rita, "Old", "2026-11-10T08:00", "bbbb222", "snap-6").await;
    let bad = record(&t.db, rita, "Bad", "2026-11-20T08:00", "cccc333", "snap-7").await;
    record(
        &t.db,
        rita,
        "Later",
        "2026-11-21T08:00",
        "dddd444",
        "snap-8",
    )
    .await;
    let requester = actor(rita, "rita");
    let plan = service::draft(&t.db, &Ctx::system(), &requester, bad)
        .await
        .unwrap();
    let body = body_of(&t.db, plan).await;
    let restore = body.stages[0].rows[0].restore.clone().unwrap();
    assert_eq!(
        (
            restore.target_version.as_str(),
            restore.undo_version.as_str(),
            restore.code_version.as_deref()
        ),
        ("snap-6", "snap-7", Some("bbbb222")),
        "restore the version before the bad one, not the bad one"
    );
    let page = load::page(&t.db, &viewer(&requester, &[Role::Requester], &[]), plan)
        .await
        .unwrap();
    let offered: Vec<&str> = page.versions.iter().map(|v| v.version.as_str()).collect();
    assert_eq!(
        offered,
        ["snap-6", "snap-5"],
        "earlier versions, newest first"
    );
    assert!(page.versions[0].label.contains("“Old”"));
}
backend_test!(
    restore_target,
    the_restore_target_defaults_to_the_version_before_the_change
);

async fn restoring_the_version_the_change_produced_is_refused(t: &TestDb) {
    let w = world(&t.db, 0).await;
    let (rev, _) = current(&t.db, w.plan_id).await;
    let mut body = body_of(&t.db, w.plan_id).await;
    let restore = body.stages[0].rows[0].restore.as_mut().unwrap();
    assert_eq!(restore.target_version, PREVIOUS, "no earlier version known");
    restore.target_version = "snap-7".into();
    let Err(PlanError::Invalid(errors)) =
        service::save(&t.db, &Ctx::system(), &w.requester, w.plan_id, rev, body).await
    else {
        panic!("refused")
    };
    assert_eq!(errors[0].field, "s1r1.target_version");
    assert!(errors[0]
        .message
        .contains("the version this change produced"));
}
backend_test!(
    undo_as_target,
    restoring_the_version_the_change_produced_is_refused
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
fn a_restore_reads_as_the_version_it_brings_back() {
    let r = |target: &str, undo: &str| Restore {
        target_version: target.into(),
        undo_version: undo.into(),
        code_version: None,
        since: Utc::now(),
        retention: Retention::SnowflakeTimeTravel,
    };
    assert_eq!(
        r(PREVIOUS, "snap-7").target_label(),
        "the version before snap-7"
    );
    assert_eq!(r("snap-6", "snap-7").target_label(), "snap-6");
}

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
    let (rev, _) = current(&t.db, w.plan_id).await;
    let Err(PlanError::Invalid(errors)) = service::submit(
        &t.db,
        &Ctx::system(),
        &w.requester,
        w.plan_id,
        rev,
        None,
        Utc::now(),
    )
    .await
    else {
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
    let (rev, _) = current(&t.db, w.plan_id).await;
    let Err(PlanError::Invalid(errors)) = service::submit(
        &t.db,
        &Ctx::system(),
        &w.requester,
        w.plan_id,
        rev,
        None,
        Utc::now(),
    )
    .await
    else {
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

async fn a_restore_counts_with_the_retention_the_catalog_declares(t: &TestDb) {
    use crate::catalog::{
        model::Declaration,
        service::{self as catalog, Source},
    };
    let w = world(&t.db, 0).await;
    let staged = |retention: Option<&str>| Declaration {
        name: "staged".into(),
        kind: Some(crate::catalog::model::ComponentKind::Dataset),
        retention: retention.map(str::to_string),
        ..Default::default()
    };
    catalog::declare(
        &t.db,
        &Ctx::system(),
        Source::Browser,
        "t",
        vec![staged(Some("Snowflake 30d"))],
    )
    .await
    .unwrap();
    // A later declaration that names no retention (a dbt import) keeps it.
    catalog::declare(&t.db, &Ctx::system(), Source::Dbt, "t", vec![staged(None)])
        .await
        .unwrap();
    let (rev, _) = current(&t.db, w.plan_id).await;
    let mut body = body_of(&t.db, w.plan_id).await;
    let restore = body.stages[0].rows[0].restore.as_mut().unwrap();
    restore.retention = Retention::Custom { hours: 87_600 }; // what a form could claim
    service::save(&t.db, &Ctx::system(), &w.requester, w.plan_id, rev, body)
        .await
        .unwrap();
    let saved = body_of(&t.db, w.plan_id).await;
    let restore = saved.stages[0].rows[0].restore.clone().unwrap();
    assert_eq!(
        restore.retention,
        Retention::Declared {
            engine: "snowflake".into(),
            hours: 720
        }
    );
    assert_eq!(
        restore.restorable_until(),
        deployed_at(&t.db).await + chrono::Duration::days(30)
    );
}
backend_test!(
    declared_retention,
    a_restore_counts_with_the_retention_the_catalog_declares
);

async fn a_version_before_recorded_on_the_change_wins_over_the_history(t: &TestDb) {
    seed_chain(&t.db).await;
    let rita = add_user(&t.db, "rita", &["requester"], &[]).await;
    record(&t.db, rita, "Old", "2026-11-10T08:00", "bbbb222", "snap-6").await;
    let input = ChangeInput {
        title: "Bad".into(),
        kind: "transform".into(),
        why: "Because".into(),
        git_sha: "cccc333".into(),
        git_sha_before: "abcabc1".into(),
        deployed_at: "2026-11-20T08:00".into(),
        components: vec![("staged".into(), "snap-7".into())],
        versions_before: vec![("staged".into(), "snap-6b".into())],
        ..Default::default()
    };
    let new = NewChange::parse(&input, Utc::now()).unwrap();
    let bad = changes::create(&t.db, &Ctx::system(), rita, &new, None)
        .await
        .unwrap();
    let plan = service::draft(&t.db, &Ctx::system(), &actor(rita, "rita"), bad)
        .await
        .unwrap();
    let restore = body_of(&t.db, plan).await.stages[0].rows[0]
        .restore
        .clone()
        .unwrap();
    assert_eq!(
        (
            restore.target_version.as_str(),
            restore.code_version.as_deref()
        ),
        ("snap-6b", Some("abcabc1"))
    );
}
backend_test!(
    recorded_before,
    a_version_before_recorded_on_the_change_wins_over_the_history
);
