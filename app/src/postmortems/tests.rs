//! Postmortems against a real database (SQLite, and PostgreSQL twins): opened from the record,
//! the timeline read from the audit chain, review by someone else, versions after publishing.

use chrono::{Duration, Utc};

use super::{
    model::{PostmortemStatus, Sections, SECTIONS},
    service::{self, Draft, EntryChange, PostmortemError},
    timeline::Moment,
};
use crate::{
    action_items::{model::ItemInput, service as items},
    audit::{repo::Ctx, Actor},
    backend_test, conn_run,
    db::{testing::TestDb, Conn, Db},
    plans::tests::{approve, submit, world, World},
    users::tests::add_user,
};

/// A change whose plan was signed off (three approvals), and a postmortem author.
async fn signed_off(db: &Db) -> (World, Actor) {
    let w = world(db, 1).await;
    submit(db, &w).await;
    approve(db, w.plan_id, &w.product, "p").await.unwrap();
    approve(db, w.plan_id, &w.governance, "g").await.unwrap();
    approve(db, w.plan_id, &w.engineers[0], "e").await.unwrap();
    let pam = add_user(db, "pam", &["postmortem_author"], &[]).await;
    (
        w,
        Actor {
            id: pam,
            username: "pam".into(),
        },
    )
}

fn complete_text() -> Sections {
    SECTIONS
        .iter()
        .map(|s| {
            (
                s.field.to_string(),
                format!("What we know about {}.", s.heading),
            )
        })
        .collect()
}

async fn version(db: &Db, id: i64) -> i64 {
    service::view(db, id).await.unwrap().postmortem.version
}

async fn count(db: &Db, sql: &str) -> i64 {
    conn_run!(&mut Conn::Db(db), |c| sqlx::query_scalar::<_, i64>(sql)
        .fetch_one(c)
        .await)
    .unwrap()
}

fn item(owner: i64, title: &str) -> ItemInput {
    ItemInput {
        title: title.into(),
        owner_id: owner.to_string(),
        priority: "high".into(),
        kind: "prevent".into(),
        ..Default::default()
    }
}

async fn a_postmortem_opens_with_the_facts_and_a_timeline_of_the_approvals(t: &TestDb) {
    let (w, pam) = signed_off(&t.db).await;
    let id = service::open(&t.db, &Ctx::system(), &pam, 1, Utc::now())
        .await
        .unwrap();
    let v = service::view(&t.db, id).await.unwrap();
    assert_eq!(v.postmortem.status, PostmortemStatus::Draft);
    assert!(
        v.postmortem.section("trigger").contains("Currency fix"),
        "{:?}",
        v.postmortem.sections
    );
    assert!(v
        .postmortem
        .section("impact")
        .contains("Rolled back by the plan: staged, mart, dashboard"));
    let labels: Vec<&str> = v.timeline.iter().map(|i| i.label.as_str()).collect();
    for expected in [
        "Change recorded",
        "Rollback plan drafted",
        "Plan submitted for approval",
        "Signed off: the rollback may run",
        "Rollback scheduled",
    ] {
        assert!(
            labels.contains(&expected),
            "{expected} missing from {labels:?}"
        );
    }
    let approvals: Vec<_> = v
        .timeline
        .iter()
        .filter(|i| i.label == "Approved")
        .collect();
    assert_eq!(approvals.len(), 3);
    assert!(approvals.iter().any(|a| a.detail == "for Product"));
    assert!(v.timeline.iter().all(|i| i.seq.is_some()));
    assert_eq!(v.plan_rows.len(), 3);
    assert!(v.figures.to_sign_off_minutes.is_some() && v.figures.to_rolled_back_minutes.is_none());
    // One per change: a second one is refused with the way to the first.
    let again = service::open(&t.db, &Ctx::system(), &w.requester, 1, Utc::now()).await;
    assert!(matches!(again, Err(PostmortemError::Exists(found)) if found == id));
    assert_eq!(
        count(
            &t.db,
            "SELECT COUNT(*) FROM audit_events WHERE action = 'postmortem.opened'"
        )
        .await,
        1
    );
}
backend_test!(
    opened,
    a_postmortem_opens_with_the_facts_and_a_timeline_of_the_approvals
);

