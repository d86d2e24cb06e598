//! The e-mail server settings: one row, saved with its audit event, its password sealed or named
//! as an environment variable (the connector rules: a moved host needs the password again).

use chrono::{DateTime, Utc};
use serde_json::json;

use super::mail::{MailInput, MailSettings, Security};
use crate::{
    audit::repo::{append, Ctx, NewAuditEvent},
    conn_run,
    connectors::{
        model::{SecretInput, SecretSource},
        secret::SecretKey,
        service::resolve_secret,
    },
    db::{Conn, Db, DbError},
    error::AppError,
    tx_run,
};

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct MailRow {
    pub host: String,
    pub port: i64,
    pub security: String,
    pub username: String,
    pub secret_sealed: Option<String>,
    pub secret_env: Option<String>,
    pub from_address: String,
    pub updated_at: DateTime<Utc>,
}

impl MailRow {
    pub fn settings(&self) -> MailSettings {
        MailSettings {
            host: self.host.clone(),
            port: u16::try_from(self.port).unwrap_or(587),
            security: Security::parse(&self.security).unwrap_or(Security::StartTls),
            username: self.username.clone(),
            secret: match (&self.secret_env, &self.secret_sealed) {
                (Some(env), _) => SecretSource::Env(env.clone()),
                (None, Some(_)) => SecretSource::Stored,
                (None, None) => SecretSource::None,
            },
            from_address: self.from_address.clone(),
            updated_at: self.updated_at,
        }
    }

    /// The password, read at send time (an unset variable or a changed server key is an error
    /// the delivery list shows).
    pub fn password(&self, key: &SecretKey) -> Result<Option<String>, String> {
        let row = crate::connectors::repo::Row {
            id: 0,
            name: String::new(),
            kind: String::new(),
            base_url: String::new(),
            username: String::new(),
            secret_env: self.secret_env.clone(),
            secret_encrypted: self.secret_sealed.clone(),
            updated_at: self.updated_at,
            last_test_at: None,
            last_test_ok: None,
            last_test_report: None,
        };
        resolve_secret(&row, key)
    }
}

pub async fn get(conn: &mut Conn<'_>) -> Result<Option<MailRow>, DbError> {
    let sql = "SELECT host, port, security, username, secret_sealed, secret_env, from_address, updated_at \
               FROM mail_settings WHERE id = 1";
    Ok(conn_run!(conn, |c| sqlx::query_as(sql)
        .fetch_optional(c)
        .await)?)
}

fn snapshot(s: &MailSettings) -> serde_json::Value {
    json!({
        "host": s.host, "port": s.port, "security": s.security.as_str(), "username": s.username,
        "secret": match &s.secret { SecretSource::Env(v) => format!("env:{v}"), SecretSource::Stored => "stored".into(), SecretSource::None => "none".into() },
        "from_address": s.from_address,
    })
}

pub async fn save(db: &Db, ctx: &Ctx, key: &SecretKey, new: MailInput) -> Result<(), AppError> {
    let actor = ctx
        .actor
        .as_ref()
        .map(|a| a.id)
        .ok_or(AppError::Unauthenticated)?;
    let mut tx = db.begin().await?;
    let before = get(&mut Conn::Tx(&mut tx)).await?;
    let moved = before
        .as_ref()
        .is_some_and(|b| b.host != new.host || b.port != i64::from(new.port));
    let had_secret = before
        .as_ref()
        .is_some_and(|b| b.secret_env.is_some() || b.secret_sealed.is_some());
    if moved && had_secret && matches!(new.secret, SecretInput::Keep) {
        return Err(AppError::field(
            "secret",
            "the server moved to another host or port: enter the password (or its variable) again, so it is never sent to a server it was not meant for",
        ));
    }
    let (env, sealed) = match (&new.secret, &before) {
        (SecretInput::Env(v), _) => (Some(v.clone()), None),
        (SecretInput::Value(v), _) => (None, Some(key.seal(v))),
        (SecretInput::Keep, Some(b)) => (b.secret_env.clone(), b.secret_sealed.clone()),
        (SecretInput::Keep, None) => (None, None),
    };
    let now = Utc::now();
    let sql = "INSERT INTO mail_settings (id, host, port, security, username, secret_sealed, secret_env, from_address, updated_by, updated_at) \
               VALUES (1, $1, $2, $3, $4, $5, $6, $7, $8, $9) \
               ON CONFLICT (id) DO UPDATE SET host = excluded.host, port = excluded.port, security = excluded.security, \
               username = excluded.username, secret_sealed = excluded.secret_sealed, secret_env = excluded.secret_env, \
               from_address = excluded.from_address, updated_by = excluded.updated_by, updated_at = excluded.updated_at";
    tx_run!(&mut tx, |c| sqlx::query(sql)
        .bind(&new.host)
        .bind(i64::from(new.port))
        .bind(new.security.as_str())
        .bind(&new.username)
        .bind(&sealed)
        .bind(&env)
        .bind(&new.from_address)
        .bind(actor)
        .bind(now)
        .execute(c)
        .await
        .map(|_| ()))
    .map_err(DbError::from)?;
    let after = get(&mut Conn::Tx(&mut tx))
        .await?
        .ok_or(DbError::NotFound)?;
    let event = NewAuditEvent {
        action: "mail_settings.updated",
        entity_type: "mail_settings",
        entity_id: "1".into(),
        before: before
            .map(|b| snapshot(&b.settings()))
            .unwrap_or(serde_json::Value::Null),
        after: snapshot(&after.settings()),
    };
    append(&mut tx, ctx, event).await?;
    tx.commit().await?;
    Ok(())
}
