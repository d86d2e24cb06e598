//! Action items against a real database (SQLite, and PostgreSQL twins): the checks only the
//! database can make, who may edit, and the lists with their filters and keyset pages.

use chrono::{Duration, Utc};

use super::{
    model::{DueDefaults, ItemInput, ItemStatus, NewItem, Priority},
    repo,
    service::{self, Editor, ItemError, Place},
    view::{ItemFilter, StatusFilter},
};
use crate::{
    audit::{repo::Ctx, Actor},
    backend_test, conn_run,
    db::{testing::TestDb, Conn, Db},
    plans::tests::world,
    postmortems::service as postmortems,
    users::tests::add_user,
};

async fn postmortem(db: &Db) -> (i64, Actor) {
    let w = world(db, 0).await;
    let id = postmortems::open(db, &Ctx::system(), &w.requester, 1, Utc::now())
        .await
        .unwrap();
    (id, w.product)
}

fn input(owner: i64) -> ItemInput {
    ItemInput {
        title: "Alert when totals double".into(),
        owner_id: owner.to_string(),
        priority: "urgent".into(),
        kind: "prevent".into(),
        ..Default::default()
    }
}

async fn items(db: &Db) -> i64 {
    conn_run!(&mut Conn::Db(db), |c| sqlx::query_scalar::<_, i64>(
        "SELECT COUNT(*) FROM action_items"
    )
    .fetch_one(c)
    .await)
    .unwrap()
}

async fn bad_items_get_a_message_per_field_and_nothing_is_saved(t: &TestDb) {
    let (pm, pia) = postmortem(&t.db).await;
    let place = Place {
        postmortem_id: pm,
        plan: Some((1, 3)),
    };
    let gone = add_user(&t.db, "gone", &["auditor"], &[]).await;
    crate::users::service::set_active(&t.db, &Ctx::system(), gone, false)
        .await
        .unwrap();
    let d = DueDefaults::default();
    let now = Utc::now();
    let cases: Vec<(ItemInput, &str, &str)> = vec![
        (input(gone), "owner_id", "deactivated"),
        (
            ItemInput {
                due_on: (now - Duration::days(1)).date_naive().to_string(),
                ..input(pia.id)
            },
            "due_on",
            "in the past",
        ),
        (
            ItemInput {
                ticket_url: "ftp://tickets.example/1".into(),
                ..input(pia.id)
            },
            "ticket_url",
            "https://",
        ),
        (
            ItemInput {
                description: "x".repeat(20_000),
                ..input(pia.id)
            },
            "description",
            "at most 5000",
        ),
        (
            ItemInput {
                plan_row: "4".into(),
                ..input(pia.id)
            },
            "plan_row",
            "row of the rollback plan",
        ),
        (
            ItemInput {
                component_id: "9999".into(),
                ..input(pia.id)
            },
            "component_id",
            "catalog",
        ),
    ];
    for (bad, field, words) in cases {
        match service::create(&t.db, &Ctx::system(), place, &bad, &d, now).await {
            Err(ItemError::Invalid(f)) => {
                let m = f
                    .iter()
                    .find(|e| e.field == field)
                    .unwrap_or_else(|| panic!("{field}: {f:?}"));
                assert!(m.message.contains(words), "{field}: {}", m.message);
            }
            other => panic!("{field}: {other:?}"),
        }
    }
    assert_eq!(items(&t.db).await, 0);
    let id = service::create(
        &t.db,
        &Ctx::system(),
        place,
        &ItemInput {
            plan_row: "2".into(),
            ..input(pia.id)
        },
        &d,
        now,
    )
    .await
    .unwrap();
    let saved = repo::get(&mut Conn::Db(&t.db), id).await.unwrap();
    assert_eq!(
        saved.due_on,
        now.date_naive() + Duration::days(3),
        "urgent: 3 days"
    );
    assert_eq!((saved.plan_id, saved.plan_row), (Some(1), Some(2)));
}
backend_test!(
    bad_input,
    bad_items_get_a_message_per_field_and_nothing_is_saved
);

