//! Connector tests: secrets sealed and never audited, and "test connection" against real local
//! HTTP servers speaking Airflow's and a webhook receiver's wire format.

use axum::{
    http::{HeaderMap, StatusCode},
    routing::{get, post},
    Json, Router,
};
use serde_json::{json, Value};

use super::{
    model::{ConnectorKind, NewConnector},
    probe::{probe, sign, Target},
    repo,
    secret::SecretKey,
    service,
};
use crate::{
    audit::repo::{head, list_in_order, Ctx},
    backend_test,
    db::{testing::TestDb, Conn},
    error::AppError,
};

async fn a_stored_secret_is_sealed_kept_on_edit_and_never_audited(t: &TestDb) {
    let key = SecretKey::generate();
    let new = NewConnector::parse(
        "airflow-prod",
        "airflow3",
        "https://airflow.example.com",
        "rollgate",
        "",
        "hunter2-secret",
    )
    .unwrap();
    let id = service::save(&t.db, &Ctx::system(), &key, None, new)
        .await
        .unwrap();
    let row = repo::get(&mut Conn::Db(&t.db), id).await.unwrap();
    assert!(!row.secret_encrypted.as_deref().unwrap().contains("hunter2"));
    assert_eq!(
        service::resolve_secret(&row, &key).unwrap().as_deref(),
        Some("hunter2-secret")
    );
    let edit = NewConnector::parse(
        "airflow-prod",
        "airflow3",
        "https://airflow.example.com/airflow",
        "rollgate",
        "",
        "",
    )
    .unwrap();
    service::save(&t.db, &Ctx::system(), &key, Some(id), edit)
        .await
        .unwrap();
    let row = repo::get(&mut Conn::Db(&t.db), id).await.unwrap();
    assert_eq!(
        service::resolve_secret(&row, &key).unwrap().as_deref(),
        Some("hunter2-secret")
    );
    let events = list_in_order(&t.db, 0, 100).await.unwrap();
    assert!(events
        .iter()
        .all(|e| !e.after_json.contains("hunter2") && !e.before_json.contains("hunter2")));
    assert_eq!(
        events
            .iter()
            .filter(|e| e.entity_type == "connector")
            .count(),
        2
    );
    let dup = NewConnector::parse(
        "AIRFLOW-PROD",
        "webhook",
        "https://hooks.example.com",
        "",
        "",
        "",
    )
    .unwrap();
    let seq = head(&t.db).await.unwrap().0;
    let err = service::save(&t.db, &Ctx::system(), &key, None, dup)
        .await
        .unwrap_err();
    assert!(matches!(err, AppError::Validation { .. }));
    assert_eq!(head(&t.db).await.unwrap().0, seq);
    let other_key = SecretKey::generate();
    assert!(service::resolve_secret(&row, &other_key)
        .unwrap_err()
        .contains("secret key"));
}
backend_test!(
    sealed_secret,
    a_stored_secret_is_sealed_kept_on_edit_and_never_audited
);

async fn moving_a_connector_to_another_host_requires_its_secret_again(t: &TestDb) {
    let key = SecretKey::generate();
    let parse = |url: &str, secret: &str| {
        NewConnector::parse("airflow-prod", "airflow3", url, "rollgate", "", secret).unwrap()
    };
    let id = service::save(
        &t.db,
        &Ctx::system(),
        &key,
        None,
        parse("https://airflow.example.com", "hunter2-secret"),
    )
    .await
    .unwrap();
    let seq = head(&t.db).await.unwrap().0;
    let err = service::save(
        &t.db,
        &Ctx::system(),
        &key,
        Some(id),
        parse("https://collector.evil.example", ""),
    )
    .await
    .unwrap_err();
    assert!(
        err.field_message("secret")
            .is_some_and(|m| m.contains("another host")),
        "{err:?}"
    );
    let row = repo::get(&mut Conn::Db(&t.db), id).await.unwrap();
    assert_eq!(row.base_url, "https://airflow.example.com");
    assert_eq!(head(&t.db).await.unwrap().0, seq, "nothing was audited");
    // With the secret given again the move is an ordinary edit.
    service::save(
        &t.db,
        &Ctx::system(),
        &key,
        Some(id),
        parse("https://airflow-new.example.com", "new-secret-1"),
    )
    .await
    .unwrap();
}
backend_test!(
    moved_host,
    moving_a_connector_to_another_host_requires_its_secret_again
);

