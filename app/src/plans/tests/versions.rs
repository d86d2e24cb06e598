//! The version a restore brings back and how long the storage keeps it: the version before the
//! change (recorded, else from the history), never the bad one, with the catalog's retention.

use super::{
    derived::{body_of, deployed_at},
    *,
};
use crate::plans::model::{Restore, Retention, PREVIOUS};

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
