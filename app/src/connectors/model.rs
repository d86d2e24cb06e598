use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::{
    error::AppError,
    validate::{self, Errors},
};

/// Which pipeline control API a connector speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConnectorKind {
    /// Apache Airflow 3 REST API (`/api/v2`, token from `/auth/token`).
    Airflow3,
    /// A signed webhook (Standard Webhooks: HMAC-SHA256).
    Webhook,
}

impl ConnectorKind {
    pub const ALL: [ConnectorKind; 2] = [Self::Airflow3, Self::Webhook];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Airflow3 => "airflow3",
            Self::Webhook => "webhook",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::Airflow3 => "Apache Airflow 3 (REST API)",
            Self::Webhook => "Signed webhook",
        }
    }
}

/// Where a connector's secret lives. The value itself is never sent back to a browser.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum SecretSource {
    None,
    /// Read from this environment variable of the server at call time.
    Env(String),
    /// Stored encrypted with the server's secret key.
    Stored,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Connector {
    pub id: i64,
    pub name: String,
    pub kind: ConnectorKind,
    pub base_url: String,
    /// The Airflow user the token is requested for.
    pub username: String,
    pub secret: SecretSource,
    pub updated_at: DateTime<Utc>,
    /// The last "test connection": when, and what it found.
    pub last_test: Option<(DateTime<Utc>, ProbeReport)>,
}

/// The secret as the form changes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SecretInput {
    /// Leave the stored secret as it is (edit with both fields blank).
    Keep,
    Env(String),
    Value(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewConnector {
    pub name: String,
    pub kind: ConnectorKind,
    pub base_url: String,
    pub username: String,
    pub secret: SecretInput,
}

impl NewConnector {
    pub fn parse(
        name: &str,
        kind: &str,
        base_url: &str,
        username: &str,
        secret_env: &str,
        secret: &str,
    ) -> Result<Self, AppError> {
        let mut e = Errors::default();
        let name = e.check(validate::text("name", name, 60, true, false));
        let kind = ConnectorKind::parse(kind.trim());
        if kind.is_none() {
            e.push("kind", "choose Airflow 3 or signed webhook");
        }
        let base_url = e
            .check(validate::url("base_url", base_url))
            .trim_end_matches('/')
            .to_string();
        let username = e.check(validate::text("username", username, 120, false, false));
        if kind == Some(ConnectorKind::Airflow3) && username.is_empty() {
            e.push(
                "username",
                "is required for Airflow: the user Rollgate signs in as",
            );
        }
        let env = secret_env.trim();
        let secret = match (env.is_empty(), secret.is_empty()) {
            (true, true) => SecretInput::Keep,
            (false, false) => {
                e.push(
                    "secret",
                    "give either an environment variable or a secret, not both",
                );
                SecretInput::Keep
            }
            (false, true) => match check_secret_env(env) {
                Ok(()) => SecretInput::Env(env.to_string()),
                Err(m) => {
                    e.push("secret_env", m);
                    SecretInput::Keep
                }
            },
            (true, false) => {
                if secret.len() > 4096 {
                    e.push("secret", "is too long (at most 4096 characters)");
                }
                SecretInput::Value(secret.to_string())
            }
        };
        e.finish(Self {
            name,
            kind: kind.unwrap_or(ConnectorKind::Webhook),
            base_url,
            username,
            secret,
        })
    }
}

/// Connector secrets may come only from variables with this prefix, so a connector can never
/// be pointed at another of the server's secrets (`DATABASE_URL`, `ROLLGATE_SECRET_KEY`) and
/// send it to a host of an administrator's choosing.
pub const SECRET_ENV_PREFIX: &str = "ROLLGATE_CONNECTOR_";

pub fn check_secret_env(name: &str) -> Result<(), String> {
    let rest = name.strip_prefix(SECRET_ENV_PREFIX).unwrap_or_default();
    if rest.is_empty() {
        return Err(format!(
            "must start with {SECRET_ENV_PREFIX} (for example {SECRET_ENV_PREFIX}AIRFLOW_PASSWORD): only those variables may hold connector secrets"
        ));
    }
    if !rest
        .chars()
        .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
    {
        return Err("must be an environment variable name: capital letters, digits and _".into());
    }
    Ok(())
}

/// `https://airflow.example.com:8080`: where a URL sends what it is given.
pub fn origin(url: &str) -> String {
    let (scheme, rest) = url.split_once("://").unwrap_or(("", url));
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    format!("{}://{}", scheme.to_lowercase(), authority.to_lowercase())
}

/// What "test connection" found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProbeReport {
    pub ok: bool,
    /// One finding per line, in the order they were checked.
    pub findings: Vec<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn airflow_needs_a_user_and_one_secret_source() {
        let err = NewConnector::parse(
            "prod",
            "airflow3",
            "https://airflow.example.com/",
            "",
            "AIRFLOW_PW",
            "pw",
        )
        .unwrap_err();
        assert!(err.field_message("username").is_some());
        assert!(err.field_message("secret").is_some());
        let ok = NewConnector::parse(
            "prod",
            "airflow3",
            "https://airflow.example.com/",
            "rollgate",
            "ROLLGATE_CONNECTOR_AIRFLOW_PW",
            "",
        )
        .unwrap();
        assert_eq!(ok.base_url, "https://airflow.example.com");
        assert_eq!(
            ok.secret,
            SecretInput::Env("ROLLGATE_CONNECTOR_AIRFLOW_PW".into())
        );
        let err = NewConnector::parse("prod", "webhook", "ftp://x", "", "1BAD", "").unwrap_err();
        assert!(
            err.field_message("base_url").is_some() && err.field_message("secret_env").is_some()
        );
    }

    #[test]
    fn a_secret_may_come_only_from_a_connector_variable() {
        for other in [
            "ROLLGATE_SECRET_KEY",
            "DATABASE_URL",
            "ROLLGATE_CONNECTOR_",
            "HOME",
        ] {
            let err = NewConnector::parse("p", "webhook", "https://h.example", "", other, "")
                .unwrap_err();
            assert!(
                err.field_message("secret_env")
                    .is_some_and(|m| m.contains("ROLLGATE_CONNECTOR_")),
                "{other}"
            );
        }
        assert!(check_secret_env("ROLLGATE_CONNECTOR_lower").is_err());
        assert!(check_secret_env("ROLLGATE_CONNECTOR_HOOK_1").is_ok());
    }

    #[test]
    fn an_origin_is_scheme_host_and_port() {
        assert_eq!(
            origin("https://Air.example.com:8080/api?x=1"),
            "https://air.example.com:8080"
        );
        assert_ne!(
            origin("https://a.example"),
            origin("https://a.example.evil.example")
        );
        assert_eq!(origin("https://a.example/x"), origin("https://a.example/y"));
    }
}