async fn a_secret_variable_outside_the_connector_prefix_is_never_read(t: &TestDb) {
    let key = SecretKey::generate();
    let new = NewConnector::parse(
        "hook",
        "webhook",
        "https://h.example",
        "",
        "",
        "s3cret-value",
    )
    .unwrap();
    let id = service::save(&t.db, &Ctx::system(), &key, None, new)
        .await
        .unwrap();
    // A row written before the prefix rule (or by hand) that names another server secret.
    crate::conn_run!(&mut Conn::Db(&t.db), |c| {
        sqlx::query("UPDATE connectors SET secret_env = 'DATABASE_URL', secret_encrypted = NULL WHERE id = $1")
            .bind(id)
            .execute(c)
            .await
            .map(|_| ())
    })
    .unwrap();
    let row = repo::get(&mut Conn::Db(&t.db), id).await.unwrap();
    let err = service::resolve_secret(&row, &key).unwrap_err();
    assert!(err.contains("ROLLGATE_CONNECTOR_"), "{err}");
}
backend_test!(
    env_prefix,
    a_secret_variable_outside_the_connector_prefix_is_never_read
);

/// Serves `router` on a free local port; returns its base URL.
async fn serve(router: Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await.ok() });
    format!("http://{addr}")
}

/// Airflow 3's wire format for the calls the probe makes (as recorded from a real instance).
fn fake_airflow() -> Router {
    Router::new()
        .route(
            "/api/v2/version",
            get(|| async { Json(json!({ "version": "3.1.3", "git_version": null })) }),
        )
        .route(
            "/auth/token",
            post(|Json(body): Json<Value>| async move {
                if body["password"] == "right" {
                    (StatusCode::CREATED, Json(json!({ "access_token": "jwt" })))
                } else {
                    (
                        StatusCode::UNAUTHORIZED,
                        Json(json!({ "detail": "Invalid credentials" })),
                    )
                }
            }),
        )
        .route(
            "/api/v2/dags",
            get(|headers: HeaderMap| async move {
                if headers.get("authorization").and_then(|v| v.to_str().ok()) != Some("Bearer jwt")
                {
                    return (
                        StatusCode::UNAUTHORIZED,
                        Json(json!({ "detail": "Not authenticated" })),
                    );
                }
                (
                    StatusCode::OK,
                    Json(json!({ "dags": [{ "dag_id": "orders_daily" }], "total_entries": 1 })),
                )
            }),
        )
        .route(
            "/api/v2/dags/{id}",
            get(|| async {
                (
                    StatusCode::NOT_FOUND,
                    Json(json!({ "detail": "The Dag with ID: `x` was not found" })),
                )
            }),
        )
}

fn target(base: &str, kind: ConnectorKind, secret: &str) -> Target<'static> {
    Target {
        kind,
        base_url: Box::leak(base.to_string().into_boxed_str()),
        username: "rollgate",
        secret: Some(secret.to_string()),
        bound: vec![(
            "orders job".into(),
            Some("orders_daily".into()),
            Some("orders_rollback".into()),
        )],
    }
}

#[tokio::test]
async fn the_airflow_probe_reports_version_user_and_missing_dags() {
    let base = serve(fake_airflow()).await;
    let report = probe(target(&base, ConnectorKind::Airflow3, "right")).await;
    assert!(!report.ok, "the rollback DAG is missing");
    let text = report.findings.join("\n");
    assert!(text.contains("Apache Airflow 3.1.3"), "{text}");
    assert!(text.contains("Signed in as “rollgate”"), "{text}");
    assert!(text.contains("“orders_daily” exists"), "{text}");
    assert!(text.contains("“orders_rollback” was not found"), "{text}");
    let refused = probe(target(&base, ConnectorKind::Airflow3, "wrong")).await;
    assert!(
        !refused.ok
            && refused
                .findings
                .last()
                .unwrap()
                .contains("refused the credentials")
    );
    let nowhere = probe(target(
        "http://127.0.0.1:9",
        ConnectorKind::Airflow3,
        "right",
    ))
    .await;
    assert!(
        nowhere.findings[0].starts_with("Could not reach"),
        "{:?}",
        nowhere.findings
    );
}

