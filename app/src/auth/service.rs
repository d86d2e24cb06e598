//! Sign-in and sign-out: constant-time-ish credential checks, throttling, and their audit events.

use chrono::{DateTime, Utc};
use serde_json::{json, Value};

use super::{password::verify_password, repo};
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
    let now = Utc::now();
    if let Some(until) = repo::locked_until(&mut Conn::Db(db), &name, now).await? {
        let creds = find_credentials(&mut Conn::Db(db), &name).await?;
        record(
            db,
            &Ctx {
                actor: None,
                request_id,
            },
            failed(&name, creds.as_ref(), "locked", None),
        )
        .await?;
        return Err(locked(until, now));
    }
    let creds = find_credentials(&mut Conn::Db(db), &name).await?;
    let hash = creds.as_ref().map(|c| c.password_hash.clone());
    let password_ok = verify_password(password.to_string(), hash)
        .await
        .map_err(internal)?;
    match creds {
        Some(c) if password_ok && c.active => succeed(db, c, &name, request_id).await,
        Some(c) if password_ok => {
            record(
                db,
                &Ctx {
                    actor: None,
                    request_id,
                },
                failed(&name, Some(&c), "deactivated", None),
            )
            .await?;
            Err(AppError::AccountDeactivated)
        }
        creds => fail(db, security, &name, creds.as_ref(), request_id, now).await,
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
    // Names longer than any valid username are kept short in the throttle table and the log.
    Ok(username
        .trim()
        .to_lowercase()
        .chars()
        .filter(|c| !c.is_control())
        .take(64)
        .collect())
}

async fn succeed(
    db: &Db,
    creds: Credentials,
    name: &str,
    request_id: Option<String>,
) -> Result<i64, AppError> {
    let ctx = Ctx::user(
        Actor {
            id: creds.id,
            username: creds.username.clone(),
        },
        request_id,
    );
    let mut tx = db.begin().await?;
    repo::clear_failures(&mut tx, name).await?;
    let event = NewAuditEvent {
        action: "auth.login_succeeded",
        entity_type: "user",
        entity_id: creds.id.to_string(),
        before: Value::Null,
        after: json!({"username": creds.username}),
    };
    append(&mut tx, &ctx, event).await?;
    tx.commit().await?;
    Ok(creds.id)
}

async fn fail(
    db: &Db,
    security: &SecuritySettings,
    name: &str,
    creds: Option<&Credentials>,
    request_id: Option<String>,
    now: DateTime<Utc>,
) -> Result<i64, AppError> {
    let ctx = Ctx {
        actor: None,
        request_id,
    };
    let mut tx = db.begin().await?;
    let (failures, lock) = repo::record_failure(
        &mut tx,
        name,
        now,
        security.max_failed_logins,
        security.lockout,
    )
    .await?;
    let reason = if creds.is_some() {
        "wrong_password"
    } else {
        "unknown_user"
    };
    append(&mut tx, &ctx, failed(name, creds, reason, Some(failures))).await?;
    if let Some(until) = lock {
        let (entity_type, entity_id) = entity(name, creds);
        let after =
            json!({"username": name, "locked_until": until.to_rfc3339(), "failures": failures});
        append(
            &mut tx,
            &ctx,
            NewAuditEvent {
                action: "auth.lockout_started",
                entity_type,
                entity_id,
                before: Value::Null,
                after,
            },
        )
        .await?;
    }
    tx.commit().await?;
    Err(match lock {
        Some(until) => locked(until, now),
        None => AppError::InvalidCredentials,
    })
}

/// Known names are recorded against their user; unknown ones against the attempted name.
fn entity(name: &str, creds: Option<&Credentials>) -> (&'static str, String) {
    match creds {
        Some(c) => ("user", c.id.to_string()),
        None => ("login", name.to_string()),
    }
}

fn failed(
    name: &str,
    creds: Option<&Credentials>,
    reason: &str,
    failures: Option<i64>,
) -> NewAuditEvent {
    let (entity_type, entity_id) = entity(name, creds);
    let after = json!({"username": name, "reason": reason, "failures": failures});
    NewAuditEvent {
        action: "auth.login_failed",
        entity_type,
        entity_id,
        before: Value::Null,
        after,
    }
}

async fn record(db: &Db, ctx: &Ctx, event: NewAuditEvent) -> Result<(), AppError> {
    let mut tx = db.begin().await?;
    append(&mut tx, ctx, event).await?;
    tx.commit().await?;
    Ok(())
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
    record(db, ctx, event).await
}
