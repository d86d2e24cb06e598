//! Sign-in and sign-out: every attempt is counted before its password is checked, known and
//! unknown names cost the same, and nothing a person typed by mistake is kept in the log.

use chrono::{DateTime, Utc};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use super::{
    password::{verify_password, PasswordError},
    repo::{self, Attempt},
};
use crate::{
    audit::{
        repo::{append, Ctx, NewAuditEvent},
        Actor,
    },
    db::{Conn, Db},
    error::{internal, AppError, FieldError},
    state::SecuritySettings,
    users::repo::{find_credentials, Credentials},
};

/// Seconds a client is told to wait when every password check is busy.
pub const BUSY_RETRY_SECONDS: u32 = 2;

/// Checks a username and password; on success returns the user id. Failures are counted per
/// attempted name and audited; the message never says which of the two was wrong.
#[tracing::instrument(skip_all)]
pub async fn login(
    db: &Db,
    security: &SecuritySettings,
    username: &str,
    password: &str,
    request_id: Option<String>,
) -> Result<i64, AppError> {
    let name = validate(username, password)?;
    let creds = find_credentials(&mut Conn::Db(db), &name).await?;
    let attempt = Attempted::new(&name, creds, request_id);
    let now = Utc::now();
    let mut tx = db.begin().await?;
    let counted = repo::begin_attempt(
        &mut tx,
        &attempt.key,
        now,
        security.max_failed_logins,
        security.lockout,
    )
    .await?;
    tx.commit().await?;
    let failures = match counted {
        // Refused without a check, and not audited one by one: the lock's start is, and a
        // flood against a locked name must not grow the append-only log.
        Attempt::Locked(until) => {
            tracing::info!(key = %attempt.key, "sign-in refused: the name is locked");
            return Err(locked(until, now));
        }
        Attempt::Counted(n) => n,
    };
    // A service account has no password: it costs a dummy check and never matches.
    let hash = attempt
        .creds
        .as_ref()
        .filter(|c| c.kind != "service")
        .map(|c| c.password_hash.clone());
    let password_ok = match verify_password(&security.passwords, password.to_string(), hash).await {
        Ok(ok) => ok,
        Err(PasswordError::Busy) => {
            let mut tx = db.begin().await?;
            repo::refund_attempt(&mut tx, &attempt.key).await?;
            tx.commit().await?;
            return Err(AppError::Busy {
                seconds: BUSY_RETRY_SECONDS,
            });
        }
        Err(PasswordError::Failed(e)) => return Err(internal(e)),
    };
    match &attempt.creds {
        Some(c) if password_ok && c.active => attempt.succeed(db, c.clone()).await,
        Some(_) if password_ok => {
            attempt
                .clear_and_record(db, attempt.failed("deactivated", None))
                .await?;
            Err(AppError::AccountDeactivated)
        }
        _ => attempt.fail(db, security, failures, now).await,
    }
}

fn validate(username: &str, password: &str) -> Result<String, AppError> {
    let mut errors = Vec::new();
    if username.trim().is_empty() {
        errors.push(FieldError::new("username", "enter your username"));
    }
    if password.is_empty() {
        errors.push(FieldError::new("password", "enter your password"));
    }
    if !errors.is_empty() {
        return Err(AppError::Validation { fields: errors });
    }
    Ok(username
        .trim()
        .to_lowercase()
        .chars()
        .filter(|c| !c.is_control())
        .take(64)
        .collect())
}