#[tokio::test]
async fn the_webhook_probe_sends_a_ping_the_receiver_can_verify() {
    let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    let receiver = Router::new().route(
        "/hook",
        post(move |headers: HeaderMap, body: String| async move {
            let h = |k: &str| {
                headers
                    .get(k)
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("")
                    .to_string()
            };
            let ts: i64 = h("webhook-timestamp").parse().unwrap_or(0);
            if sign(secret, &h("webhook-id"), ts, &body) == h("webhook-signature")
                && body.contains("rollgate.ping")
            {
                StatusCode::NO_CONTENT
            } else {
                StatusCode::UNAUTHORIZED
            }
        }),
    );
    let base = serve(receiver).await;
    let url = format!("{base}/hook");
    let report = probe(target(&url, ConnectorKind::Webhook, secret)).await;
    assert!(report.ok, "{:?}", report.findings);
    let wrong = probe(target(&url, ConnectorKind::Webhook, "whsec_b3RoZXI=")).await;
    assert!(
        !wrong.ok && wrong.findings[0].contains("401"),
        "{:?}",
        wrong.findings
    );
}

/// A host that counts what reaches it (where a hostile redirect points).
async fn collector() -> (String, std::sync::Arc<std::sync::atomic::AtomicUsize>) {
    use std::sync::{atomic::Ordering, Arc};
    let hits = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counted = hits.clone();
    let router = Router::new().fallback(move || {
        let counted = counted.clone();
        async move {
            counted.fetch_add(1, Ordering::SeqCst);
            (
                StatusCode::CREATED,
                Json(json!({ "access_token": "stolen" })),
            )
        }
    });
    (serve(router).await, hits)
}

/// Airflow whose `/auth/token` answers 307 to `to` (which would re-send the password).
fn redirecting_airflow(to: String) -> Router {
    Router::new()
        .route(
            "/api/v2/version",
            get(|| async { Json(json!({ "version": "3.1.3", "git_version": null })) }),
        )
        .route(
            "/auth/token",
            post(move || {
                let to = to.clone();
                async move {
                    (
                        StatusCode::TEMPORARY_REDIRECT,
                        [(axum::http::header::LOCATION, format!("{to}/collect"))],
                    )
                }
            }),
        )
}

#[tokio::test]
async fn test_connection_never_follows_a_redirect_with_the_password() {
    let (elsewhere, hits) = collector().await;
    let base = serve(redirecting_airflow(elsewhere.clone())).await;
    let report = probe(target(&base, ConnectorKind::Airflow3, "right")).await;
    assert_eq!(hits.load(std::sync::atomic::Ordering::SeqCst), 0);
    assert!(!report.ok);
    let text = report.findings.join("\n");
    assert!(
        text.contains("307") && text.contains(&elsewhere) && text.contains("does not follow"),
        "{text}"
    );
}

#[tokio::test]
async fn a_step_call_never_follows_a_redirect_and_records_where_it_pointed() {
    use crate::execution::http::{Http, RetryPolicy};
    let (elsewhere, hits) = collector().await;
    let base = serve(redirecting_airflow(elsewhere.clone())).await;
    let mut http = Http::new(RetryPolicy::default());
    let reply = http
        .send(
            reqwest::Method::POST,
            &format!("{base}/auth/token"),
            &[],
            Some(&json!({ "username": "rollgate", "password": "right" })),
        )
        .await
        .unwrap();
    assert_eq!(reply.status, 307);
    assert_eq!(hits.load(std::sync::atomic::Ordering::SeqCst), 0);
    assert!(reply.detail().contains(&elsewhere), "{}", reply.detail());
    let evidence = http.take_log();
    assert!(
        evidence[0].note.contains("not followed"),
        "{:?}",
        evidence[0]
    );
    assert!(!evidence[0].request_body.contains("right"));
}

#[tokio::test]
async fn a_huge_answer_is_read_only_up_to_the_limit() {
    use crate::execution::http::{Http, RetryPolicy, RESPONSE_LIMIT};
    let huge = Router::new().fallback(|| async { "x".repeat(8 * RESPONSE_LIMIT) });
    let base = serve(huge).await;
    let mut http = Http::new(RetryPolicy::default());
    let reply = http
        .send(reqwest::Method::GET, &base, &[], None)
        .await
        .unwrap();
    assert_eq!(reply.body.len(), RESPONSE_LIMIT);
}
