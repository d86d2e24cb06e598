use crate::helpers::{json, spawn_app};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_names_each_field_and_changes_nothing() {
    let app = spawn_app().await;
    let admin = app.signed_in("boss", &["admin"]).await;
    let head = app.audit_head().await;
    let long = "n".repeat(10_000);
    let cases: Vec<(Vec<(&str, &str)>, &str)> = vec![
        (
            vec![
                ("username", ""),
                ("display_name", "A"),
                ("password", "a long password!"),
                ("roles[]", "auditor"),
            ],
            "username",
        ),
        (
            vec![
                ("username", &long),
                ("display_name", "A"),
                ("password", "a long password!"),
                ("roles[]", "auditor"),
            ],
            "username",
        ),
        (
            vec![
                ("username", "zoë"),
                ("display_name", "A"),
                ("password", "a long password!"),
                ("roles[]", "auditor"),
            ],
            "username",
        ),
        (
            vec![
                ("username", "okname"),
                ("display_name", &long),
                ("password", "a long password!"),
                ("roles[]", "auditor"),
            ],
            "display_name",
        ),
        (
            vec![
                ("username", "okname"),
                ("display_name", "A"),
                ("password", "short"),
                ("roles[]", "auditor"),
            ],
            "password",
        ),
        (
            vec![
                ("username", "okname"),
                ("display_name", "A"),
                ("password", "a long password!"),
            ],
            "roles",
        ),
        (
            vec![
                ("username", "okname"),
                ("display_name", "A"),
                ("password", "a long password!"),
                ("roles[]", "wizard"),
            ],
            "roles",
        ),
        (
            vec![
                ("username", "okname"),
                ("display_name", "A"),
                ("password", "a long password!"),
                ("roles[]", "approver"),
            ],
            "groups",
        ),
        (
            vec![
                ("username", "boss"),
                ("display_name", "A"),
                ("password", "a long password!"),
                ("roles[]", "auditor"),
            ],
            "username",
        ),
    ];
    for (form, field) in cases {
        let res = admin.call("users/create", &form).await;
        assert_eq!(res.status(), 422, "{field}: {form:?}");
        let body = json(res).await;
        assert_eq!(body["code"], "validation");
        let fields: Vec<&str> = body["fields"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["field"].as_str().unwrap())
            .collect();
        assert!(fields.contains(&field), "expected {field} in {fields:?}");
    }
    assert_eq!(app.audit_head().await, head, "nothing was recorded");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_requests_are_400_with_a_message_not_500() {
    let app = spawn_app().await;
    let admin = app.signed_in("boss", &["admin"]).await;
    let res = admin
        .call(
            "users/set_active",
            &[("id", "not-a-number"), ("active", "maybe")],
        )
        .await;
    assert_eq!(res.status(), 400);
    assert_eq!(json(res).await["code"], "bad_request");
    let res = admin.call("users/get", &[("id", "424242")]).await;
    assert_eq!(res.status(), 404);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admin_creates_a_user_with_a_unicode_name_who_can_then_sign_in() {
    let app = spawn_app().await;
    let admin = app.signed_in("boss", &["admin"]).await;
    let form = [
        ("username", "Zoe.Ng"),
        ("display_name", "Zoë Ōtani-Ng 🚀"),
        ("password", "a long password!"),
        ("roles[]", "requester"),
    ];
    let res = admin.call("users/create", &form).await;
    assert_eq!(res.status(), 200);
    let new = app.client();
    assert_eq!(new.login("zoe.ng", "a long password!").await.status(), 200);
    let me = json(new.call("auth/me", &[]).await).await;
    assert_eq!(me["display_name"], "Zoë Ōtani-Ng 🚀");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admin_cannot_deactivate_themselves() {
    let app = spawn_app().await;
    let id = app.add_user("boss", &["admin"]).await;
    let client = app.client();
    client.login("boss", crate::helpers::PASSWORD).await;
    let res = client
        .call(
            "users/set_active",
            &[("id", &id.to_string()), ("active", "false")],
        )
        .await;
    assert_eq!(res.status(), 409);
}
