use std::{str::FromStr, time::Duration};

use sqlx::{
    migrate::Migrator,
    postgres::{PgConnectOptions, PgPoolOptions},
    sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous},
    PgPool, Postgres, Sqlite, SqlitePool, Transaction,
};

use super::DbError;

static SQLITE_MIGRATIONS: Migrator = sqlx::migrate!("../migrations/sqlite");
static POSTGRES_MIGRATIONS: Migrator = sqlx::migrate!("../migrations/postgres");

/// SQLite cannot drop a constraint, only rebuild the table, and a rebuild needs foreign keys off
/// (a pragma that has no effect inside the migration's transaction). So migrations run on one
/// connection with foreign keys off, and every reference is checked before it is handed back.
async fn migrate_sqlite(pool: &SqlitePool) -> Result<(), sqlx::migrate::MigrateError> {
    let mut conn = pool.acquire().await?;
    sqlx::query("PRAGMA foreign_keys = OFF")
        .execute(&mut *conn)
        .await?;
    let result = SQLITE_MIGRATIONS.run(&mut *conn).await;
    let broken: Vec<(String,)> = sqlx::query_as("SELECT \"table\" FROM pragma_foreign_key_check")
        .fetch_all(&mut *conn)
        .await?;
    sqlx::query("PRAGMA foreign_keys = ON")
        .execute(&mut *conn)
        .await?;
    if let Some((table,)) = broken.first() {
        return Err(sqlx::migrate::MigrateError::Execute(sqlx::Error::Protocol(
            format!("a migration left rows of `{table}` pointing at nothing"),
        )));
    }
    result
}

/// Which database engine a URL points at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    pub fn from_url(url: &str) -> Option<Self> {
        if url.starts_with("sqlite:") {
            Some(Self::Sqlite)
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Some(Self::Postgres)
        } else {
            None
        }
    }
}

/// How to reach the database.
#[derive(Clone)]
pub struct DbSettings {
    pub url: String,
    pub max_connections: u32,
}

/// A connection pool of either backend.
#[derive(Clone, Debug)]
pub enum Db {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

/// An open transaction of either backend.
pub enum Tx {
    Sqlite(Transaction<'static, Sqlite>),
    Postgres(Transaction<'static, Postgres>),
}

/// Either a pool or an open transaction: what read functions run on.
pub enum Conn<'a> {
    Db(&'a Db),
    Tx(&'a mut Tx),
}

impl<'a> From<&'a Db> for Conn<'a> {
    fn from(db: &'a Db) -> Self {
        Conn::Db(db)
    }
}

impl<'a> From<&'a mut Tx> for Conn<'a> {
    fn from(tx: &'a mut Tx) -> Self {
        Conn::Tx(tx)
    }
}

impl Conn<'_> {
    pub fn backend(&self) -> Backend {
        match self {
            Conn::Db(db) => db.backend(),
            Conn::Tx(Tx::Sqlite(_)) => Backend::Sqlite,
            Conn::Tx(Tx::Postgres(_)) => Backend::Postgres,
        }
    }
}

impl Db {
    /// Connects without running migrations; SQLite files are created when missing.
    pub async fn connect(settings: &DbSettings) -> anyhow::Result<Self> {
        let backend = Backend::from_url(&settings.url).ok_or_else(|| {
            anyhow::anyhow!(
                "DATABASE_URL must start with sqlite: or postgres:// (got another scheme)"
            )
        })?;
        Ok(match backend {
            Backend::Sqlite => {
                let options = SqliteConnectOptions::from_str(&settings.url)?
                    .create_if_missing(true)
                    .journal_mode(SqliteJournalMode::Wal)
                    .synchronous(SqliteSynchronous::Normal)
                    .busy_timeout(Duration::from_secs(10))
                    .foreign_keys(true);
                let pool = SqlitePoolOptions::new()
                    .max_connections(settings.max_connections)
                    .connect_with(options)
                    .await?;
                Self::Sqlite(pool)
            }
            Backend::Postgres => {
                let options = PgConnectOptions::from_str(&settings.url)?;
                let pool = PgPoolOptions::new()
                    .max_connections(settings.max_connections)
                    .acquire_timeout(Duration::from_secs(10))
                    .connect_with(options)
                    .await?;
                Self::Postgres(pool)
            }
        })
    }

    pub fn backend(&self) -> Backend {
        match self {
            Self::Sqlite(_) => Backend::Sqlite,
            Self::Postgres(_) => Backend::Postgres,
        }
    }

    /// Applies the embedded migrations of this backend.
    pub async fn migrate(&self) -> Result<(), sqlx::migrate::MigrateError> {
        match self {
            Self::Sqlite(pool) => migrate_sqlite(pool).await,
            Self::Postgres(pool) => POSTGRES_MIGRATIONS.run(pool).await,
        }
    }

    /// True when every embedded migration has been applied (for `/readyz`).
    pub async fn migrations_applied(&self) -> Result<bool, DbError> {
        let wanted = match self {
            Self::Sqlite(_) => SQLITE_MIGRATIONS.iter().count(),
            Self::Postgres(_) => POSTGRES_MIGRATIONS.iter().count(),
        };
        let sql = "SELECT COUNT(*) FROM _sqlx_migrations WHERE success";
        let applied: i64 = crate::db_run!(self, |c| sqlx::query_scalar(sql).fetch_one(c).await)?;
        Ok(applied as usize >= wanted)
    }

    /// Checks that the database answers.
    pub async fn ping(&self) -> Result<(), DbError> {
        let _: i32 = crate::db_run!(self, |c| sqlx::query_scalar("SELECT 1").fetch_one(c).await)?;
        Ok(())
    }

