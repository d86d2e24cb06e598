//! Change log service and repository tests, on SQLite and (twins) PostgreSQL.

use chrono::{Duration, Utc};

use super::{
    model::{ChangeInput, ChangeQuery, NewChange},
    repo,
    service::{self, ChangeError, PAGE_SIZE},
};
use crate::{
    audit::repo::{head, Ctx},
    backend_test,
    catalog::tests::seed_chain,
    db::{testing::TestDb, Conn, Db},
    users::tests::add_user,
};

fn input(title: &str, components: &[&str]) -> ChangeInput {
    ChangeInput {
        title: title.into(),
        kind: "transform".into(),
        why: "Because".into(),
        git_sha: "0123abc".into(),
        components: components
            .iter()
            .map(|c| (c.to_string(), String::new()))
            .collect(),
        ..Default::default()
    }
}

async fn record(db: &Db, author: i64, input: &ChangeInput) -> Result<i64, ChangeError> {
    let new = NewChange::parse(input, Utc::now()).unwrap();
    service::create(db, &Ctx::system(), author, &new, None).await
}

async fn recording_a_change_stores_components_and_one_event(t: &TestDb) {
    seed_chain(&t.db).await;
    let ana = add_user(&t.db, "ana", &["requester"], &[]).await;
    let seq = head(&t.db).await.unwrap().0;
    let mut i = input("Orders v2", &["staged", "MART"]);
    i.components[0].1 = "snap-42".into();
    let id = record(&t.db, ana, &i).await.unwrap();
    let c = repo::get(&mut Conn::Db(&t.db), id).await.unwrap();
    assert_eq!(c.author.username, "ana");
    let names: Vec<(&str, &str)> = c
        .components
        .iter()
        .map(|a| (a.component.name.as_str(), a.data_version.as_str()))
        .collect();
    assert_eq!(names, [("mart", ""), ("staged", "snap-42")]);
    assert_eq!(head(&t.db).await.unwrap().0, seq + 1);
}
backend_test!(record, recording_a_change_stores_components_and_one_event);

async fn an_unknown_component_is_named_and_nothing_is_written(t: &TestDb) {
    seed_chain(&t.db).await;
    let ana = add_user(&t.db, "ana", &["requester"], &[]).await;
    let seq = head(&t.db).await.unwrap().0;
    let Err(ChangeError::Invalid(errors)) =
        record(&t.db, ana, &input("x", &["staged", "ghost"])).await
    else {
        panic!("expected a validation error")
    };
    assert_eq!(errors[0].field, "components[1]");
    assert!(errors[0].message.contains("`ghost`"));
    assert_eq!(head(&t.db).await.unwrap().0, seq);
    let page = service::list(&t.db, &ChangeQuery::default().parse().unwrap())
        .await
        .unwrap();
    assert!(page.changes.is_empty());
}
backend_test!(
    unknown_component,
    an_unknown_component_is_named_and_nothing_is_written
);

async fn an_edit_keeps_history_and_a_stale_edit_is_refused(t: &TestDb) {
    seed_chain(&t.db).await;
    let ana = add_user(&t.db, "ana", &["requester"], &[]).await;
    let id = record(&t.db, ana, &input("Orders v2", &["staged"]))
        .await
        .unwrap();
    let edit = NewChange::parse(&input("Orders v2.1", &["staged", "mart"]), Utc::now()).unwrap();
    service::update(&t.db, &Ctx::system(), id, 1, &edit)
        .await
        .unwrap();
    let c = repo::get(&mut Conn::Db(&t.db), id).await.unwrap();
    assert_eq!(
        (c.title.as_str(), c.version, c.components.len()),
        ("Orders v2.1", 2, 2)
    );
    let stale = service::update(&t.db, &Ctx::system(), id, 1, &edit)
        .await
        .unwrap_err();
    assert!(matches!(stale, ChangeError::Stale));
    let filter = crate::audit::AuditQuery {
        entity_type: "change".into(),
        entity_id: id.to_string(),
        ..Default::default()
    };
    let events = crate::audit::repo::list(&t.db, &filter.parse().unwrap())
        .await
        .unwrap()
        .entries;
    assert_eq!(
        events.iter().map(|e| e.action.as_str()).collect::<Vec<_>>(),
        ["change.edited", "change.recorded"]
    );
    assert!(events[0].before.contains("Orders v2\"") && events[0].after.contains("Orders v2.1"));
}
backend_test!(edit, an_edit_keeps_history_and_a_stale_edit_is_refused);

