//! Sessions end when their reason does: deactivation, "sign out everywhere", idleness.

use serde_json::Value;

use crate::helpers::{json, spawn_app, spawn_app_with, TestApp, PASSWORD};

async fn signed_in_twice(
    app: &TestApp,
    username: &str,
) -> (crate::helpers::TestClient, crate::helpers::TestClient) {
    let (a, b) = (app.client(), app.client());
    assert_eq!(a.login(username, PASSWORD).await.status(), 200);
    assert_eq!(b.login(username, PASSWORD).await.status(), 200);
    (a, b)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_from_before_a_deactivation_stays_ended_after_reactivation() {
    let app = spawn_app().await;
    let id = app.add_user("ana", &["requester"]).await;
    let ana = app.client();
    ana.login("ana", PASSWORD).await;
    let admin = app.signed_in("boss", &["admin"]).await;
    for active in ["false", "true"] {
        let res = admin
            .call(
                "users/set_active",
                &[("id", &id.to_string()), ("active", active)],
            )
            .await;
        assert_eq!(res.status(), 200);
    }
    assert_eq!(json(ana.call("auth/me", &[]).await).await, Value::Null);
    let fresh = app.client();
    assert_eq!(fresh.login("ana", PASSWORD).await.status(), 200);
    assert_eq!(
        json(fresh.call("auth/me", &[]).await).await["username"],
        "ana"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signing_out_everywhere_ends_every_session_of_that_person_only() {
    let app = spawn_app().await;
    app.add_user("ana", &["requester"]).await;
    let (laptop, phone) = signed_in_twice(&app, "ana").await;
    let bob = app.signed_in("bob", &["requester"]).await;
    let (seq, _) = app.audit_head().await;
    let res = laptop.call("auth/logout_everywhere", &[]).await;
    assert!(
        res.status().is_success() || res.status().is_redirection(),
        "{}",
        res.status()
    );
    for client in [&laptop, &phone] {
        assert_eq!(json(client.call("auth/me", &[]).await).await, Value::Null);
    }
    assert_eq!(
        json(bob.call("auth/me", &[]).await).await["username"],
        "bob"
    );
    assert_eq!(app.audit_head().await.0, seq + 1, "audited once");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_administrator_can_end_someone_elses_sessions() {
    let app = spawn_app().await;
    let id = app.add_user("ana", &["requester"]).await;
    let (laptop, _) = signed_in_twice(&app, "ana").await;
    let requester = app.signed_in("bob", &["requester"]).await;
    let refused = requester
        .call("users/sign_out_everywhere", &[("id", &id.to_string())])
        .await;
    assert_eq!(refused.status(), 403);
    let admin = app.signed_in("boss", &["admin"]).await;
    let res = admin
        .call("users/sign_out_everywhere", &[("id", &id.to_string())])
        .await;
    assert_eq!(res.status(), 200);
    assert_eq!(json(laptop.call("auth/me", &[]).await).await, Value::Null);
}

/// The expiry the session store holds for the (only) signed-in session.
async fn stored_expiry(app: &TestApp) -> String {
    use app::db::Db;
    match &app.db {
        Db::Sqlite(pool) => {
            sqlx::query_scalar::<_, String>("SELECT MAX(expiry_date) FROM tower_sessions")
                .fetch_one(pool)
                .await
                .unwrap()
        }
        Db::Postgres(pool) => sqlx::query_scalar::<_, chrono::DateTime<chrono::Utc>>(
            "SELECT MAX(expiry_date) FROM tower_sessions.session",
        )
        .fetch_one(pool)
        .await
        .unwrap()
        .to_rfc3339(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reading_pages_keeps_an_idle_session_alive() {
    // A one-minute idle timeout refreshes the session at most once a second.
    let app = spawn_app_with(|s| s.session.idle_timeout_minutes = 1).await;
    let ana = app.signed_in("ana", &["requester"]).await;
    let before = stored_expiry(&app).await;
    tokio::time::sleep(std::time::Duration::from_millis(2100)).await;
    assert_eq!(ana.page("/changes").await.status(), 200);
    let after = stored_expiry(&app).await;
    assert!(
        after > before,
        "a read moved the expiry: {before} → {after}"
    );
}
