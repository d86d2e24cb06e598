//! Service and repository tests for users, on SQLite and (twins) PostgreSQL.

use super::{
    model::{parse_access, NewUser},
    repo,
    service::{self, UserError},
};
use crate::{
    audit::repo::{head, Ctx},
    auth::Role,
    backend_test,
    db::{testing::TestDb, Conn, Db},
    groups::repo::list_groups,
};

pub async fn group_id(db: &Db, name: &str) -> i64 {
    crate::groups::service::ensure_default_groups(db)
        .await
        .unwrap();
    list_groups(&mut Conn::Db(db))
        .await
        .unwrap()
        .into_iter()
        .find(|g| g.name == name)
        .unwrap()
        .id
}

pub async fn add_user(db: &Db, username: &str, roles: &[&str], groups: &[i64]) -> i64 {
    let roles: Vec<String> = roles.iter().map(|r| r.to_string()).collect();
    let new = NewUser::parse(
        username,
        "Test Person",
        "correct horse battery",
        &roles,
        groups,
    )
    .unwrap();
    service::create_user(db, &Ctx::system(), new).await.unwrap()
}

async fn creating_a_user_stores_roles_groups_and_one_audit_event(t: &TestDb) {
    let product = group_id(&t.db, "Product").await;
    let (seq_before, _) = head(&t.db).await.unwrap();
    let id = add_user(&t.db, "Ana", &["approver", "auditor"], &[product]).await;
    let user = repo::get_user(&mut Conn::Db(&t.db), id).await.unwrap();
    assert_eq!(user.username, "ana");
    assert_eq!(user.roles, vec![Role::Approver, Role::Auditor]);
    assert_eq!(
        user.groups
            .iter()
            .map(|g| g.name.as_str())
            .collect::<Vec<_>>(),
        ["Product"]
    );
    assert!(user.active);
    assert_eq!(head(&t.db).await.unwrap().0, seq_before + 1);
}
backend_test!(
    create_user,
    creating_a_user_stores_roles_groups_and_one_audit_event
);

async fn a_taken_username_is_refused_and_changes_nothing(t: &TestDb) {
    add_user(&t.db, "ana", &["requester"], &[]).await;
    let head_before = head(&t.db).await.unwrap();
    let again = NewUser::parse(
        "ANA",
        "Other",
        "correct horse battery",
        &["auditor".into()],
        &[],
    )
    .unwrap();
    let err = service::create_user(&t.db, &Ctx::system(), again)
        .await
        .unwrap_err();
    assert!(matches!(err, UserError::UsernameTaken), "{err:?}");
    assert_eq!(head(&t.db).await.unwrap(), head_before);
    assert_eq!(repo::count_users(&mut Conn::Db(&t.db)).await.unwrap(), 1);
}
backend_test!(
    username_taken,
    a_taken_username_is_refused_and_changes_nothing
);

async fn an_unknown_group_is_refused(t: &TestDb) {
    let new = NewUser::parse(
        "bob",
        "Bob",
        "correct horse battery",
        &["approver".into()],
        &[9999],
    )
    .unwrap();
    let err = service::create_user(&t.db, &Ctx::system(), new)
        .await
        .unwrap_err();
    assert!(matches!(err, UserError::UnknownGroup), "{err:?}");
    assert_eq!(repo::count_users(&mut Conn::Db(&t.db)).await.unwrap(), 0);
}
backend_test!(unknown_group, an_unknown_group_is_refused);

async fn changing_access_is_audited_once_and_a_no_op_is_not(t: &TestDb) {
    let governance = group_id(&t.db, "Data governance").await;
    let id = add_user(&t.db, "cyd", &["requester"], &[]).await;
    let (seq, _) = head(&t.db).await.unwrap();
    let access = parse_access(&["approver".into()], &[governance]).unwrap();
    service::update_access(&t.db, &Ctx::system(), id, access.clone())
        .await
        .unwrap();
    service::update_access(&t.db, &Ctx::system(), id, access)
        .await
        .unwrap();
    assert_eq!(head(&t.db).await.unwrap().0, seq + 1);
    let user = repo::get_user(&mut Conn::Db(&t.db), id).await.unwrap();
    assert_eq!(user.roles, vec![Role::Approver]);
    assert_eq!(user.groups[0].id, governance);
}
backend_test!(
    update_access,
    changing_access_is_audited_once_and_a_no_op_is_not
);

