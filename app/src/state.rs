//! What every server function and page can reach on the server.

use axum::extract::FromRef;
use leptos::config::LeptosOptions;

use crate::db::Db;

/// Sign-in hardening knobs, from the server's settings.
#[derive(Debug, Clone)]
pub struct SecuritySettings {
    /// Consecutive failures that lock a username.
    pub max_failed_logins: i64,
    /// How long a lock lasts.
    pub lockout: chrono::Duration,
    /// Where this server checks sign-in passwords (bounded: a flood is shed with 503).
    pub passwords: crate::auth::password::PasswordPool,
}

impl Default for SecuritySettings {
    fn default() -> Self {
        Self {
            max_failed_logins: 5,
            lockout: chrono::Duration::minutes(15),
            passwords: crate::auth::password::PasswordPool::for_this_machine(),
        }
    }
}

#[derive(Clone, FromRef)]
pub struct AppState {
    pub leptos_options: LeptosOptions,
    pub db: Db,
    pub security: SecuritySettings,
    /// Seals connector secrets at rest.
    pub secret_key: crate::connectors::secret::SecretKey,
    /// Days from today to an action item's default due date, per priority.
    pub due_defaults: crate::action_items::model::DueDefaults,
}
