//! `rollgate audit verify|export` run as a user would, against the server's real database.

use std::process::Command;

use crate::helpers::spawn_app;

fn rollgate(db_url: &str, args: &[&str]) -> (bool, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_rollgate"))
        .args(args)
        .env("DATABASE_URL", db_url)
        .output()
        .expect("rollgate runs");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).to_string(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn verify_passes_on_a_fresh_database_and_reports_an_edited_row() {
    let app = spawn_app().await;
    app.add_user("ana", &["requester"]).await;
    app.add_user("bob", &["auditor"]).await;
    let (ok, out) = rollgate(&app.db_url, &["audit", "verify"]);
    assert!(ok, "{out}");
    // Three default groups, the default policy, then the two users.
    assert!(out.starts_with("OK: 6 events verified"), "{out}");

    // Tamper as someone with SQL access would: drop the guard, edit one field.
    let edit =
        "UPDATE audit_events SET after_json = replace(after_json, 'bob', 'eve') WHERE seq = 6";
    match &app.db {
        app::db::Db::Sqlite(pool) => {
            sqlx::query("DROP TRIGGER audit_events_no_update")
                .execute(pool)
                .await
                .unwrap();
            sqlx::query(edit).execute(pool).await.unwrap();
        }
        app::db::Db::Postgres(pool) => {
            sqlx::query("DROP TRIGGER audit_events_no_update ON audit_events")
                .execute(pool)
                .await
                .unwrap();
            sqlx::query(edit).execute(pool).await.unwrap();
        }
    }
    let (ok, out) = rollgate(&app.db_url, &["audit", "verify"]);
    assert!(!ok);
    assert!(
        out.starts_with("BROKEN at seq 6: the event was edited"),
        "{out}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_export_verifies_offline_and_an_edited_export_does_not() {
    let app = spawn_app().await;
    app.add_user("ana", &["requester"]).await;
    let file = app.scratch.with_extension("ndjson");
    let file_arg = file.to_str().unwrap();
    let (ok, _) = rollgate(&app.db_url, &["audit", "export", "--output", file_arg]);
    assert!(ok);
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(text.lines().last().unwrap().starts_with("{\"head\""));
    assert!(rollgate(&app.db_url, &["audit", "verify", "--file", file_arg]).0);

    std::fs::write(&file, text.replacen("\"ana\"", "\"ann\"", 1)).unwrap();
    let (ok, out) = rollgate(&app.db_url, &["audit", "verify", "--file", file_arg]);
    assert!(!ok);
    assert!(out.contains("BROKEN at seq 5"), "{out}");
}