/// One sign-in attempt: the name as it may be recorded, and its throttle key.
struct Attempted {
    creds: Option<Credentials>,
    /// Known names are counted under their own name. Unknown ones share one of 4096 buckets
    /// (by hash): the table stays bounded under a flood of random names, it never holds what
    /// was typed, and an unknown name still locks like a known one (no way to tell them apart).
    key: String,
    /// What the audit log may say about the name: a known username, or for an unknown one
    /// only its first two characters and its length (people type passwords into that field).
    shown: Value,
    entity: (&'static str, String),
    ctx: Ctx,
}

impl Attempted {
    fn new(name: &str, creds: Option<Credentials>, request_id: Option<String>) -> Self {
        let ctx = Ctx {
            actor: None,
            request_id,
        };
        match &creds {
            Some(c) => Self {
                key: name.to_string(),
                shown: json!({ "username": c.username }),
                entity: ("user", c.id.to_string()),
                creds,
                ctx,
            },
            None => {
                let digest = Sha256::digest(name.as_bytes());
                let bucket = (u16::from(digest[0]) << 4) | (u16::from(digest[1]) >> 4);
                let prefix: String = name.chars().take(2).collect();
                Self {
                    key: format!("unknown:{bucket:03x}"),
                    shown: json!({
                        "username": null,
                        "unknown_name": { "starts_with": prefix, "length": name.chars().count() },
                    }),
                    entity: ("login", "unknown".into()),
                    creds,
                    ctx,
                }
            }
        }
    }

    fn event(&self, action: &'static str, extra: Value) -> NewAuditEvent {
        let mut after = self.shown.clone();
        if let (Some(after), Value::Object(extra)) = (after.as_object_mut(), extra) {
            after.extend(extra);
        }
        NewAuditEvent {
            action,
            entity_type: self.entity.0,
            entity_id: self.entity.1.clone(),
            before: Value::Null,
            after,
        }
    }

    fn failed(&self, reason: &str, failures: Option<i64>) -> NewAuditEvent {
        let service = self.creds.as_ref().is_some_and(|c| c.kind == "service");
        let reason = match (reason, self.creds.is_some()) {
            ("wrong_password", false) => "unknown_user",
            ("wrong_password", true) if service => "service_account",
            (r, _) => r,
        };
        self.event(
            "auth.login_failed",
            json!({ "reason": reason, "failures": failures }),
        )
    }

    async fn clear_and_record(&self, db: &Db, event: NewAuditEvent) -> Result<(), AppError> {
        let mut tx = db.begin().await?;
        repo::clear_failures(&mut tx, &self.key).await?;
        append(&mut tx, &self.ctx, event).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn succeed(&self, db: &Db, creds: Credentials) -> Result<i64, AppError> {
        let ctx = Ctx::user(
            Actor {
                id: creds.id,
                username: creds.username.clone(),
            },
            self.ctx.request_id.clone(),
        );
        let mut tx = db.begin().await?;
        repo::clear_failures(&mut tx, &self.key).await?;
        append(&mut tx, &ctx, self.event("auth.login_succeeded", json!({}))).await?;
        tx.commit().await?;
        Ok(creds.id)
    }

    async fn fail(
        &self,
        db: &Db,
        security: &SecuritySettings,
        failures: i64,
        now: DateTime<Utc>,
    ) -> Result<i64, AppError> {
        let mut tx = db.begin().await?;
        append(
            &mut tx,
            &self.ctx,
            self.failed("wrong_password", Some(failures)),
        )
        .await?;
        let lock = (failures >= security.max_failed_logins).then(|| now + security.lockout);
        if let Some(until) = lock {
            repo::lock(&mut tx, &self.key, failures, until).await?;
            let extra = json!({ "locked_until": until.to_rfc3339(), "failures": failures });
            append(
                &mut tx,
                &self.ctx,
                self.event("auth.lockout_started", extra),
            )
            .await?;
        }
        tx.commit().await?;
        Err(match lock {
            Some(until) => locked(until, now),
            None => AppError::InvalidCredentials,
        })
    }
}

fn locked(until: DateTime<Utc>, now: DateTime<Utc>) -> AppError {
    let seconds = (until - now).num_seconds().max(1);
    AppError::Locked {
        minutes: (seconds + 59) / 60,
    }
}

/// Records a sign-out by `actor`.
pub async fn logout(db: &Db, ctx: &Ctx) -> Result<(), AppError> {
    let Some(actor) = &ctx.actor else {
        return Ok(());
    };
    let event = NewAuditEvent {
        action: "auth.logout",
        entity_type: "user",
        entity_id: actor.id.to_string(),
        before: Value::Null,
        after: json!({"username": actor.username}),
    };
    let mut tx = db.begin().await?;
    append(&mut tx, ctx, event).await?;
    tx.commit().await?;
    Ok(())
}
