//! The server runs as a PostgreSQL role that owns nothing: `rollgate migrate --grant-to`.

use app::db::grants::grant_application_role;
use rollgate::{configuration::Settings, session_store::AnySessionStore, startup};

use crate::helpers::PASSWORD;

struct Scratch {
    admin: String,
    database: String,
    role: String,
}

impl Scratch {
    fn url_as(&self, user: &str) -> String {
        let (scheme_rest, _) = self.admin.rsplit_once('/').unwrap();
        let host = scheme_rest
            .rsplit_once('@')
            .map(|(_, h)| h)
            .unwrap_or(scheme_rest);
        let host = host.trim_start_matches("postgres://");
        format!("postgres://{user}@{host}/{}", self.database)
    }

    async fn run(&self, url: &str, sql: &str) -> Result<(), sqlx::Error> {
        let pool = sqlx::PgPool::connect(url).await?;
        let result = sqlx::query(sql).execute(&pool).await.map(|_| ());
        pool.close().await;
        result
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let (admin, database, role) =
            (self.admin.clone(), self.database.clone(), self.role.clone());
        let owner_url = self.url_as("postgres");
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?;
            rt.block_on(async {
                if let Ok(pool) = sqlx::PgPool::connect(&owner_url).await {
                    let _ = sqlx::query(&format!("DROP OWNED BY {role}"))
                        .execute(&pool)
                        .await;
                    pool.close().await;
                }
                let pool = sqlx::PgPool::connect(&admin).await?;
                let drop_db = format!("DROP DATABASE IF EXISTS {database} WITH (FORCE)");
                sqlx::query(&drop_db).execute(&pool).await?;
                sqlx::query(&format!("DROP ROLE IF EXISTS {role}"))
                    .execute(&pool)
                    .await?;
                Ok::<_, sqlx::Error>(())
            })
            .map_err(std::io::Error::other)
        })
        .join();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs PostgreSQL: TEST_DATABASE_URL"]
async fn the_server_runs_as_a_role_that_cannot_rewrite_or_empty_the_audit_log() {
    let admin = std::env::var("TEST_DATABASE_URL").expect("TEST_DATABASE_URL");
    let id = uuid::Uuid::new_v4().simple().to_string();
    let scratch = Scratch {
        admin: admin.clone(),
        database: format!("rollgate_role_{id}"),
        role: format!("rollgate_app_{}", &id[..12]),
    };
    let pool = sqlx::PgPool::connect(&admin).await.unwrap();
    sqlx::query(&format!("CREATE DATABASE {}", scratch.database))
        .execute(&pool)
        .await
        .unwrap();
    sqlx::query(&format!("CREATE ROLE {} LOGIN", scratch.role))
        .execute(&pool)
        .await
        .unwrap();
    pool.close().await;

    // `rollgate migrate --grant-to ROLE`, as the owner.
    let mut owner = Settings::default();
    owner.database.url = scratch.url_as("postgres").into();
    let db = startup::connect_and_migrate(&owner.database).await.unwrap();
    AnySessionStore::migrated(&db).await.unwrap();
    grant_application_role(&db, &scratch.role).await.unwrap();

    // The server as ROLE, not migrating: it starts, and a person signs in.
    let mut settings = Settings::default();
    settings.application.port = 0;
    settings.database.url = scratch.url_as(&scratch.role).into();
    settings.database.migrate_on_start = false;
    settings.security.secret_key = Some(
        app::connectors::secret::SecretKey::generate()
            .to_base64()
            .into(),
    );
    let server = startup::Application::build(&settings)
        .await
        .expect("the server starts as the application role");
    let address = format!("http://127.0.0.1:{}", server.port());
    let new = app::users::model::NewUser::parse("ana", "Ana", PASSWORD, &["requester".into()], &[])
        .unwrap();
    app::users::service::create_user(server.db(), &app::audit::repo::Ctx::system(), new)
        .await
        .expect("the role may write users and the audit log");
    tokio::spawn(server.run_until_stopped());
    let res = reqwest::Client::new()
        .post(format!("{address}/api/auth/login"))
        .header("accept", "application/json")
        .form(&[("username", "ana"), ("password", PASSWORD), ("next", "")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);

    // What the role cannot do, even with the server's own credentials.
    let as_role = scratch.url_as(&scratch.role);
    for sql in [
        "TRUNCATE audit_events",
        "TRUNCATE audit_chain_head",
        "DELETE FROM audit_events",
        "UPDATE audit_events SET action = 'x'",
        "DROP TRIGGER audit_events_no_update ON audit_events",
        "ALTER TABLE audit_events DISABLE TRIGGER ALL",
        "CREATE TABLE intruder (id INT)",
        "DELETE FROM _sqlx_migrations",
    ] {
        assert!(
            scratch.run(&as_role, sql).await.is_err(),
            "the application role could run: {sql}"
        );
    }
    let report = app::audit::export::verify_db(&db).await.unwrap();
    assert_eq!(report.outcome, Ok(()));
    assert!(report.checked >= 2, "user created and signed in");
}
