use reqwest::header;

use crate::helpers::{json, spawn_app, PASSWORD};

fn session_cookie(res: &reqwest::Response) -> Option<String> {
    res.headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|c| c.starts_with("rollgate_session="))
        .map(str::to_string)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signing_in_sets_an_http_only_same_site_lax_cookie() {
    let app = spawn_app().await;
    app.add_user("ana", &["requester"]).await;
    let res = app.client().login("ana", PASSWORD).await;
    assert_eq!(res.status(), 200);
    let cookie = session_cookie(&res).expect("a session cookie");
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"),
        "{cookie}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signing_in_again_cycles_the_session_id_and_the_old_one_stops_working() {
    let app = spawn_app().await;
    app.add_user("ana", &["requester"]).await;
    let client = app.client();
    let first = session_cookie(&client.login("ana", PASSWORD).await).unwrap();
    let second = session_cookie(&client.login("ana", PASSWORD).await).unwrap();
    let id = |c: &str| c.split(';').next().unwrap().to_string();
    assert_ne!(id(&first), id(&second));
    let old = reqwest::Client::new()
        .post(format!("{}/api/auth/me", app.address))
        .header(header::COOKIE, id(&first))
        .send()
        .await
        .unwrap();
    assert_eq!(json(old).await, serde_json::Value::Null);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_password_and_an_unknown_username_get_the_same_answer() {
    let app = spawn_app().await;
    app.add_user("ana", &["requester"]).await;
    let wrong_password = app.client().login("ana", "not it at all").await;
    let unknown_user = app.client().login("nobody", "not it at all").await;
    assert_eq!(wrong_password.status(), 401);
    assert_eq!(unknown_user.status(), 401);
    assert_eq!(json(wrong_password).await, json(unknown_user).await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn five_failures_lock_the_username_with_429_and_the_lock_is_audited() {
    let app = spawn_app().await;
    app.add_user("ana", &["requester"]).await;
    let client = app.client();
    for _ in 0..4 {
        assert_eq!(client.login("ana", "wrong").await.status(), 401);
    }
    let locked = client.login("ana", "wrong").await;
    assert_eq!(locked.status(), 429);
    assert_eq!(json(locked).await["code"], "locked");
    assert_eq!(client.login("ana", PASSWORD).await.status(), 429);
    let auditor = app.signed_in("aud", &["auditor"]).await;
    let page = json(
        auditor
            .call("audit/list", &[("query[action]", "auth.lockout_started")])
            .await,
    )
    .await;
    assert_eq!(page["entries"].as_array().unwrap().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deactivated_user_cannot_sign_in_and_their_open_session_stops_working() {
    let app = spawn_app().await;
    let id = app.add_user("ana", &["requester"]).await;
    let ana = app.client();
    ana.login("ana", PASSWORD).await;
    let admin = app.signed_in("boss", &["admin"]).await;
    let res = admin
        .call(
            "users/set_active",
            &[("id", &id.to_string()), ("active", "false")],
        )
        .await;
    assert_eq!(res.status(), 200);
    assert_eq!(
        json(ana.call("auth/me", &[]).await).await,
        serde_json::Value::Null
    );
    let again = app.client().login("ana", PASSWORD).await;
    assert_eq!(again.status(), 403);
    assert_eq!(json(again).await["code"], "account_deactivated");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tampered_session_cookie_is_treated_as_signed_out() {
    let app = spawn_app().await;
    for cookie in [
        "rollgate_session=AAAAAAAAAAAAAAAAAAAAAA",
        "rollgate_session=%%%not-an-id",
        "rollgate_session=",
    ] {
        let res = app
            .client()
            .http
            .get(format!("{}/admin/users", app.address))
            .header(header::ACCEPT, "text/html")
            .header(header::COOKIE, cookie)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 302, "{cookie}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_post_without_a_session_is_unauthenticated_not_an_error() {
    let app = spawn_app().await;
    let res = app
        .client()
        .call(
            "users/create",
            &[("username", "x"), ("display_name", "x"), ("password", "x")],
        )
        .await;
    assert_eq!(res.status(), 401);
    assert_eq!(json(res).await["code"], "unauthenticated");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cross_origin_post_is_refused() {
    let app = spawn_app().await;
    let res = reqwest::Client::new()
        .post(format!("{}/api/auth/login", app.address))
        .header(header::ORIGIN, "https://evil.example")
        .form(&[("username", "a"), ("password", "b")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signing_out_ends_the_session_and_is_audited() {
    let app = spawn_app().await;
    let client = app.signed_in("ana", &["requester"]).await;
    let (seq, _) = app.audit_head().await;
    assert_eq!(client.call("auth/logout", &[]).await.status(), 200);
    assert_eq!(
        json(client.call("auth/me", &[]).await).await,
        serde_json::Value::Null
    );
    assert_eq!(app.audit_head().await.0, seq + 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_plain_form_sign_in_redirects_to_the_next_page_and_never_off_site() {
    let app = spawn_app().await;
    app.add_user("ana", &["auditor"]).await;
    let client = app.client();
    for (next, expected) in [("/audit", "/audit"), ("https://evil.example/", "/")] {
        let res = client
            .http
            .post(format!("{}/api/auth/login", app.address))
            .header(header::ACCEPT, "text/html")
            .header(header::REFERER, format!("{}/login", app.address))
            .form(&[("username", "ana"), ("password", PASSWORD), ("next", next)])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 302);
        assert_eq!(res.headers()[header::LOCATION], expected);
    }
}