async fn publishing_needs_every_required_section_an_item_and_a_reviewer_who_did_not_write_it(
    t: &TestDb,
) {
    let (w, pam) = signed_off(&t.db).await;
    let id = service::open(&t.db, &Ctx::system(), &w.requester, 1, Utc::now())
        .await
        .unwrap();
    let v0 = version(&t.db, id).await;
    let partial = Draft {
        sections: [(
            "summary".to_string(),
            "Totals doubled for a day.".to_string(),
        )]
        .into(),
        ..Default::default()
    };
    service::save(&t.db, &Ctx::system(), id, v0, partial, Utc::now())
        .await
        .unwrap();
    let Err(PostmortemError::Invalid(problems)) =
        service::submit(&t.db, &Ctx::system(), id, v0 + 1, Utc::now()).await
    else {
        panic!("an incomplete postmortem went to review")
    };
    let named: Vec<&str> = problems.iter().map(|p| p.field.as_str()).collect();
    assert_eq!(
        named,
        [
            "impact",
            "trigger",
            "detection",
            "root_cause",
            "resolution",
            "lessons",
            "no_actions_reason"
        ]
    );
    // A 20 000-character section is refused and nothing is saved.
    let mut huge = complete_text();
    huge.insert("root_cause".into(), "x".repeat(20_000));
    let refused = service::save(
        &t.db,
        &Ctx::system(),
        id,
        v0 + 1,
        Draft {
            sections: huge,
            ..Default::default()
        },
        Utc::now(),
    )
    .await;
    assert!(matches!(refused, Err(PostmortemError::Invalid(ref f)) if f[0].field == "root_cause"));
    assert_eq!(version(&t.db, id).await, v0 + 1);
    service::save(
        &t.db,
        &Ctx::system(),
        id,
        v0 + 1,
        Draft {
            sections: complete_text(),
            ..Default::default()
        },
        Utc::now(),
    )
    .await
    .unwrap();
    let place = items::Place {
        postmortem_id: id,
        plan: None,
    };
    let defaults = Default::default();
    items::create(
        &t.db,
        &Ctx::system(),
        place,
        &item(w.product.id, "Alert on doubled totals"),
        &defaults,
        Utc::now(),
    )
    .await
    .unwrap();
    let v = version(&t.db, id).await;
    service::submit(&t.db, &Ctx::system(), id, v, Utc::now())
        .await
        .unwrap();
    let reviewed = v + 1;
    let own = service::publish(
        &t.db,
        &Ctx::system(),
        &w.requester,
        id,
        reviewed,
        Utc::now(),
    )
    .await;
    assert!(matches!(own, Err(PostmortemError::Refused(ref m)) if m.contains("someone else")));
    let stale = service::publish(&t.db, &Ctx::system(), &pam, id, reviewed - 1, Utc::now()).await;
    assert!(matches!(stale, Err(PostmortemError::Stale)));
    assert_eq!(
        service::publish(&t.db, &Ctx::system(), &pam, id, reviewed, Utc::now())
            .await
            .unwrap(),
        1
    );
    let published = service::view(&t.db, id).await.unwrap().postmortem;
    assert_eq!(
        (published.status, published.published_versions),
        (PostmortemStatus::Published, 1)
    );
    assert_eq!(
        published.reviewer.map(|r| r.username),
        Some("pam".to_string())
    );
    // Editing after publishing starts version 2; version 1 stays as it was published.
    let mut edited = complete_text();
    edited.insert("lessons".into(), "Check totals against yesterday's.".into());
    service::save(
        &t.db,
        &Ctx::system(),
        id,
        published.version,
        Draft {
            sections: edited,
            ..Default::default()
        },
        Utc::now(),
    )
    .await
    .unwrap();
    let now = service::view(&t.db, id).await.unwrap().postmortem;
    assert_eq!(
        (now.status, now.published_versions),
        (PostmortemStatus::Draft, 1)
    );
    let first = service::published(&t.db, id, 1).await.unwrap();
    assert_eq!(
        first.sections.get("lessons").map(String::as_str),
        Some("What we know about Lessons.")
    );
    assert_eq!(first.items.len(), 1);
    assert_eq!(first.published_by, "pam");
    let moves = count(
        &t.db,
        "SELECT COUNT(*) FROM audit_events WHERE entity_type = 'postmortem'",
    )
    .await;
    assert_eq!(moves, 6, "opened, 3 edits, submitted, published");
}
backend_test!(
    published,
    publishing_needs_every_required_section_an_item_and_a_reviewer_who_did_not_write_it
);

