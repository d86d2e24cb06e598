//! Typed settings: defaults that need no file, then an optional TOML file, then environment
//! variables (`ROLLGATE_*`, and the conventional `DATABASE_URL`), which win.

use std::path::Path;

use anyhow::Context;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct Settings {
    pub application: ApplicationSettings,
    pub database: DatabaseSettings,
    pub session: SessionSettings,
    pub security: SecuritySettings,
    pub log: LogSettings,
    pub worker: WorkerSettings,
    pub action_items: ActionItemSettings,
    pub notifications: NotificationSettings,
}

/// Sending notifications (the e-mail server itself is set on the admin Notifications page).
#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct NotificationSettings {
    /// Where people reach this server: links in messages start with it (`ROLLGATE_PUBLIC_URL`).
    pub public_url: String,
    /// Attempts before a delivery is given up as failed.
    pub max_attempts: i64,
    /// The wait after a first failed attempt, doubling after each.
    pub first_backoff_seconds: i64,
}

impl Default for NotificationSettings {
    fn default() -> Self {
        Self {
            public_url: "http://127.0.0.1:3000".into(),
            max_attempts: 8,
            first_backoff_seconds: 30,
        }
    }
}

/// Postmortem action items.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct ActionItemSettings {
    /// Days from today to the default due date: `{ urgent = 3, high = 7, medium = 30, low = 90 }`.
    pub due_days: app::action_items::model::DueDefaults,
}

/// The worker that carries out signed-off rollbacks (inside `serve`, or alone: `rollgate worker`).
#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct WorkerSettings {
    /// Run the worker inside `serve`.
    pub enabled: bool,
    /// Fallback poll for due jobs when no wake-up arrives.
    pub poll_seconds: u64,
    /// Jobs carried out at once by one process.
    pub concurrency: usize,
    /// A claim lasts this long without renewal; a dead worker's job is then taken over.
    pub lease_seconds: i64,
}

