use std::{path::PathBuf, sync::LazyLock};

use app::{
    audit::repo::Ctx,
    db::{Conn, Db},
    groups::repo::list_groups,
    users::{model::NewUser, service::create_user},
};
use reqwest::{header, Client, Response};
use rollgate::{
    configuration::Settings,
    startup::Application,
    telemetry::{get_subscriber, init_subscriber},
};

pub const PASSWORD: &str = "integration password";

static TRACING: LazyLock<()> = LazyLock::new(|| {
    if std::env::var("TEST_LOG").is_ok() {
        init_subscriber(get_subscriber("info", false, std::io::stdout));
    } else {
        init_subscriber(get_subscriber("info", false, std::io::sink));
    }
});

pub struct TestApp {
    pub address: String,
    pub db: Db,
    pub db_path: PathBuf,
}

/// A signed-in (or anonymous) browser-like client: cookies kept, redirects not followed.
pub struct TestClient {
    pub http: Client,
    pub address: String,
}

pub async fn spawn_app() -> TestApp {
    LazyLock::force(&TRACING);
    let db_path =
        std::env::temp_dir().join(format!("rollgate-it-{}.db", uuid::Uuid::new_v4().simple()));
    let mut settings = Settings::default();
    settings.application.port = 0;
    settings.database.url = format!("sqlite://{}", db_path.display()).into();
    settings.security.secret_key = Some(
        app::connectors::secret::SecretKey::generate()
            .to_base64()
            .into(),
    );
    let app = Application::build(&settings)
        .await
        .expect("the application builds");
    let address = format!("http://127.0.0.1:{}", app.port());
    let db = app.db().clone();
    tokio::spawn(app.run_until_stopped());
    TestApp {
        address,
        db,
        db_path,
    }
}

impl TestApp {
    pub fn client(&self) -> TestClient {
        let http = Client::builder()
            .cookie_store(true)
            .redirect(reqwest::redirect::Policy::none())
            .timeout(std::time::Duration::from_secs(45))
            .build()
            .unwrap();
        TestClient {
            http,
            address: self.address.clone(),
        }
    }

    /// Creates a user straight through the service (as `rollgate user add` does).
    pub async fn add_user(&self, username: &str, roles: &[&str]) -> i64 {
        let groups = list_groups(&mut Conn::Db(&self.db)).await.unwrap();
        let group_ids: Vec<i64> = if roles.contains(&"approver") {
            vec![groups[0].id]
        } else {
            vec![]
        };
        let roles: Vec<String> = roles.iter().map(|r| r.to_string()).collect();
        let new = NewUser::parse(
            username,
            &format!("Test {username}"),
            PASSWORD,
            &roles,
            &group_ids,
        )
        .unwrap();
        create_user(&self.db, &Ctx::system(), new).await.unwrap()
    }

    /// A client signed in as a new user holding `roles`.
    pub async fn signed_in(&self, username: &str, roles: &[&str]) -> TestClient {
        self.add_user(username, roles).await;
        let client = self.client();
        let res = client.login(username, PASSWORD).await;
        assert_eq!(res.status(), 200, "login of {username}");
        client
    }

    pub async fn audit_head(&self) -> (i64, String) {
        app::audit::repo::head(&self.db).await.unwrap()
    }
}

impl TestClient {
    /// Calls a server function the way the hydrated app does (form body, JSON answer).
    pub async fn call(&self, endpoint: &str, form: &[(&str, &str)]) -> Response {
        self.http
            .post(format!("{}/api/{endpoint}", self.address))
            .header(header::ACCEPT, "application/json")
            .form(form)
            .send()
            .await
            .expect("request sent")
    }

    pub async fn login(&self, username: &str, password: &str) -> Response {
        self.call(
            "auth/login",
            &[("username", username), ("password", password), ("next", "")],
        )
        .await
    }

    /// Loads a page as a browser would (HTML accepted).
    pub async fn page(&self, path: &str) -> Response {
        self.http
            .get(format!("{}{path}", self.address))
            .header(header::ACCEPT, "text/html")
            .send()
            .await
            .unwrap()
    }
}

pub async fn json(res: Response) -> serde_json::Value {
    res.json().await.expect("a JSON body")
}