async fn marks_and_own_entries_shape_the_timeline_and_a_mark_must_name_one_of_its_events(
    t: &TestDb,
) {
    let (w, pam) = signed_off(&t.db).await;
    let id = service::open(&t.db, &Ctx::system(), &pam, 1, Utc::now())
        .await
        .unwrap();
    let v = service::view(&t.db, id).await.unwrap();
    let approval = v
        .timeline
        .iter()
        .find(|i| i.label == "Approved")
        .unwrap()
        .seq
        .unwrap();
    let mark = EntryChange::Mark {
        seq: approval,
        starred: true,
        moment: Some(Moment::Key),
        note: "Product agreed within minutes".into(),
    };
    service::change_timeline(
        &t.db,
        &Ctx::system(),
        &pam,
        id,
        v.postmortem.version,
        mark,
        Utc::now(),
    )
    .await
    .unwrap();
    let noticed = v.deployed_at + Duration::minutes(1);
    let own = EntryChange::Add {
        at: noticed,
        text: "Finance reports doubled totals".into(),
        moment: Some(Moment::Detection),
    };
    service::change_timeline(
        &t.db,
        &Ctx::system(),
        &pam,
        id,
        v.postmortem.version + 1,
        own,
        Utc::now(),
    )
    .await
    .unwrap();
    let after = service::view(&t.db, id).await.unwrap();
    let marked = after
        .timeline
        .iter()
        .find(|i| i.seq == Some(approval))
        .unwrap();
    assert!(marked.starred && marked.moment == Some(Moment::Key));
    assert!(marked.detail.ends_with("Product agreed within minutes"));
    let entry = after.timeline.iter().find(|i| i.own()).unwrap();
    assert_eq!(
        (entry.label.as_str(), entry.at),
        ("Finance reports doubled totals", noticed)
    );
    assert_eq!(after.figures.to_detection_minutes, Some(1));
    // An event of another entity (the user's creation) is not on this timeline.
    let foreign: i64 = count(
        &t.db,
        "SELECT MIN(seq) FROM audit_events WHERE action = 'user.created'",
    )
    .await;
    let stray = EntryChange::Mark {
        seq: foreign,
        starred: true,
        moment: None,
        note: String::new(),
    };
    let refused = service::change_timeline(
        &t.db,
        &Ctx::system(),
        &w.requester,
        id,
        after.postmortem.version,
        stray,
        Utc::now(),
    )
    .await;
    assert!(matches!(refused, Err(PostmortemError::Invalid(ref f)) if f[0].field == "seq"));
    // A copy that is no longer current is refused.
    let late = EntryChange::Remove {
        entry_id: entry.entry_id.unwrap(),
    };
    let stale = service::change_timeline(
        &t.db,
        &Ctx::system(),
        &pam,
        id,
        v.postmortem.version,
        late,
        Utc::now(),
    )
    .await;
    assert!(matches!(stale, Err(PostmortemError::Stale)));
    assert_eq!(
        count(&t.db, "SELECT COUNT(*) FROM postmortem_entries").await,
        2
    );
}
backend_test!(
    timeline,
    marks_and_own_entries_shape_the_timeline_and_a_mark_must_name_one_of_its_events
);

async fn the_markdown_export_carries_the_sections_the_timeline_and_the_items(t: &TestDb) {
    let (w, pam) = signed_off(&t.db).await;
    let id = service::open(&t.db, &Ctx::system(), &pam, 1, Utc::now())
        .await
        .unwrap();
    let place = items::Place {
        postmortem_id: id,
        plan: None,
    };
    items::create(
        &t.db,
        &Ctx::system(),
        place,
        &item(w.product.id, "Alert on *doubled* totals"),
        &Default::default(),
        Utc::now(),
    )
    .await
    .unwrap();
    let v = service::view(&t.db, id).await.unwrap();
    let md = super::markdown::render(&v, true);
    assert!(md.starts_with("# Postmortem: Currency fix"));
    assert!(md.contains("## Root cause"));
    assert!(md.contains("| Approved: for Product | system | #"), "{md}");
    assert!(md.contains("Alert on \\*doubled\\* totals | pia | High |"));
    let highlighted = super::markdown::render(&v, false);
    assert!(!highlighted.contains("Approved: for Product"));
}
backend_test!(
    markdown,
    the_markdown_export_carries_the_sections_the_timeline_and_the_items
);
