//! Repository tests of the audit chain, on SQLite and (twins) PostgreSQL.

use serde_json::{json, Value};

use super::{
    chain::BreakReason,
    export::{export, verify_db, verify_export},
    model::{AuditQuery, Cursor},
    repo::{self, append, Ctx, NewAuditEvent},
    Actor,
};
use crate::{
    backend_test,
    db::{testing::TestDb, Backend, Db},
    db_run,
};

fn event(n: i64) -> NewAuditEvent {
    NewAuditEvent {
        action: if n % 2 == 0 {
            "thing.created"
        } else {
            "thing.changed"
        },
        entity_type: "thing",
        entity_id: n.to_string(),
        before: Value::Null,
        after: json!({"n": n, "note": "Zürich \"x\"\n"}),
    }
}

async fn append_n(db: &Db, n: i64) {
    for i in 1..=n {
        let mut tx = db.begin().await.unwrap();
        append(&mut tx, &Ctx::system(), event(i)).await.unwrap();
        tx.commit().await.unwrap();
    }
}

/// Plain SQL as an attacker with database access would run it (triggers dropped first).
async fn tamper(db: &Db, statements: &[&str]) {
    let drops: &[&str] = match db.backend() {
        Backend::Sqlite => &[
            "DROP TRIGGER audit_events_no_update",
            "DROP TRIGGER audit_events_no_delete",
        ],
        Backend::Postgres => &[
            "DROP TRIGGER audit_events_no_update ON audit_events",
            "DROP TRIGGER audit_events_no_delete ON audit_events",
        ],
    };
    for stmt in drops.iter().chain(statements) {
        db_run!(db, |c| sqlx::query(stmt).execute(c).await.map(|_| ())).unwrap();
    }
}

async fn appended_events_form_a_chain_that_verifies(t: &TestDb) {
    append_n(&t.db, 5).await;
    let report = verify_db(&t.db).await.unwrap();
    assert_eq!(report.outcome, Ok(()));
    assert_eq!((report.checked, report.head_seq), (5, 5));
}
backend_test!(
    appended_events_verify,
    appended_events_form_a_chain_that_verifies
);

async fn an_edited_field_is_reported_at_its_seq(t: &TestDb) {
    append_n(&t.db, 5).await;
    tamper(
        &t.db,
        &["UPDATE audit_events SET entity_id = '99' WHERE seq = 3"],
    )
    .await;
    let err = verify_db(&t.db).await.unwrap().outcome.unwrap_err();
    assert_eq!((err.seq, err.reason), (3, BreakReason::EventEdited));
}
backend_test!(
    edited_field_detected,
    an_edited_field_is_reported_at_its_seq
);

async fn a_deleted_row_is_reported_as_a_gap(t: &TestDb) {
    append_n(&t.db, 5).await;
    tamper(&t.db, &["DELETE FROM audit_events WHERE seq = 2"]).await;
    let err = verify_db(&t.db).await.unwrap().outcome.unwrap_err();
    assert_eq!(
        (err.seq, err.reason),
        (3, BreakReason::OutOfSequence { expected: 2 })
    );
}
backend_test!(deleted_row_detected, a_deleted_row_is_reported_as_a_gap);

async fn a_deleted_last_row_disagrees_with_the_head(t: &TestDb) {
    append_n(&t.db, 4).await;
    tamper(&t.db, &["DELETE FROM audit_events WHERE seq = 4"]).await;
    let err = verify_db(&t.db).await.unwrap().outcome.unwrap_err();
    assert_eq!(err.reason, BreakReason::HeadMismatch { head_seq: 4 });
}
backend_test!(
    deleted_tail_detected,
    a_deleted_last_row_disagrees_with_the_head
);

async fn two_swapped_rows_are_detected(t: &TestDb) {
    append_n(&t.db, 5).await;
    // Swap the rows of events 2 and 3 (content and hashes move, seq stays in order).
    tamper(&t.db, &[
        "UPDATE audit_events SET seq = -seq WHERE seq IN (2, 3)",
        "UPDATE audit_events SET seq = CASE seq WHEN -2 THEN 3 ELSE 2 END WHERE seq IN (-2, -3)",
    ]).await;
    let err = verify_db(&t.db).await.unwrap().outcome.unwrap_err();
    assert_eq!(err.seq, 2);
    assert_eq!(err.reason, BreakReason::EventEdited);
}
backend_test!(swapped_rows_detected, two_swapped_rows_are_detected);

async fn audit_events_refuse_updates_and_deletes(t: &TestDb) {
    append_n(&t.db, 1).await;
    let update = db_run!(&t.db, |c| sqlx::query(
        "UPDATE audit_events SET action = 'x'"
    )
    .execute(c)
    .await
    .map(|_| ()));
    let delete = db_run!(&t.db, |c| sqlx::query("DELETE FROM audit_events")
        .execute(c)
        .await
        .map(|_| ()));
    assert!(update.is_err() && delete.is_err());
}
backend_test!(append_only, audit_events_refuse_updates_and_deletes);