impl Default for WorkerSettings {
    fn default() -> Self {
        Self {
            enabled: true,
            poll_seconds: 5,
            concurrency: 4,
            lease_seconds: 60,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct ApplicationSettings {
    pub host: String,
    pub port: u16,
    /// Where cargo-leptos puts the built site (`/pkg`, assets).
    pub site_root: String,
}

#[derive(Clone, Deserialize)]
#[serde(default)]
pub struct DatabaseSettings {
    pub url: SecretString,
    pub max_connections: u32,
    /// Apply migrations when the server starts. Turn off where the server runs as an
    /// application role that owns nothing (`rollgate migrate --grant-to`): it then only checks
    /// that the database is up to date, and refuses to start if it is not.
    pub migrate_on_start: bool,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct SessionSettings {
    /// Send the cookie over HTTPS only (turn on behind TLS).
    pub secure_cookie: bool,
    pub idle_timeout_minutes: i64,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct SecuritySettings {
    pub max_failed_logins: i64,
    pub lockout_minutes: i64,
    /// Base64 of 32 bytes that seal connector secrets. When unset, a key file is used (and
    /// created at first start): `secret_key_file`.
    pub secret_key: Option<SecretString>,
    pub secret_key_file: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct LogSettings {
    /// `pretty` or `json`.
    pub format: String,
    /// An `EnvFilter` directive; `RUST_LOG` wins.
    pub filter: String,
}

impl Default for ApplicationSettings {
    fn default() -> Self {
        Self {
            host: "127.0.0.1".into(),
            port: 3000,
            site_root: "target/site".into(),
        }
    }
}

impl Default for SessionSettings {
    fn default() -> Self {
        Self {
            secure_cookie: false,
            idle_timeout_minutes: 8 * 60,
        }
    }
}

impl Default for SecuritySettings {
    fn default() -> Self {
        Self {
            max_failed_logins: 5,
            lockout_minutes: 15,
            secret_key: None,
            secret_key_file: "data/secret.key".into(),
        }
    }
}

impl Default for LogSettings {
    fn default() -> Self {
        Self {
            format: "pretty".into(),
            filter: "info,sqlx=warn,tower_sessions=warn".into(),
        }
    }
}

impl Default for DatabaseSettings {
    fn default() -> Self {
        Self {
            url: SecretString::from("sqlite://data/rollgate.db"),
            max_connections: 10,
            migrate_on_start: true,
        }
    }
}

impl std::fmt::Debug for DatabaseSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DatabaseSettings")
            .field("url", &app::db::redact_url(self.url.expose_secret()))
            .field("max_connections", &self.max_connections)
            .finish()
    }
}

impl DatabaseSettings {
    pub fn db_settings(&self) -> app::db::DbSettings {
        app::db::DbSettings {
            url: self.url.expose_secret().to_string(),
            max_connections: self.max_connections,
        }
    }
}

impl Settings {
    /// Loads settings from `file` (if given, or `rollgate.toml` when present) and the environment.
    pub fn load(file: Option<&Path>) -> anyhow::Result<Self> {
        let default_file = Path::new("rollgate.toml");
        let file = file.or_else(|| default_file.exists().then_some(default_file));
        let mut settings = match file {
            Some(path) => {
                let text = std::fs::read_to_string(path)
                    .with_context(|| format!("cannot read settings file {}", path.display()))?;
                toml::from_str(&text)
                    .with_context(|| format!("settings file {} is invalid", path.display()))?
            }
            None => Settings::default(),
        };
        settings.apply_env(|k| std::env::var(k).ok())?;
        Ok(settings)
    }

    fn apply_env(&mut self, var: impl Fn(&str) -> Option<String>) -> anyhow::Result<()> {
        fn parse<T: std::str::FromStr>(name: &str, v: String) -> anyhow::Result<T> {
            v.parse().map_err(|_| {
                anyhow::anyhow!("environment variable {name} has an invalid value {v:?}")
            })
        }
        if let Some(v) = var("ROLLGATE_HOST") {
            self.application.host = v;
        }
        if let Some(v) = var("ROLLGATE_PORT") {
            self.application.port = parse("ROLLGATE_PORT", v)?;
        }
        if let Some(v) = var("ROLLGATE_SITE_ROOT") {
            self.application.site_root = v;
        }
        if let Some(v) = var("ROLLGATE_PUBLIC_URL") {
            self.notifications.public_url = v;
        }
        if let Some(v) = var("DATABASE_URL").or_else(|| var("ROLLGATE_DATABASE_URL")) {
            self.database.url = SecretString::from(v);
        }
        if let Some(v) = var("ROLLGATE_DB_MAX_CONNECTIONS") {
            self.database.max_connections = parse("ROLLGATE_DB_MAX_CONNECTIONS", v)?;
        }
        if let Some(v) = var("ROLLGATE_MIGRATE_ON_START") {
            self.database.migrate_on_start = parse("ROLLGATE_MIGRATE_ON_START", v)?;
        }
        if let Some(v) = var("ROLLGATE_SECURE_COOKIE") {
            self.session.secure_cookie = parse("ROLLGATE_SECURE_COOKIE", v)?;
        }
        if let Some(v) = var("ROLLGATE_MAX_FAILED_LOGINS") {
            self.security.max_failed_logins = parse("ROLLGATE_MAX_FAILED_LOGINS", v)?;
        }
        if let Some(v) = var("ROLLGATE_LOCKOUT_MINUTES") {
            self.security.lockout_minutes = parse("ROLLGATE_LOCKOUT_MINUTES", v)?;
        }
        if let Some(v) = var("ROLLGATE_SECRET_KEY") {
            self.security.secret_key = Some(v.into());
        }
        if let Some(v) = var("ROLLGATE_SECRET_KEY_FILE") {
            self.security.secret_key_file = v;
        }
        if let Some(v) = var("ROLLGATE_WORKER") {
            self.worker.enabled = parse("ROLLGATE_WORKER", v)?;
        }
        if let Some(v) = var("ROLLGATE_WORKER_CONCURRENCY") {
            self.worker.concurrency = parse("ROLLGATE_WORKER_CONCURRENCY", v)?;
        }
        if let Some(v) = var("ROLLGATE_WORKER_LEASE_SECONDS") {
            self.worker.lease_seconds = parse("ROLLGATE_WORKER_LEASE_SECONDS", v)?;
        }
        if let Some(v) = var("ROLLGATE_WORKER_POLL_SECONDS") {
            self.worker.poll_seconds = parse("ROLLGATE_WORKER_POLL_SECONDS", v)?;
        }
        if let Some(v) = var("ROLLGATE_LOG_FORMAT") {
            self.log.format = v;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_use_an_embedded_sqlite_database_under_data() {
        let s = Settings::default();
        assert_eq!(s.database.url.expose_secret(), "sqlite://data/rollgate.db");
        assert_eq!(s.application.port, 3000);
    }

    #[test]
    fn environment_variables_win_and_bad_values_are_named() {
        let mut s = Settings::default();
        s.apply_env(|k| (k == "DATABASE_URL").then(|| "postgres://u:pw@h/db".to_string()))
            .unwrap();
        assert!(format!("{:?}", s.database).contains("u:***@h"));
        let err = s
            .apply_env(|k| (k == "ROLLGATE_PORT").then(|| "eighty".to_string()))
            .unwrap_err();
        assert!(err.to_string().contains("ROLLGATE_PORT"));
    }

    #[test]
    fn a_toml_file_sets_only_what_it_names() {
        let s: Settings = toml::from_str("[application]\nport = 8080\n").unwrap();
        assert_eq!(s.application.port, 8080);
        assert_eq!(s.application.host, "127.0.0.1");
    }
}
