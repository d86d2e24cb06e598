//! Every server function, called by anonymous and by each role: the server decides.

use crate::helpers::{spawn_app, TestApp, TestClient};

const ROLES: [&str; 5] = [
    "requester",
    "approver",
    "postmortem_author",
    "auditor",
    "admin",
];

/// (endpoint, form, roles that may call it)
type ServerFnCase = (&'static str, Vec<(&'static str, String)>, Vec<&'static str>);

fn server_fns(user_id: &str) -> Vec<ServerFnCase> {
    vec![
        ("users/list", vec![], vec!["auditor", "admin"]),
        (
            "users/get",
            vec![("id", user_id.to_string())],
            vec!["auditor", "admin"],
        ),
        ("groups/list", vec![], vec!["auditor", "admin"]),
        ("audit/list", vec![], vec!["auditor", "admin"]),
        (
            "users/create",
            vec![
                ("username", "made-by-x".into()),
                ("display_name", "X".into()),
                ("password", "a long password!".into()),
                ("roles[]", "auditor".into()),
            ],
            vec!["admin"],
        ),
        (
            "users/update_access",
            vec![("id", user_id.to_string()), ("roles[]", "requester".into())],
            vec!["admin"],
        ),
        (
            "users/set_active",
            vec![("id", user_id.to_string()), ("active", "true".into())],
            vec!["admin"],
        ),
        (
            "groups/create",
            vec![("name", "Group by x".into())],
            vec!["admin"],
        ),
    ]
}

async fn status(
    client: &TestClient,
    endpoint: &str,
    form: &[(&'static str, String)],
    unique: &str,
) -> u16 {
    // Names that must be unique get the caller's suffix, so allowed calls do not collide.
    let form: Vec<(&str, String)> = form
        .iter()
        .map(|(k, v)| (*k, v.replace("x", unique)))
        .collect();
    let pairs: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
    client.call(endpoint, &pairs).await.status().as_u16()
}

async fn setup() -> (TestApp, String) {
    let app = spawn_app().await;
    let target = app.add_user("target", &["requester"]).await;
    (app, target.to_string())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn anonymous_callers_get_401_from_every_protected_server_function() {
    let (app, target) = setup().await;
    let anonymous = app.client();
    for (endpoint, form, _) in server_fns(&target) {
        assert_eq!(
            status(&anonymous, endpoint, &form, "anon").await,
            401,
            "{endpoint}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_role_gets_exactly_the_server_functions_it_holds() {
    let (app, target) = setup().await;
    for role in ROLES {
        let client = app
            .signed_in(&format!("as-{}", role.replace('_', "-")), &[role])
            .await;
        for (endpoint, form, allowed) in server_fns(&target) {
            let got = status(&client, endpoint, &form, role).await;
            let expected = if allowed.contains(&role) { 200 } else { 403 };
            assert_eq!(got, expected, "{role} calling {endpoint}");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn public_server_functions_answer_everyone() {
    let (app, _) = setup().await;
    let anonymous = app.client();
    assert_eq!(anonymous.call("auth/me", &[]).await.status(), 200);
    assert_eq!(anonymous.call("auth/logout", &[]).await.status(), 200);
    assert_eq!(anonymous.login("target", "wrong").await.status(), 401);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_redirect_anonymous_visitors_and_refuse_roles_without_them() {
    let (app, _) = setup().await;
    let anonymous = app.client();
    let res = anonymous.page("/audit").await;
    assert_eq!(res.status(), 302);
    assert_eq!(res.headers()["location"], "/login?next=/audit");
    let requester = app.signed_in("req", &["requester"]).await;
    for page in [
        "/admin/users",
        "/admin/users/new",
        "/admin/groups",
        "/audit",
    ] {
        assert_eq!(requester.page(page).await.status(), 403, "{page}");
    }
    let auditor = app.signed_in("aud", &["auditor"]).await;
    assert_eq!(auditor.page("/audit").await.status(), 200);
    assert_eq!(auditor.page("/admin/users/new").await.status(), 403);
    assert_eq!(auditor.page("/no/such/page").await.status(), 404);
    assert_eq!(auditor.page("/admin/users/99999").await.status(), 404);
}