async fn the_last_active_admin_cannot_lose_the_role_or_be_deactivated(t: &TestDb) {
    let admin = add_user(&t.db, "root1", &["admin"], &[]).await;
    let demote = parse_access(&["auditor".into()], &[]).unwrap();
    let err = service::update_access(&t.db, &Ctx::system(), admin, demote.clone())
        .await
        .unwrap_err();
    assert!(matches!(err, UserError::LastAdmin));
    assert!(matches!(
        service::set_active(&t.db, &Ctx::system(), admin, false).await,
        Err(UserError::LastAdmin)
    ));
    add_user(&t.db, "root2", &["admin"], &[]).await;
    service::update_access(&t.db, &Ctx::system(), admin, demote)
        .await
        .unwrap();
}
backend_test!(
    last_admin,
    the_last_active_admin_cannot_lose_the_role_or_be_deactivated
);

async fn deactivating_keeps_the_user_and_reactivating_restores_them(t: &TestDb) {
    let id = add_user(&t.db, "dee", &["requester"], &[]).await;
    service::set_active(&t.db, &Ctx::system(), id, false)
        .await
        .unwrap();
    assert!(
        !repo::get_user(&mut Conn::Db(&t.db), id)
            .await
            .unwrap()
            .active
    );
    service::set_active(&t.db, &Ctx::system(), id, true)
        .await
        .unwrap();
    assert!(
        repo::get_user(&mut Conn::Db(&t.db), id)
            .await
            .unwrap()
            .active
    );
    assert!(matches!(
        service::set_active(&t.db, &Ctx::system(), 424242, false).await,
        Err(UserError::NotFound)
    ));
}
backend_test!(
    deactivate,
    deactivating_keeps_the_user_and_reactivating_restores_them
);

async fn users_page_by_username_with_roles_loaded_for_the_whole_page(t: &TestDb) {
    for name in ["cat", "ant", "bee", "dog"] {
        add_user(&t.db, name, &["requester"], &[]).await;
    }
    let first = repo::list_users(&mut Conn::Db(&t.db), None, 2)
        .await
        .unwrap();
    assert_eq!(
        first
            .iter()
            .map(|u| u.username.as_str())
            .collect::<Vec<_>>(),
        ["ant", "bee"]
    );
    let next = repo::list_users(&mut Conn::Db(&t.db), Some("bee"), 2)
        .await
        .unwrap();
    assert_eq!(
        next.iter().map(|u| u.username.as_str()).collect::<Vec<_>>(),
        ["cat", "dog"]
    );
    assert!(next.iter().all(|u| u.roles == vec![Role::Requester]));
}
backend_test!(
    list_users,
    users_page_by_username_with_roles_loaded_for_the_whole_page
);

async fn a_service_account_has_no_password_and_never_becomes_an_administrator(t: &TestDb) {
    let new = NewUser::service("ci-bot", "CI", &["requester".to_string()], &[]).unwrap();
    let id = service::create_user(&t.db, &Ctx::system(), new)
        .await
        .unwrap();
    let user = repo::get_user(&mut Conn::Db(&t.db), id).await.unwrap();
    assert!(user.service);
    let creds = repo::find_credentials(&mut Conn::Db(&t.db), "ci-bot")
        .await
        .unwrap()
        .unwrap();
    assert!(!creds.password_hash.starts_with("$argon2"));
    assert!(NewUser::service("x-bot", "X", &["admin".to_string()], &[]).is_err());
    let seq = head(&t.db).await.unwrap().0;
    let admin = parse_access(&["admin".to_string()], &[]).unwrap();
    let err = service::update_access(&t.db, &Ctx::system(), id, admin)
        .await
        .unwrap_err();
    assert!(matches!(err, UserError::ServiceAdmin), "{err:?}");
    assert_eq!(head(&t.db).await.unwrap().0, seq);
}
backend_test!(
    service_account,
    a_service_account_has_no_password_and_never_becomes_an_administrator
);
