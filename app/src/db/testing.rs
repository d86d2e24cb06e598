//! Test databases: a fresh SQLite file per test, and a fresh PostgreSQL database per test when
//! `TEST_DATABASE_URL` names a server. `backend_test!` runs one body on both.

use super::{Db, DbSettings};

/// A database made for one test; `finish` removes it.
pub struct TestDb {
    pub db: Db,
    cleanup: Cleanup,
}

enum Cleanup {
    File(std::path::PathBuf),
    Database { admin_url: String, name: String },
}

fn unique(prefix: &str) -> String {
    format!("{prefix}{}", uuid::Uuid::new_v4().simple())
}

pub async fn sqlite() -> TestDb {
    let path = std::env::temp_dir().join(format!("{}.db", unique("rollgate-test-")));
    let settings = DbSettings {
        url: format!("sqlite://{}", path.display()),
        max_connections: 5,
    };
    let db = Db::connect(&settings).await.expect("sqlite test database");
    db.migrate().await.expect("sqlite migrations");
    TestDb {
        db,
        cleanup: Cleanup::File(path),
    }
}

/// The server named by `TEST_DATABASE_URL` (e.g. `postgres://postgres@127.0.0.1:5432/postgres`).
pub fn postgres_admin_url() -> String {
    std::env::var("TEST_DATABASE_URL")
        .expect("TEST_DATABASE_URL must name a PostgreSQL server for the postgres twins")
}

pub async fn postgres() -> TestDb {
    let admin_url = postgres_admin_url();
    let name = unique("rollgate_test_");
    let admin = Db::connect(&DbSettings {
        url: admin_url.clone(),
        max_connections: 1,
    })
    .await
    .expect("postgres admin connection");
    let Db::Postgres(pool) = &admin else {
        panic!("TEST_DATABASE_URL is not a postgres:// URL")
    };
    sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(pool)
        .await
        .expect("create test database");
    admin.close().await;
    let url = with_database(&admin_url, &name);
    let db = Db::connect(&DbSettings {
        url,
        max_connections: 5,
    })
    .await
    .expect("postgres test database");
    db.migrate().await.expect("postgres migrations");
    TestDb {
        db,
        cleanup: Cleanup::Database { admin_url, name },
    }
}

/// The same server URL pointing at database `name`.
pub fn with_database(url: &str, name: &str) -> String {
    let (base, query) = url
        .split_once('?')
        .map_or((url, None), |(b, q)| (b, Some(q)));
    let scheme_end = base.find("://").map_or(0, |i| i + 3);
    let root = match base[scheme_end..].find('/') {
        Some(i) => &base[..scheme_end + i],
        None => base,
    };
    match query {
        Some(q) => format!("{root}/{name}?{q}"),
        None => format!("{root}/{name}"),
    }
}

impl TestDb {
    /// A second, independent pool on the same database (another "server instance").
    pub async fn another_instance(&self) -> Db {
        let url = match (&self.cleanup, &self.db) {
            (Cleanup::Database { admin_url, name }, _) => with_database(admin_url, name),
            (Cleanup::File(path), _) => format!("sqlite://{}", path.display()),
        };
        Db::connect(&DbSettings {
            url,
            max_connections: 5,
        })
        .await
        .expect("second pool")
    }

    pub async fn finish(self) {
        self.db.close().await;
        match self.cleanup {
            Cleanup::File(path) => {
                for suffix in ["", "-wal", "-shm"] {
                    let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
                }
            }
            Cleanup::Database { admin_url, name } => {
                if let Ok(Db::Postgres(pool)) = Db::connect(&DbSettings {
                    url: admin_url,
                    max_connections: 1,
                })
                .await
                {
                    let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                        .execute(&pool)
                        .await;
                }
            }
        }
    }
}

/// Generates `<name>::sqlite` and `<name>::postgres` tests running `$body(db: &Db)`. The
/// PostgreSQL twin is ignored by default; `make test` includes it when PostgreSQL answers.
#[macro_export]
macro_rules! backend_test {
    ($name:ident, $body:ident) => {
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                let t = $crate::db::testing::sqlite().await;
                super::$body(&t).await;
                t.finish().await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            #[ignore = "needs PostgreSQL: set TEST_DATABASE_URL (make test does when it answers)"]
            async fn postgres() {
                let t = $crate::db::testing::postgres().await;
                super::$body(&t).await;
                t.finish().await;
            }
        }
    };
}

#[cfg(test)]
mod tests {
    use super::with_database;

    #[test]
    fn a_database_name_replaces_the_one_in_the_url() {
        assert_eq!(
            with_database("postgres://postgres@127.0.0.1:5432/postgres", "x"),
            "postgres://postgres@127.0.0.1:5432/x"
        );
        assert_eq!(
            with_database("postgres://h:5432", "x"),
            "postgres://h:5432/x"
        );
        assert_eq!(
            with_database("postgres://h/db?sslmode=disable", "x"),
            "postgres://h/x?sslmode=disable"
        );
    }
}