async fn filters_and_keyset_pages_cover_every_change_once(t: &TestDb) {
    seed_chain(&t.db).await;
    let ana = add_user(&t.db, "ana", &["requester"], &[]).await;
    let bo = add_user(&t.db, "bob", &["requester"], &[]).await;
    let now = Utc::now();
    let total = PAGE_SIZE as usize + 7;
    for n in 0..total {
        let mut i = input(
            &format!("Change {n:03}"),
            if n % 3 == 0 { &["mart"] } else { &["staged"] },
        );
        // Several share a deployment time: the id breaks the tie.
        i.deployed_at = (now - Duration::hours((n / 2) as i64)).to_rfc3339();
        if n % 5 == 0 {
            i.kind = "config".into();
        }
        record(&t.db, if n % 2 == 0 { ana } else { bo }, &i)
            .await
            .unwrap();
    }
    let mut seen = Vec::new();
    let mut query = ChangeQuery::default();
    loop {
        let page = service::list(&t.db, &query.parse().unwrap()).await.unwrap();
        seen.extend(page.changes.iter().map(|c| c.id));
        match page.next {
            Some(next) => query.after = next,
            None => break,
        }
    }
    let mut unique = seen.clone();
    unique.sort();
    unique.dedup();
    assert_eq!((seen.len(), unique.len()), (total, total));
    let count = |q: ChangeQuery| {
        let db = t.db.clone();
        async move {
            service::list(&db, &q.parse().unwrap())
                .await
                .unwrap()
                .changes
                .len()
        }
    };
    assert_eq!(
        count(ChangeQuery {
            component: "MART".into(),
            ..Default::default()
        })
        .await,
        19
    );
    assert_eq!(
        count(ChangeQuery {
            author: "Bob".into(),
            component: "staged".into(),
            ..Default::default()
        })
        .await,
        19
    );
    assert_eq!(
        count(ChangeQuery {
            kind: "config".into(),
            ..Default::default()
        })
        .await,
        12
    );
    assert_eq!(
        count(ChangeQuery {
            q: "change 00".into(),
            ..Default::default()
        })
        .await,
        10
    );
    assert_eq!(
        count(ChangeQuery {
            status: "closed".into(),
            ..Default::default()
        })
        .await,
        0
    );
    let today = now.date_naive().to_string();
    assert!(
        count(ChangeQuery {
            from: today.clone(),
            to: today,
            ..Default::default()
        })
        .await
            >= 1
    );
    let err = service::list(
        &t.db,
        &ChangeQuery {
            component: "ghost".into(),
            ..Default::default()
        }
        .parse()
        .unwrap(),
    )
    .await;
    assert!(matches!(err, Err(ChangeError::Invalid(_))));
}
backend_test!(
    list_filters,
    filters_and_keyset_pages_cover_every_change_once
);

async fn title_search_finds_any_part_of_a_title_and_follows_edits(t: &TestDb) {
    seed_chain(&t.db).await;
    let ana = add_user(&t.db, "ana", &["requester"], &[]).await;
    let id = record(&t.db, ana, &input("Orders v2 draft", &["staged"]))
        .await
        .unwrap();
    record(&t.db, ana, &input("Refund \"quoted\" 100% fix", &["mart"]))
        .await
        .unwrap();
    let edit = NewChange::parse(&input("Orders v2.1 hotfix", &["staged"]), Utc::now()).unwrap();
    service::update(&t.db, &Ctx::system(), id, 1, &edit)
        .await
        .unwrap();
    let titles = |q: &str| {
        let (db, query) = (
            t.db.clone(),
            ChangeQuery {
                q: q.into(),
                ..Default::default()
            },
        );
        async move {
            let page = service::list(&db, &query.parse().unwrap()).await.unwrap();
            page.changes
                .into_iter()
                .map(|c| c.title)
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(titles("V2.1 HOT").await, ["Orders v2.1 hotfix"]);
    assert_eq!(titles("rs v").await, ["Orders v2.1 hotfix"]);
    assert!(titles("draft").await.is_empty(), "the old title is gone");
    assert_eq!(titles("\"quoted\"").await, ["Refund \"quoted\" 100% fix"]);
    assert_eq!(titles("0%").await, ["Refund \"quoted\" 100% fix"]);
    assert_eq!(titles("%").await, ["Refund \"quoted\" 100% fix"]);
    assert_eq!(titles("fix").await.len(), 2);
    let err = service::list(
        &t.db,
        &ChangeQuery {
            author: "ghost".into(),
            ..Default::default()
        }
        .parse()
        .unwrap(),
    )
    .await;
    assert!(matches!(err, Err(ChangeError::Invalid(e)) if e[0].field == "author"));
}
backend_test!(
    title_search,
    title_search_finds_any_part_of_a_title_and_follows_edits
);
