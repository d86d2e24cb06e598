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
