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
    /// The database the server uses: a fresh SQLite file, or with `ROLLGATE_IT_BACKEND=postgres`
    /// a fresh PostgreSQL database on `TEST_DATABASE_URL`'s server (dropped afterwards).
    pub db_url: String,
    pub scratch: PathBuf,
    _dropped: Option<DropDatabase>,
}

/// Drops a test's PostgreSQL database when the test ends.
struct DropDatabase {
    admin: String,
    name: String,
}

impl Drop for DropDatabase {
    fn drop(&mut self) {
        let (admin, name) = (self.admin.clone(), self.name.clone());
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?;
            rt.block_on(async {
                let pool = sqlx::PgPool::connect(&admin).await?;
                sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                    .execute(&pool)
                    .await?;
                Ok::<_, sqlx::Error>(())
            })
            .map_err(std::io::Error::other)
        })
        .join();
    }
}

/// `ROLLGATE_IT_BACKEND=postgres` runs the suite on PostgreSQL (`make test` does both).
async fn database(name: &str) -> (String, Option<DropDatabase>) {
    if std::env::var("ROLLGATE_IT_BACKEND").as_deref() != Ok("postgres") {
        let path = std::env::temp_dir().join(format!("{name}.db"));
        return (format!("sqlite://{}", path.display()), None);
    }
    let admin = std::env::var("TEST_DATABASE_URL")
        .expect("ROLLGATE_IT_BACKEND=postgres needs TEST_DATABASE_URL (a PostgreSQL admin URL)");
    let pool = sqlx::PgPool::connect(&admin)
        .await
        .expect("the PostgreSQL test server answers");
    sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(&pool)
        .await
        .expect("a test database");
    pool.close().await;
    let base = admin.rsplit_once('/').map(|(b, _)| b).unwrap_or(&admin);
    let url = format!("{base}/{name}");
    (
        url,
        Some(DropDatabase {
            admin,
            name: name.to_string(),
        }),
    )
}

/// A signed-in (or anonymous) browser-like client: cookies kept, redirects not followed.
pub struct TestClient {
    pub http: Client,
    pub address: String,
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

/// A server whose settings `adjust` changes first (a short idle timeout, say).
pub async fn spawn_app_with(adjust: impl FnOnce(&mut Settings)) -> TestApp {
    LazyLock::force(&TRACING);
    let name = format!("rollgate_it_{}", uuid::Uuid::new_v4().simple());
    let (db_url, dropped) = database(&name).await;
    let scratch = std::env::temp_dir().join(name);
    let mut settings = Settings::default();
    settings.application.port = 0;
    settings.database.url = db_url.clone().into();
    settings.security.secret_key = Some(
        app::connectors::secret::SecretKey::generate()
            .to_base64()
            .into(),
    );
    adjust(&mut settings);
    let app = Application::build(&settings)
        .await
        .expect("the application builds");
    let address = format!("http://127.0.0.1:{}", app.port());
    let db = app.db().clone();
    tokio::spawn(app.run_until_stopped());
    TestApp {
        address,
        db,
        db_url,
        scratch,
        _dropped: dropped,
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
