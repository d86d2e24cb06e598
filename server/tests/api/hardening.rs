//! What an attacker on the network tries first: huge bodies, floods, hostile redirects and
//! headers, forged request ids.

use reqwest::{header, StatusCode};

use crate::helpers::{json, spawn_app, PASSWORD};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_oversized_body_is_refused_with_413_and_the_limit() {
    let app = spawn_app().await;
    let huge = "a".repeat(8 * 1024 * 1024);
    let res = reqwest::Client::new()
        .post(format!("{}/api/auth/login", app.address))
        .header(header::ACCEPT, "application/json")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(format!("username=ana&password={huge}"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::PAYLOAD_TOO_LARGE);
    let body = json(res).await;
    assert_eq!(body["code"], "too_large");
    assert_eq!(body["limit"], "256 KiB");
    let res = reqwest::Client::new()
        .post(format!("{}/api/v1/changes", app.address))
        .header(header::AUTHORIZATION, "Bearer rg_x")
        .header(header::CONTENT_TYPE, "application/json")
        .body(format!("{{\"title\":\"{}\"}}", "t".repeat(2 * 1024 * 1024)))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(json(res).await["code"], "payload_too_large");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flood_of_sign_ins_is_shed_with_503_and_retry_after_not_queued_without_bound() {
    let app = spawn_app().await;
    let client = reqwest::Client::new();
    let mut flood = tokio::task::JoinSet::new();
    for i in 0..150 {
        let (client, address) = (client.clone(), app.address.clone());
        flood.spawn(async move {
            client
                .post(format!("{address}/api/auth/login"))
                .header(header::ACCEPT, "application/json")
                .form(&[
                    ("username", format!("nobody-{i}")),
                    ("password", "guess".into()),
                ])
                .send()
                .await
                .map(|r| (r.status(), r.headers().get(header::RETRY_AFTER).cloned()))
        });
    }
    let answers: Vec<_> = flood
        .join_all()
        .await
        .into_iter()
        .map(Result::unwrap)
        .collect();
    let shed: Vec<_> = answers
        .iter()
        .filter(|(s, _)| *s == StatusCode::SERVICE_UNAVAILABLE)
        .collect();
    let checked = answers
        .iter()
        .filter(|(s, _)| *s == StatusCode::UNAUTHORIZED)
        .count();
    assert!(!shed.is_empty(), "some sign-ins are shed: {answers:?}");
    assert!(shed
        .iter()
        .all(|(_, retry)| retry.as_ref().is_some_and(|v| v == "2")));
    assert_eq!(
        shed.len() + checked,
        150,
        "nothing else, no 500: {answers:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_next_path_with_a_tab_or_newline_goes_home_never_off_site_or_to_a_500() {
    let app = spawn_app().await;
    app.add_user("ana", &["auditor"]).await;
    for next in ["/\t/evil.example", "/\n/x", "/\r/x", "/\\evil.example"] {
        let res = app
            .client()
            .http
            .post(format!("{}/api/auth/login", app.address))
            .header(header::ACCEPT, "text/html")
            .header(header::REFERER, format!("{}/login", app.address))
            .form(&[("username", "ana"), ("password", PASSWORD), ("next", next)])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 302, "{next:?}");
        assert_eq!(res.headers()[header::LOCATION], "/", "{next:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn request_ids_are_made_by_the_server_and_a_clients_id_never_reaches_the_audit_log() {
    let app = spawn_app().await;
    app.add_user("ana", &["requester"]).await;
    let send = |id: &'static str| {
        let address = app.address.clone();
        async move {
            reqwest::Client::new()
                .post(format!("{address}/api/auth/login"))
                .header(header::ACCEPT, "application/json")
                .header("x-request-id", id)
                .form(&[("username", "ana"), ("password", PASSWORD), ("next", "")])
                .send()
                .await
                .unwrap()
        }
    };
    let forged = send("hunter2 my password <script>").await;
    let id = forged.headers()["x-request-id"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(uuid::Uuid::parse_str(&id).is_ok(), "{id}");
    assert!(forged.headers().get("x-client-request-id").is_none());
    let plain = send("ci-run-42").await;
    assert_eq!(plain.headers()["x-client-request-id"], "ci-run-42");
    assert_ne!(plain.headers()["x-request-id"], "ci-run-42");
    let page = app::audit::repo::list(
        &app.db,
        &app::audit::model::AuditQuery::default().parse().unwrap(),
    )
    .await
    .unwrap();
    let ids: Vec<_> = page
        .entries
        .iter()
        .filter_map(|e| e.request_id.clone())
        .collect();
    assert!(ids.contains(&id), "{ids:?}");
    assert!(
        ids.iter().all(|i| uuid::Uuid::parse_str(i).is_ok()),
        "{ids:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_carry_a_nonce_content_security_policy_and_refuse_framing() {
    let app = spawn_app().await;
    let res = app.client().page("/login").await;
    let csp = res.headers()[header::CONTENT_SECURITY_POLICY]
        .to_str()
        .unwrap()
        .to_string();
    assert!(res
        .headers()
        .get(header::STRICT_TRANSPORT_SECURITY)
        .is_none());
    let html = res.text().await.unwrap();
    let nonce = csp
        .split("'nonce-")
        .nth(1)
        .and_then(|r| r.split('\'').next())
        .expect("a nonce in the policy");
    assert!(
        csp.contains("'wasm-unsafe-eval'") && !csp.contains("'unsafe-eval'"),
        "{csp}"
    );
    assert!(!csp.contains("unsafe-inline"), "{csp}");
    assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
    assert!(
        html.contains(&format!("nonce=\"{nonce}\"")),
        "inline scripts carry the nonce"
    );
    let other = app.client().page("/login").await;
    assert!(
        !other.headers()[header::CONTENT_SECURITY_POLICY]
            .to_str()
            .unwrap()
            .contains(nonce),
        "a fresh nonce per response"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn behind_tls_responses_ask_for_https_only() {
    let app = crate::helpers::spawn_app_with(|s| s.session.secure_cookie = true).await;
    let res = app.client().page("/login").await;
    assert_eq!(
        res.headers()[header::STRICT_TRANSPORT_SECURITY],
        "max-age=31536000; includeSubDomains"
    );
}
