//! API tokens: shown once, and minted for someone else only when that is a service account.

use reqwest::header;

use crate::helpers::{json, spawn_app, TestClient};

async fn page(client: &TestClient, path: &str) -> String {
    client.page(path).await.text().await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_tokens_secret_is_shown_once_and_a_reload_shows_it_no_more() {
    let app = spawn_app().await;
    let ana = app.signed_in("ana", &["requester"]).await;
    let res = ana
        .call(
            "tokens/create",
            &[("name", "ci"), ("scopes[]", "changes:read")],
        )
        .await;
    let location = res.headers()[header::LOCATION]
        .to_str()
        .unwrap()
        .to_string();
    assert!(location.starts_with("/tokens?created="), "{location}");
    let first = page(&ana, &location).await;
    assert!(
        first.contains("value=\"rg_"),
        "the announcing page shows the secret"
    );
    let reload = page(&ana, &location).await;
    assert!(
        !reload.contains("value=\"rg_"),
        "a reload of the same address shows it no more"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_administrator_mints_tokens_for_service_accounts_but_never_for_a_person() {
    let app = spawn_app().await;
    app.add_user("ana", &["requester"]).await;
    let admin = app.signed_in("boss", &["admin"]).await;
    let made = admin
        .call(
            "users/create",
            &[
                ("username", "ci-bot"),
                ("display_name", "CI"),
                ("roles[]", "requester"),
                ("service", "true"),
            ],
        )
        .await;
    assert!(
        made.status().is_success() || made.status().is_redirection(),
        "{}",
        made.status()
    );
    let (seq, _) = app.audit_head().await;
    let refused = admin
        .call(
            "tokens/create",
            &[
                ("name", "as ana"),
                ("owner", "ana"),
                ("scopes[]", "changes:write"),
            ],
        )
        .await;
    assert_eq!(refused.status(), 422);
    let body = json(refused).await;
    assert_eq!(body["fields"][0]["field"], "owner");
    assert_eq!(
        app.audit_head().await.0,
        seq,
        "nothing was minted or audited"
    );
    let minted = admin
        .call(
            "tokens/create",
            &[
                ("name", "ci"),
                ("owner", "ci-bot"),
                ("scopes[]", "changes:write"),
            ],
        )
        .await;
    assert!(minted.status().is_redirection() || minted.status().is_success());
    let page = app::audit::repo::list(
        &app.db,
        &app::audit::model::AuditQuery::default().parse().unwrap(),
    )
    .await
    .unwrap();
    let created = &page.entries[0];
    assert_eq!(created.action, "api_token.created");
    let after: serde_json::Value = serde_json::from_str(&created.after).unwrap();
    assert_eq!(
        (&after["created_by"], &after["owner"]),
        (&"boss".into(), &"ci-bot".into())
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_service_account_can_never_sign_in() {
    let app = spawn_app().await;
    let admin = app.signed_in("boss", &["admin"]).await;
    admin
        .call(
            "users/create",
            &[
                ("username", "ci-bot"),
                ("display_name", "CI"),
                ("roles[]", "requester"),
                ("service", "true"),
            ],
        )
        .await;
    for password in ["", "!service-account", "anything at all"] {
        let res = app.client().login("ci-bot", password).await;
        assert!(
            res.status() == 401 || res.status() == 422,
            "{password:?}: {}",
            res.status()
        );
    }
}
