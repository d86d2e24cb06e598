//! Sign-in service tests, on SQLite and (twins) PostgreSQL.

use super::service::login;
use crate::{
    audit::{
        model::AuditQuery,
        repo::{list, Ctx},
    },
    backend_test,
    db::{testing::TestDb, Db},
    error::AppError,
    state::SecuritySettings,
    users::{service::set_active, tests::add_user},
};

const PASSWORD: &str = "correct horse battery";

async fn try_login(db: &Db, user: &str, password: &str) -> Result<i64, AppError> {
    login(
        db,
        &SecuritySettings::default(),
        user,
        password,
        Some("req".into()),
    )
    .await
}

async fn actions(db: &Db) -> Vec<String> {
    let page = list(db, &AuditQuery::default().parse().unwrap())
        .await
        .unwrap();
    page.entries.into_iter().map(|e| e.action).collect()
}

async fn the_right_password_signs_in_case_insensitively_and_is_audited(t: &TestDb) {
    let id = add_user(&t.db, "ana", &["requester"], &[]).await;
    assert_eq!(try_login(&t.db, " ANA ", PASSWORD).await.unwrap(), id);
    assert_eq!(actions(&t.db).await[0], "auth.login_succeeded");
}
backend_test!(
    login_succeeds,
    the_right_password_signs_in_case_insensitively_and_is_audited
);

async fn a_wrong_password_and_an_unknown_user_get_the_same_answer(t: &TestDb) {
    add_user(&t.db, "ana", &["requester"], &[]).await;
    let wrong_password = try_login(&t.db, "ana", "not the password")
        .await
        .unwrap_err();
    let unknown_user = try_login(&t.db, "nobody", PASSWORD).await.unwrap_err();
    assert_eq!(wrong_password, AppError::InvalidCredentials);
    assert_eq!(unknown_user, wrong_password);
    assert_eq!(
        &actions(&t.db).await[..2],
        ["auth.login_failed", "auth.login_failed"]
    );
}
backend_test!(
    same_failure_message,
    a_wrong_password_and_an_unknown_user_get_the_same_answer
);

async fn repeated_failures_lock_the_name_even_for_the_right_password(t: &TestDb) {
    add_user(&t.db, "ana", &["requester"], &[]).await;
    for _ in 0..4 {
        assert_eq!(
            try_login(&t.db, "ana", "nope").await.unwrap_err(),
            AppError::InvalidCredentials
        );
    }
    assert_eq!(
        try_login(&t.db, "ana", "nope").await.unwrap_err(),
        AppError::Locked { minutes: 15 }
    );
    assert!(matches!(
        try_login(&t.db, "ana", PASSWORD).await.unwrap_err(),
        AppError::Locked { .. }
    ));
    let log = actions(&t.db).await;
    assert!(log.contains(&"auth.lockout_started".to_string()));
    // Unknown names lock the same way, so locks reveal nothing.
    for _ in 0..5 {
        let _ = try_login(&t.db, "ghost", "nope").await;
    }
    assert!(matches!(
        try_login(&t.db, "ghost", "nope").await.unwrap_err(),
        AppError::Locked { .. }
    ));
}
backend_test!(
    lockout,
    repeated_failures_lock_the_name_even_for_the_right_password
);

async fn a_deactivated_user_cannot_sign_in(t: &TestDb) {
    let id = add_user(&t.db, "ana", &["requester"], &[]).await;
    set_active(&t.db, &Ctx::system(), id, false).await.unwrap();
    assert_eq!(
        try_login(&t.db, "ana", PASSWORD).await.unwrap_err(),
        AppError::AccountDeactivated
    );
    assert_eq!(
        try_login(&t.db, "ana", "wrong").await.unwrap_err(),
        AppError::InvalidCredentials
    );
}
backend_test!(deactivated, a_deactivated_user_cannot_sign_in);

async fn empty_fields_are_named(t: &TestDb) {
    let err = try_login(&t.db, " ", "").await.unwrap_err();
    assert!(err.field_message("username").is_some() && err.field_message("password").is_some());
}
backend_test!(empty_fields, empty_fields_are_named);

async fn audit_json(db: &Db) -> Vec<serde_json::Value> {
    let page = list(db, &AuditQuery::default().parse().unwrap())
        .await
        .unwrap();
    page.entries
        .into_iter()
        .map(|e| {
            serde_json::json!({ "action": e.action, "entity_id": e.entity_id,
            "after": serde_json::from_str::<serde_json::Value>(&e.after).unwrap() })
        })
        .collect()
}

async fn parallel_guesses_are_counted_before_any_is_checked(t: &TestDb) {
    add_user(&t.db, "ana", &["requester"], &[]).await;
    let mut guesses = tokio::task::JoinSet::new();
    for i in 0..40 {
        let db = t.db.clone();
        guesses.spawn(async move { try_login(&db, "ana", &format!("guess {i}")).await });
    }
    let answers = guesses.join_all().await;
    for a in &answers {
        assert!(
            matches!(
                a,
                Err(AppError::InvalidCredentials) | Err(AppError::Locked { .. })
            ),
            "{a:?}"
        );
    }
    let checked = audit_json(&t.db)
        .await
        .into_iter()
        .filter(|e| e["after"]["reason"] == "wrong_password")
        .count();
    let max = SecuritySettings::default().max_failed_logins as usize;
    assert_eq!(
        checked, max,
        "only the first {max} guesses may be checked, {checked} were"
    );
}
backend_test!(
    lockout_race,
    parallel_guesses_are_counted_before_any_is_checked
);

async fn a_password_typed_as_a_username_is_never_stored(t: &TestDb) {
    let typed = "hunter2-secret-typed-in-the-wrong-field";
    let _ = try_login(&t.db, typed, "x").await;
    let _ = try_login(&t.db, typed, "x").await;
    let log = audit_json(&t.db).await;
    let text = serde_json::to_string(&log).unwrap();
    assert!(!text.contains("secret-typed"), "{text}");
    assert_eq!(log[0]["after"]["unknown_name"]["starts_with"], "hu");
    assert_eq!(log[0]["after"]["reason"], "unknown_user");
    let keys: Vec<String> = crate::conn_run!(&mut crate::db::Conn::Db(&t.db), |c| {
        sqlx::query_scalar("SELECT username_lower FROM login_throttle")
            .fetch_all(c)
            .await
    })
    .unwrap();
    assert_eq!(keys.len(), 1, "{keys:?}");
    assert!(
        keys[0].starts_with("unknown:") && keys[0].len() == "unknown:".len() + 3,
        "{keys:?}"
    );
}
backend_test!(
    unknown_names_hidden,
    a_password_typed_as_a_username_is_never_stored
);

async fn a_flood_against_a_locked_name_adds_nothing_to_the_audit_log(t: &TestDb) {
    add_user(&t.db, "ana", &["requester"], &[]).await;
    for _ in 0..5 {
        let _ = try_login(&t.db, "ana", "nope").await;
    }
    let seq = crate::audit::repo::head(&t.db).await.unwrap().0;
    for _ in 0..50 {
        assert!(matches!(
            try_login(&t.db, "ana", "nope").await,
            Err(AppError::Locked { .. })
        ));
    }
    assert_eq!(crate::audit::repo::head(&t.db).await.unwrap().0, seq);
}
backend_test!(
    locked_flood,
    a_flood_against_a_locked_name_adds_nothing_to_the_audit_log
);
