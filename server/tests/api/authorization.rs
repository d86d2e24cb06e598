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

/// Ids of the records the cases act on.
struct Targets {
    user: String,
    component: String,
    second: String,
    change: String,
    token: String,
    connector: String,
    plan: String,
    execution: String,
    postmortem: String,
    item: String,
}

const ALL: [&str; 5] = ROLES;
const WRITERS: [&str; 2] = ["postmortem_author", "requester"];

fn server_fns(t: &Targets) -> Vec<ServerFnCase> {
    let user_id = t.user.as_str();
    let s = |v: &str| v.to_string();
    vec![
        ("catalog/list", vec![], ALL.to_vec()),
        ("catalog/search", vec![("q", s("target"))], ALL.to_vec()),
        (
            "catalog/get",
            vec![("id", t.component.clone())],
            ALL.to_vec(),
        ),
        (
            "catalog/impact",
            vec![("id", t.component.clone())],
            ALL.to_vec(),
        ),
        (
            "catalog/create",
            vec![
                ("component[name]", s("comp-x")),
                ("component[kind]", s("dataset")),
            ],
            vec!["requester", "admin"],
        ),
        (
            "catalog/update",
            vec![
                ("id", t.component.clone()),
                ("component[name]", s("target-comp")),
                ("component[kind]", s("dataset")),
                ("component[owner]", s("x")),
            ],
            vec!["requester", "admin"],
        ),
        (
            "catalog/add_dependency",
            vec![("id", t.second.clone()), ("upstream", s("target-comp"))],
            vec!["requester", "admin"],
        ),
        (
            "catalog/remove_dependency",
            vec![
                ("id", t.second.clone()),
                ("upstream_id", t.component.clone()),
            ],
            vec!["requester", "admin"],
        ),
        ("changes/list", vec![], ALL.to_vec()),
        ("changes/get", vec![("id", t.change.clone())], ALL.to_vec()),
        (
            "changes/create",
            vec![
                ("change[title]", s("Change by x")),
                ("change[kind]", s("config")),
                ("change[why]", s("w")),
                ("change[components]", s("target-comp")),
            ],
            vec!["requester"],
        ),
        (
            "changes/update",
            vec![
                ("id", t.change.clone()),
                ("version", s("1")),
                ("change[title]", s("Edited")),
                ("change[kind]", s("config")),
                ("change[why]", s("w")),
                ("change[components]", s("target-comp")),
            ],
            vec!["requester"],
        ),
        (
            "audit/history",
            vec![
                ("entity_type", s("change")),
                ("entity_id", t.change.clone()),
            ],
            ALL.to_vec(),
        ),
        ("tokens/list", vec![], vec!["requester", "admin"]),
        (
            "tokens/create",
            vec![("name", s("token x")), ("scopes[]", s("changes:read"))],
            vec!["requester", "admin"],
        ),
        (
            "tokens/revoke",
            vec![("id", t.token.clone())],
            vec!["admin"],
        ),
        ("connectors/list", vec![], vec!["admin"]),
        (
            "connectors/save",
            vec![
                ("name", s("hook x")),
                ("kind", s("webhook")),
                ("base_url", s("https://hooks.example.com/x")),
                ("secret_env", s("ROLLGATE_CONNECTOR_HOOK_SECRET")),
            ],
            vec!["admin"],
        ),
        (
            "connectors/test",
            vec![("id", t.connector.clone())],
            vec!["admin"],
        ),
        ("plans/get", vec![("id", t.plan.clone())], ALL.to_vec()),
        (
            "plans/of_change",
            vec![("change_id", t.change.clone())],
            ALL.to_vec(),
        ),
        ("plans/inbox", vec![], ALL.to_vec()),
        (
            "plans/compare",
            vec![("id", t.plan.clone()), ("a", s("1")), ("b", s("1"))],
            ALL.to_vec(),
        ),
        (
            "plans/draft",
            vec![("change_id", t.change.clone())],
            vec!["requester"],
        ),
        (
            "plans/save",
            vec![
                ("id", t.plan.clone()),
                ("base", s("1")),
                ("plan[reason]", s("r")),
            ],
            vec!["requester"],
        ),
        (
            "plans/add_row",
            vec![
                ("id", t.plan.clone()),
                ("base", s("1")),
                ("component", s("second-comp")),
            ],
            vec!["requester"],
        ),
        (
            "plans/submit",
            vec![("id", t.plan.clone()), ("revision", s("1"))],
            vec!["requester"],
        ),
        (
            "plans/withdraw",
            vec![("id", t.plan.clone()), ("reason", s("Wrong scope"))],
            vec!["requester"],
        ),
        (
            "changes/fix_forward",
            vec![("id", t.change.clone()), ("reason", s("Hotfix"))],
            vec!["requester"],
        ),
        (
            "plans/decide",
            vec![
                ("id", t.plan.clone()),
                ("revision", s("1")),
                ("content_hash", s("0")),
                ("decision", s("approve")),
                ("request_key", s("key-x")),
            ],
            vec!["approver"],
        ),
        (
            "executions/get",
            vec![("id", t.execution.clone())],
            ALL.to_vec(),
        ),
        (
            "executions/version",
            vec![("id", t.execution.clone())],
            ALL.to_vec(),
        ),
        (
            "executions/operate",
            vec![
                ("id", t.execution.clone()),
                ("operation", s("abort")),
                ("note", s("stop x")),
            ],
            vec!["requester", "admin"],
        ),
        ("policies/list", vec![], vec!["admin"]),
        (
            "policies/save",
            vec![
                ("policy[name]", s("Policy x")),
                ("policy[scope]", s("tag")),
                ("policy[scope_value]", s("tag-x")),
                ("policy[requirements]", s("Product: 1")),
                ("policy[expiry_hours]", s("24")),
            ],
            vec!["admin"],
        ),
        ("postmortems/list", vec![], ALL.to_vec()),
        (
            "postmortems/get",
            vec![("id", t.postmortem.clone())],
            ALL.to_vec(),
        ),
        (
            "postmortems/of_change",
            vec![("change_id", t.change.clone())],
            ALL.to_vec(),
        ),
        (
            "postmortems/version",
            vec![("id", t.postmortem.clone()), ("number", s("1"))],
            ALL.to_vec(),
        ),
        (
            "postmortems/open",
            vec![("change_id", t.change.clone())],
            WRITERS.to_vec(),
        ),
        (
            "postmortems/save",
            vec![
                ("id", t.postmortem.clone()),
                ("version", s("1")),
                ("postmortem[summary]", s("By x")),
            ],
            WRITERS.to_vec(),
        ),
        (
            "postmortems/timeline",
            vec![
                ("id", t.postmortem.clone()),
                ("version", s("1")),
                ("entry[op]", s("add")),
                ("entry[at]", s("2026-11-30T10:00")),
                ("entry[text]", s("Noticed by x")),
            ],
            WRITERS.to_vec(),
        ),
        (
            "postmortems/submit",
            vec![("id", t.postmortem.clone()), ("version", s("1"))],
            WRITERS.to_vec(),
        ),
        (
            "postmortems/send_back",
            vec![
                ("id", t.postmortem.clone()),
                ("version", s("1")),
                ("note", s("More on detection")),
            ],
            vec!["postmortem_author", "admin"],
        ),
        (
            "postmortems/publish",
            vec![("id", t.postmortem.clone()), ("version", s("1"))],
            vec!["postmortem_author", "admin"],
        ),
        ("action_items/list", vec![("scope", s("all"))], ALL.to_vec()),
        ("action_items/chart", vec![], ALL.to_vec()),
        ("action_items/owners", vec![], ALL.to_vec()),
        (
            "action_items/get",
            vec![("id", t.item.clone())],
            ALL.to_vec(),
        ),
        (
            "action_items/create",
            vec![
                ("postmortem_id", t.postmortem.clone()),
                ("item[title]", s("Item by x")),
                ("item[owner_id]", user_id.to_string()),
                ("item[priority]", s("low")),
                ("item[kind]", s("other")),
            ],
            WRITERS.to_vec(),
        ),
        (
            "action_items/update",
            vec![
                ("id", t.item.clone()),
                ("version", s("1")),
                ("item[title]", s("Edited by x")),
                ("item[owner_id]", user_id.to_string()),
                ("item[priority]", s("low")),
                ("item[kind]", s("other")),
            ],
            WRITERS.to_vec(),
        ),
        ("notifications/mine", vec![], ALL.to_vec()),
        (
            "notifications/told",
            vec![("entity_type", s("plan")), ("entity_id", t.plan.clone())],
            ALL.to_vec(),
        ),
        ("notifications/my_email", vec![], ALL.to_vec()),
        (
            "notifications/email",
            vec![("email", s("x@example.org"))],
            ALL.to_vec(),
        ),
        (
            "notifications/email",
            vec![
                ("user_id", user_id.to_string()),
                ("email", s("x@example.org")),
            ],
            vec!["admin"],
        ),
        ("notifications/deliveries", vec![], vec!["admin"]),
        ("notifications/retry", vec![("id", s("1"))], vec!["admin"]),
        ("notifications/mail", vec![], vec!["admin"]),
        (
            "notifications/mail/save",
            vec![
                ("host", s("localhost")),
                ("port", s("2525")),
                ("security", s("none")),
                ("from_address", s("rollgate@example.org")),
            ],
            vec!["admin"],
        ),
        ("notifications/teams", vec![], vec!["admin"]),
        (
            "notifications/teams/add",
            vec![
                ("name", s("x-hook")),
                ("kind", s("slack")),
                ("url", s("https://hooks.example.org/services/x")),
                ("tag", s("finance")),
            ],
            vec!["admin"],
        ),
        (
            "notifications/teams/active",
            vec![("id", s("1")), ("active", s("false"))],
            vec!["admin"],
        ),
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

async fn setup() -> (TestApp, Targets) {
    use app::{
        audit::repo::Ctx,
        catalog::{
            model::{ComponentKind, Declaration},
            service as catalog,
        },
    };
    let app = spawn_app().await;
    let target = app.add_user("target", &["requester"]).await;
    let decl = |name: &str| Declaration {
        name: name.into(),
        kind: Some(ComponentKind::Dataset),
        ..Default::default()
    };
    let component = catalog::create(&app.db, &Ctx::system(), decl("target-comp"))
        .await
        .unwrap();
    let second = catalog::create(&app.db, &Ctx::system(), decl("second-comp"))
        .await
        .unwrap();
    let input = app::changes::model::ChangeInput {
        title: "Target change".into(),
        kind: "config".into(),
        why: "w".into(),
        components: vec![("target-comp".into(), String::new())],
        ..Default::default()
    };
    let new = app::changes::model::NewChange::parse(&input, chrono::Utc::now()).unwrap();
    let change = app::changes::service::create(&app.db, &Ctx::system(), target, &new, None)
        .await
        .unwrap();
    let owner = app::auth::CurrentUser {
        id: target,
        username: "target".into(),
        display_name: "T".into(),
        roles: vec![app::auth::Role::Requester],
        groups: vec![],
    };
    let new_token =
        app::tokens::model::NewToken::parse("target token", &["changes:read".into()]).unwrap();
    let (token, _) = app::tokens::service::create(&app.db, &Ctx::system(), &owner, "", new_token)
        .await
        .unwrap();
    let hook = app::connectors::model::NewConnector::parse(
        "target hook",
        "webhook",
        "http://127.0.0.1:9/hook",
        "",
        "ROLLGATE_CONNECTOR_TEST_UNSET_SECRET",
        "",
    )
    .unwrap();
    let key = app::connectors::secret::SecretKey::generate();
    let connector = app::connectors::service::save(&app.db, &Ctx::system(), &key, None, hook)
        .await
        .unwrap();
    let author = app::audit::Actor {
        id: target,
        username: "target".into(),
    };
    let plan = app::plans::service::draft(&app.db, &Ctx::system(), &author, change)
        .await
        .unwrap();
    let mut body = app::plans::repo::revision(&mut app::db::Conn::Db(&app.db), plan, 1)
        .await
        .unwrap()
        .body()
        .unwrap();
    body.criteria = "A forward fix takes a day.".into();
    let revision = app::plans::service::save(&app.db, &Ctx::system(), &author, plan, 1, body)
        .await
        .unwrap();
    // A submitted plan with a job that never comes due (no start moment): the worker leaves it be.
    app::plans::service::submit(
        &app.db,
        &Ctx::system(),
        &author,
        plan,
        revision,
        None,
        chrono::Utc::now(),
    )
    .await
    .unwrap();
    let mut tx = app.db.begin().await.unwrap();
    let (_, execution) = app::approvals::repo::insert_sign_off(
        &mut tx,
        plan,
        revision,
        "0",
        false,
        None,
        chrono::Utc::now(),
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    let (postmortem, item) = published_postmortem(&app, target, change).await;
    let targets = Targets {
        postmortem: postmortem.to_string(),
        item: item.to_string(),
        execution: execution.to_string(),
        plan: plan.to_string(),
        connector: connector.to_string(),
        user: target.to_string(),
        component: component.to_string(),
        second: second.to_string(),
        change: change.to_string(),
        token: token.id.to_string(),
    };
    (app, targets)
}

/// The change's postmortem, published by a reviewer, with one action item owned by `target`.
async fn published_postmortem(app: &TestApp, target: i64, change: i64) -> (i64, i64) {
    use app::{
        audit::{repo::Ctx, Actor},
        postmortems::{model::SECTIONS, service},
    };
    let author = Actor {
        id: target,
        username: "target".into(),
    };
    let now = chrono::Utc::now();
    let id = service::open(&app.db, &Ctx::system(), &author, change, now)
        .await
        .unwrap();
    let sections = SECTIONS
        .iter()
        .map(|s| (s.field.to_string(), "Written.".to_string()))
        .collect();
    let draft = service::Draft {
        sections,
        ..Default::default()
    };
    service::save(&app.db, &Ctx::system(), id, 1, draft, now)
        .await
        .unwrap();
    let input = app::action_items::model::ItemInput {
        title: "Target item".into(),
        owner_id: target.to_string(),
        priority: "low".into(),
        kind: "other".into(),
        ..Default::default()
    };
    let place = app::action_items::service::Place {
        postmortem_id: id,
        plan: None,
    };
    let item = app::action_items::service::create(
        &app.db,
        &Ctx::system(),
        place,
        &input,
        &Default::default(),
        now,
    )
    .await
    .unwrap();
    service::submit(&app.db, &Ctx::system(), id, 2, now)
        .await
        .unwrap();
    let reviewer = app.add_user("reviewer", &["postmortem_author"]).await;
    let reviewer = Actor {
        id: reviewer,
        username: "reviewer".into(),
    };
    service::publish(&app.db, &Ctx::system(), &reviewer, id, 3, now)
        .await
        .unwrap();
    (id, item)
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
            if allowed.contains(&role) {
                // Allowed: past the guard; the call may still be refused on its merits (409/422).
                assert!(
                    matches!(got, 200 | 409 | 422),
                    "{role} calling {endpoint}: {got}"
                );
            } else {
                assert_eq!(got, 403, "{role} calling {endpoint}");
            }
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
        "/admin/notifications",
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
