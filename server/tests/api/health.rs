use crate::helpers::spawn_app;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn healthz_answers_while_the_process_runs() {
    let app = spawn_app().await;
    let res = reqwest::get(format!("{}/healthz", app.address))
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readyz_reports_the_database_reachable_and_migrated() {
    let app = spawn_app().await;
    let res = reqwest::get(format!("{}/readyz", app.address))
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(body["migrations"], "applied");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readyz_fails_when_the_database_is_gone() {
    let app = spawn_app().await;
    app.db.close().await;
    let res = reqwest::get(format!("{}/readyz", app.address))
        .await
        .unwrap();
    assert_eq!(res.status(), 503);
}
