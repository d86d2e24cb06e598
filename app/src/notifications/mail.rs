//! The e-mail server Rollgate sends through: its settings as the admin form edits them.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::{
    connectors::model::{check_secret_env, SecretInput, SecretSource},
    error::AppError,
    validate::{self, Errors},
};

/// How the connection is protected. Plain SMTP is allowed only to this machine.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Security {
    StartTls,
    Tls,
    None,
}

impl Security {
    pub const ALL: [Security; 3] = [Self::StartTls, Self::Tls, Self::None];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::StartTls => "starttls",
            Self::Tls => "tls",
            Self::None => "none",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::StartTls => "STARTTLS (usually port 587)",
            Self::Tls => "TLS from the start (usually port 465)",
            Self::None => "None: only to a server on this machine",
        }
    }
}

/// The settings as the admin page shows them (the secret itself never leaves the server).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MailSettings {
    pub host: String,
    pub port: u16,
    pub security: Security,
    pub username: String,
    pub secret: SecretSource,
    pub from_address: String,
    pub updated_at: DateTime<Utc>,
}

/// The settings as the form sends them, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MailInput {
    pub host: String,
    pub port: u16,
    pub security: Security,
    pub username: String,
    pub secret: SecretInput,
    pub from_address: String,
}

/// Hosts plain SMTP may go to.
pub fn is_local(host: &str) -> bool {
    matches!(host, "localhost" | "127.0.0.1" | "::1" | "[::1]")
}

impl MailInput {
    pub fn parse(
        host: &str,
        port: &str,
        security: &str,
        username: &str,
        secret_env: &str,
        secret: &str,
        from_address: &str,
    ) -> Result<Self, AppError> {
        let mut e = Errors::default();
        let host = e.check(validate::text("host", host, 253, true, false));
        if host.contains(['/', ' ', ':']) && !host.starts_with('[') {
            e.push("host", "must be a host name or address, without a scheme or port (for example smtp.example.com)");
        }
        let port = match port.trim().parse::<u16>() {
            Ok(p) if p > 0 => p,
            _ => {
                e.push("port", "must be a port number from 1 to 65535");
                0
            }
        };
        let security = Security::parse(security.trim()).unwrap_or_else(|| {
            e.push("security", "choose STARTTLS, TLS or none");
            Security::StartTls
        });
        if security == Security::None && !host.is_empty() && !is_local(&host) {
            e.push("security", "plain SMTP sends passwords and messages readable on the way: it is allowed only to a server on this machine (localhost); choose STARTTLS or TLS");
        }
        let username = e.check(validate::text("username", username, 200, false, false));
        let secret = match (secret_env.trim(), secret) {
            ("", "") => SecretInput::Keep,
            (env, "") => match check_secret_env(env) {
                Ok(()) => SecretInput::Env(env.to_string()),
                Err(m) => {
                    e.push("secret_env", m);
                    SecretInput::Keep
                }
            },
            ("", value) if value.len() > 4096 => {
                e.push("secret", "is too long (at most 4096 characters)");
                SecretInput::Keep
            }
            ("", value) => SecretInput::Value(value.to_string()),
            _ => {
                e.push(
                    "secret",
                    "give either an environment variable or a password, not both",
                );
                SecretInput::Keep
            }
        };
        let from_address = e.check(validate::email("from_address", from_address));
        e.finish(Self {
            host,
            port,
            security,
            username,
            secret,
            from_address,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(host: &str, security: &str, from: &str) -> Result<MailInput, AppError> {
        MailInput::parse(host, "587", security, "", "", "", from)
    }

    #[test]
    fn plain_smtp_is_refused_to_any_other_machine() {
        let e = parse("smtp.example.com", "none", "rollgate@example.com").unwrap_err();
        assert!(e
            .field_message("security")
            .unwrap()
            .contains("only to a server on this machine"));
        assert!(parse("localhost", "none", "rollgate@example.com").is_ok());
    }

    #[test]
    fn each_bad_field_is_named() {
        let e = MailInput::parse("smtp://x", "0", "weird", "", "HOME", "", "not-an-address")
            .unwrap_err();
        for f in ["host", "port", "security", "secret_env", "from_address"] {
            assert!(e.field_message(f).is_some(), "{f} has no message: {e:?}");
        }
    }
}