async fn the_audit_log_and_its_head_cannot_be_emptied(t: &TestDb) {
    append_n(&t.db, 3).await;
    let run = |sql: &'static str| {
        let db = t.db.clone();
        async move { db_run!(&db, |c| sqlx::query(sql).execute(c).await.map(|_| ())) }
    };
    if t.db.backend() == Backend::Postgres {
        assert!(
            run("TRUNCATE audit_events").await.is_err(),
            "TRUNCATE audit_events"
        );
        assert!(
            run("TRUNCATE audit_chain_head").await.is_err(),
            "TRUNCATE head"
        );
        assert!(run("TRUNCATE audit_events, audit_chain_head")
            .await
            .is_err());
    }
    assert!(
        run("DELETE FROM audit_chain_head").await.is_err(),
        "DELETE head"
    );
    let report = verify_db(&t.db).await.unwrap();
    assert_eq!((report.outcome, report.checked), (Ok(()), 3));
}
backend_test!(no_truncate, the_audit_log_and_its_head_cannot_be_emptied);

async fn concurrent_appends_from_two_instances_keep_one_chain(t: &TestDb) {
    let other = t.another_instance().await;
    let mut tasks = Vec::new();
    for i in 0..20 {
        let db = if i % 2 == 0 {
            t.db.clone()
        } else {
            other.clone()
        };
        tasks.push(tokio::spawn(async move {
            let mut tx = db.begin().await.unwrap();
            append(&mut tx, &Ctx::system(), event(i)).await.unwrap();
            tx.commit().await.unwrap();
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
    other.close().await;
    let report = verify_db(&t.db).await.unwrap();
    assert_eq!(report.outcome, Ok(()));
    assert_eq!(report.checked, 20);
}
backend_test!(
    concurrent_appends,
    concurrent_appends_from_two_instances_keep_one_chain
);

async fn a_rolled_back_transaction_leaves_no_event(t: &TestDb) {
    let mut tx = t.db.begin().await.unwrap();
    append(&mut tx, &Ctx::system(), event(1)).await.unwrap();
    drop(tx);
    append_n(&t.db, 1).await;
    assert_eq!(verify_db(&t.db).await.unwrap().checked, 1);
}
backend_test!(
    rollback_leaves_nothing,
    a_rolled_back_transaction_leaves_no_event
);

async fn an_export_verifies_offline_and_a_range_verifies_on_its_own(t: &TestDb) {
    append_n(&t.db, 7).await;
    let mut full = Vec::new();
    assert_eq!(export(&t.db, &mut full, 1).await.unwrap(), 7);
    assert_eq!(verify_export(full.as_slice()).outcome, Ok(()));
    let mut range = Vec::new();
    assert_eq!(export(&t.db, &mut range, 5).await.unwrap(), 3);
    assert!(String::from_utf8_lossy(&range).starts_with("{\"anchor\""));
    assert_eq!(verify_export(range.as_slice()).outcome, Ok(()));
    // Swapping two event lines breaks it.
    let mut lines: Vec<&str> = std::str::from_utf8(&full).unwrap().lines().collect();
    lines.swap(1, 2);
    let swapped = lines.join("\n");
    assert!(verify_export(swapped.as_bytes()).outcome.is_err());
}
backend_test!(
    export_verifies,
    an_export_verifies_offline_and_a_range_verifies_on_its_own
);

async fn the_log_filters_and_pages_by_keyset(t: &TestDb) {
    let sql = "INSERT INTO users (username, username_lower, display_name, password_hash, active, created_at, updated_at) \
               VALUES ('ana', 'ana', 'Ana', 'x', TRUE, $1, $1) RETURNING id";
    let now = chrono::Utc::now();
    let id: i64 = db_run!(&t.db, |c| sqlx::query_scalar(sql)
        .bind(now)
        .fetch_one(c)
        .await)
    .unwrap();
    let ana = Ctx::user(
        Actor {
            id,
            username: "ana".into(),
        },
        Some("r1".into()),
    );
    for i in 1..=120 {
        let mut tx = t.db.begin().await.unwrap();
        let ctx = if i % 3 == 0 {
            ana.clone()
        } else {
            Ctx::system()
        };
        append(&mut tx, &ctx, event(i)).await.unwrap();
        tx.commit().await.unwrap();
    }
    let first = repo::list(&t.db, &AuditQuery::default().parse().unwrap())
        .await
        .unwrap();
    assert_eq!(first.entries.len(), 50);
    assert_eq!(first.entries[0].seq, 120);
    assert_eq!(first.newer, None);
    let mut filter = AuditQuery::default().parse().unwrap();
    filter.cursor = Cursor::Before(first.older.unwrap());
    let second = repo::list(&t.db, &filter).await.unwrap();
    assert_eq!(second.entries[0].seq, 70);
    filter.cursor = Cursor::After(second.newer.unwrap());
    let back = repo::list(&t.db, &filter).await.unwrap();
    assert_eq!(back.entries.first().map(|e| e.seq), Some(120));
    let by_ana = AuditQuery {
        actor: "ANA".into(),
        action: "thing.created".into(),
        ..Default::default()
    };
    let page = repo::list(&t.db, &by_ana.parse().unwrap()).await.unwrap();
    assert_eq!(page.entries.len(), 20); // multiples of 6 up to 120
    assert!(page
        .entries
        .iter()
        .all(|e| e.actor.as_ref().map(|a| a.username.as_str()) == Some("ana")));
    let today = chrono::Utc::now().date_naive().to_string();
    let dated = AuditQuery {
        from: today.clone(),
        to: today,
        entity_id: "7".into(),
        ..Default::default()
    };
    assert_eq!(
        repo::list(&t.db, &dated.parse().unwrap())
            .await
            .unwrap()
            .entries
            .len(),
        1
    );
}
backend_test!(
    filters_and_keyset_pages,
    the_log_filters_and_pages_by_keyset
);