    /// Starts a transaction. SQLite transactions take the write lock up front (`BEGIN
    /// IMMEDIATE`), so two writers queue on the busy timeout instead of failing to upgrade.
    pub async fn begin(&self) -> Result<Tx, DbError> {
        Ok(match self {
            Self::Sqlite(pool) => Tx::Sqlite(pool.begin_with("BEGIN IMMEDIATE").await?),
            Self::Postgres(pool) => Tx::Postgres(pool.begin().await?),
        })
    }

    pub async fn close(&self) {
        match self {
            Self::Sqlite(pool) => pool.close().await,
            Self::Postgres(pool) => pool.close().await,
        }
    }
}

impl Tx {
    pub async fn commit(self) -> Result<(), DbError> {
        match self {
            Self::Sqlite(tx) => tx.commit().await?,
            Self::Postgres(tx) => tx.commit().await?,
        }
        Ok(())
    }

    /// Rolls back now. Dropping a transaction also rolls it back, but only once its connection
    /// is next touched: until then its row locks hold (a `SKIP LOCKED` claim passes the row by).
    pub async fn rollback(self) -> Result<(), DbError> {
        match self {
            Self::Sqlite(tx) => tx.rollback().await?,
            Self::Postgres(tx) => tx.rollback().await?,
        }
        Ok(())
    }
}

impl std::fmt::Debug for DbSettings {
    /// Redacts the password of a PostgreSQL URL.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DbSettings")
            .field("url", &redact_url(&self.url))
            .field("max_connections", &self.max_connections)
            .finish()
    }
}

/// `postgres://user:secret@host/db` → `postgres://user:***@host/db`.
pub fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            let creds = &url[scheme_end + 3..at];
            match creds.split_once(':') {
                Some((user, _)) => format!("{}{}:***{}", &url[..scheme_end + 3], user, &url[at..]),
                None => url.to_string(),
            }
        }
        _ => url.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn database_urls_are_redacted_in_debug_output() {
        assert_eq!(
            redact_url("postgres://app:hunter2@db:5432/x"),
            "postgres://app:***@db:5432/x"
        );
        assert_eq!(
            redact_url("sqlite://data/rollgate.db"),
            "sqlite://data/rollgate.db"
        );
    }

    #[test]
    fn the_backend_is_chosen_by_url_scheme() {
        assert_eq!(Backend::from_url("sqlite://x.db"), Some(Backend::Sqlite));
        assert_eq!(
            Backend::from_url("postgresql://h/db"),
            Some(Backend::Postgres)
        );
        assert_eq!(Backend::from_url("mysql://h/db"), None);
    }
}

#[cfg(test)]
mod rebuild_tests {
    use super::*;

    /// An installation from before plans could be redrafted: its plan and revisions survive the
    /// table rebuild, and the change can get a second plan once the first is withdrawn.
    #[tokio::test]
    async fn the_plans_rebuild_keeps_existing_rows_and_their_references() {
        let path =
            std::env::temp_dir().join(format!("rollgate-rebuild-{}.db", uuid::Uuid::new_v4()));
        let db = Db::connect(&DbSettings {
            url: format!("sqlite://{}", path.display()),
            max_connections: 2,
        })
        .await
        .unwrap();
        let Db::Sqlite(pool) = &db else {
            unreachable!()
        };
        let before = Migrator {
            migrations: SQLITE_MIGRATIONS
                .migrations
                .iter()
                .filter(|m| m.version < 8)
                .cloned()
                .collect::<Vec<_>>()
                .into(),
            ..sqlx::migrate!("../migrations/sqlite")
        };
        before.run(pool).await.unwrap();
        let t = "2026-11-20 10:00:00+00:00";
        for sql in [
            format!("INSERT INTO users (id, username, username_lower, display_name, password_hash, created_at, updated_at) VALUES (1, 'rita', 'rita', 'Rita', 'x', '{t}', '{t}')"),
            format!("INSERT INTO changes (id, title, title_lower, kind, why, author_id, deployed_at, created_at, updated_at) VALUES (1, 'C', 'c', 'other', 'w', 1, '{t}', '{t}', '{t}')"),
            format!("INSERT INTO plans (id, change_id, author_id, status, current_revision, created_at, updated_at) VALUES (7, 1, 1, 'draft', 1, '{t}', '{t}')"),
            format!("INSERT INTO plan_revisions (plan_id, number, content_hash, body_json, author_id, created_at) VALUES (7, 1, 'h', '{{}}', 1, '{t}')"),
        ] {
            sqlx::query(&sql).execute(pool).await.unwrap();
        }
        db.migrate().await.unwrap();
        let kept: (i64, String) = sqlx::query_as(
            "SELECT p.id, r.content_hash FROM plans p JOIN plan_revisions r ON r.plan_id = p.id",
        )
        .fetch_one(pool)
        .await
        .unwrap();
        assert_eq!(kept, (7, "h".to_string()));
        let second = format!("INSERT INTO plans (change_id, author_id, status, current_revision, created_at, updated_at) VALUES (1, 1, 'draft', 1, '{t}', '{t}')");
        assert!(
            sqlx::query(&second).execute(pool).await.is_err(),
            "one open plan per change"
        );
        sqlx::query("UPDATE plans SET status = 'withdrawn' WHERE id = 7")
            .execute(pool)
            .await
            .unwrap();
        sqlx::query(&second).execute(pool).await.unwrap();
        let fk: bool = sqlx::query_scalar("PRAGMA foreign_keys")
            .fetch_one(pool)
            .await
            .unwrap();
        assert!(fk, "foreign keys are on again");
        db.close().await;
        let _ = std::fs::remove_file(&path);
    }
}