async fn the_owner_and_postmortem_writers_may_edit_an_item_and_nobody_else(t: &TestDb) {
    let (pm, pia) = postmortem(&t.db).await;
    let place = Place {
        postmortem_id: pm,
        plan: None,
    };
    let d = DueDefaults::default();
    let id = service::create(&t.db, &Ctx::system(), place, &input(pia.id), &d, Utc::now())
        .await
        .unwrap();
    assert_eq!(
        repo::open_count(&mut Conn::Db(&t.db), pia.id)
            .await
            .unwrap(),
        1
    );
    let other = add_user(&t.db, "olaf", &["auditor"], &[]).await;
    let done = ItemInput {
        status: "done".into(),
        ..input(pia.id)
    };
    let stranger = Editor {
        user_id: other,
        writes_postmortems: false,
    };
    let refused = service::update(
        &t.db,
        &Ctx::system(),
        stranger,
        (id, 1),
        &done,
        &d,
        Utc::now(),
    )
    .await;
    assert!(matches!(refused, Err(ItemError::Forbidden)));
    let wont = ItemInput {
        status: "wont_do".into(),
        ..input(pia.id)
    };
    let owner = Editor {
        user_id: pia.id,
        writes_postmortems: false,
    };
    let no_reason =
        service::update(&t.db, &Ctx::system(), owner, (id, 1), &wont, &d, Utc::now()).await;
    assert!(matches!(no_reason, Err(ItemError::Invalid(ref f)) if f[0].field == "wont_do_reason"));
    service::update(&t.db, &Ctx::system(), owner, (id, 1), &done, &d, Utc::now())
        .await
        .unwrap();
    let closed = repo::get(&mut Conn::Db(&t.db), id).await.unwrap();
    assert_eq!(closed.status, ItemStatus::Done);
    assert!(closed.closed_at.is_some());
    assert_eq!(
        repo::open_count(&mut Conn::Db(&t.db), pia.id)
            .await
            .unwrap(),
        0
    );
    let stale = service::update(
        &t.db,
        &Ctx::system(),
        owner,
        (id, 1),
        &input(pia.id),
        &d,
        Utc::now(),
    )
    .await;
    assert!(matches!(stale, Err(ItemError::Stale)));
    let updates: i64 = conn_run!(&mut Conn::Db(&t.db), |c| sqlx::query_scalar(
        "SELECT COUNT(*) FROM audit_events WHERE action = 'action_item.updated'"
    )
    .fetch_one(c)
    .await)
    .unwrap();
    assert_eq!(updates, 1);
}
backend_test!(
    editors,
    the_owner_and_postmortem_writers_may_edit_an_item_and_nobody_else
);

async fn lists_filter_by_owner_priority_and_lateness_and_page_by_due_date(t: &TestDb) {
    let (pm, pia) = postmortem(&t.db).await;
    let bo = add_user(&t.db, "bob", &["requester"], &[]).await;
    let today = Utc::now().date_naive();
    let mut tx = t.db.begin().await.unwrap();
    for n in 0..120i64 {
        let item = NewItem {
            title: format!("Item {n}"),
            description: String::new(),
            owner_id: if n % 2 == 0 { pia.id } else { bo },
            due_on: today + Duration::days(n - 30),
            priority: if n % 3 == 0 {
                Priority::Urgent
            } else {
                Priority::Low
            },
            kind: super::model::ItemKind::Process,
            status: if n % 10 == 9 {
                ItemStatus::Done
            } else {
                ItemStatus::Open
            },
            wont_do_reason: None,
            ticket_url: None,
            component_id: None,
            plan_row: None,
        };
        repo::insert(&mut tx, pm, None, &item, Utc::now())
            .await
            .unwrap();
    }
    tx.commit().await.unwrap();
    // Open items, soonest first, in pages of 50 that never repeat or skip one.
    let mut seen = Vec::new();
    let mut filter = ItemFilter::default();
    loop {
        let page = service::list(&t.db, filter.clone(), today).await.unwrap();
        seen.extend(page.items.iter().map(|i| (i.due_on, i.id)));
        match page.next {
            Some(next) => filter.after = super::view::Cursor::decode(&next),
            None => break,
        }
    }
    assert_eq!(seen.len(), 108, "120 less the 12 done");
    assert!(seen.windows(2).all(|w| w[0] < w[1]));
    // Overdue: open and due before today, the latest first in line.
    let overdue = ItemFilter {
        overdue_on: Some(today),
        ..Default::default()
    };
    let late = service::list(&t.db, overdue, today).await.unwrap().items;
    assert_eq!(late.len(), 27, "30 past due less 3 done");
    assert_eq!(late[0].days_late(today), 30);
    let mine = ItemFilter {
        owner: Some("bob".into()),
        priority: Some(Priority::Urgent),
        status: StatusFilter::All,
        ..Default::default()
    };
    let bos = service::list(&t.db, mine, today).await.unwrap().items;
    assert_eq!(bos.len(), 20);
    assert!(bos
        .iter()
        .all(|i| i.owner.username == "bob" && i.priority == Priority::Urgent));
    let unknown = ItemFilter {
        owner: Some("nobody".into()),
        ..Default::default()
    };
    assert!(matches!(
        service::list(&t.db, unknown, today).await,
        Err(ItemError::Invalid(_))
    ));
    let weeks = service::chart(&t.db, today).await.unwrap();
    assert_eq!(weeks.len(), 12);
    assert_eq!(weeks.last().map(|w| (w.open, w.done)), Some((108, 12)));
}
backend_test!(
    lists,
    lists_filter_by_owner_priority_and_lateness_and_page_by_due_date
);
