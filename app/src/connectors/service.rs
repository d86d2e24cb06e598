//! Saving connectors (audited, secrets sealed) and resolving their secret for a call.

use chrono::Utc;
use serde_json::{json, Value};

use super::{
    model::{
        check_secret_env, origin, Connector, NewConnector, SecretInput, SecretSource,
        SECRET_ENV_PREFIX,
    },
    repo::{self, Fields},
    secret::SecretKey,
};
use crate::{
    audit::repo::{append, Ctx, NewAuditEvent},
    db::{Conn, Db, DbError},
    error::AppError,
};

/// The audited state of a connector: where its secret comes from, never the secret.
fn snapshot(c: &Connector) -> Value {
    json!({
        "name": c.name,
        "kind": c.kind.as_str(),
        "base_url": c.base_url,
        "username": c.username,
        "secret": match &c.secret {
            SecretSource::None => "none".to_string(),
            SecretSource::Env(v) => format!("environment variable {v}"),
            SecretSource::Stored => "stored encrypted".to_string(),
        },
    })
}

fn map_db(e: DbError) -> AppError {
    match e {
        DbError::NotFound => AppError::not_found("The connector"),
        e if e.is_conflict_on("connectors_name_lower_key") => {
            AppError::field("name", "another connector has this name")
        }
        e => e.into(),
    }
}

/// Creates (`id = None`) or updates a connector.
pub async fn save(
    db: &Db,
    ctx: &Ctx,
    key: &SecretKey,
    id: Option<i64>,
    new: NewConnector,
) -> Result<i64, AppError> {
    let mut tx = db.begin().await?;
    let before = match id {
        Some(id) => Some(
            repo::get(&mut Conn::Tx(&mut tx), id)
                .await
                .map_err(map_db)?,
        ),
        None => None,
    };
    let moved = before
        .as_ref()
        .is_some_and(|b| origin(&b.base_url) != origin(&new.base_url));
    if moved && matches!(new.secret, SecretInput::Keep) {
        return Err(AppError::field(
            "secret",
            "the address moved to another host: enter the secret (or its variable) again, so it is never sent to a host it was not meant for",
        ));
    }
    let (env, sealed) = match (&new.secret, &before) {
        (SecretInput::Env(v), _) => (Some(v.clone()), None),
        (SecretInput::Value(v), _) => (None, Some(key.seal(v))),
        (SecretInput::Keep, Some(b)) => (b.secret_env.clone(), b.secret_encrypted.clone()),
        (SecretInput::Keep, None) => (None, None),
    };
    let fields = Fields {
        name: &new.name,
        kind: new.kind,
        base_url: &new.base_url,
        username: &new.username,
        secret_env: env.as_deref(),
        secret_encrypted: sealed.as_deref(),
    };
    let now = Utc::now();
    let id = match id {
        Some(id) => {
            repo::update(&mut tx, id, &fields, now)
                .await
                .map_err(map_db)?;
            id
        }
        None => repo::insert(&mut tx, &fields, now).await.map_err(map_db)?,
    };
    let after = repo::get(&mut Conn::Tx(&mut tx), id).await?.connector();
    let secret_replaced = matches!(new.secret, SecretInput::Value(_));
    let (action, before) = match &before {
        Some(b) => ("connector.updated", snapshot(&b.connector())),
        None => ("connector.created", Value::Null),
    };
    let mut after_json = snapshot(&after);
    if secret_replaced {
        after_json["secret_replaced"] = json!(true);
    }
    if before == after_json {
        return Ok(id);
    }
    append(
        &mut tx,
        ctx,
        NewAuditEvent {
            action,
            entity_type: "connector",
            entity_id: id.to_string(),
            before,
            after: after_json,
        },
    )
    .await?;
    tx.commit().await?;
    Ok(id)
}

/// The plaintext secret for a call, or why there is none (the message names no value).
pub fn resolve_secret(row: &repo::Row, key: &SecretKey) -> Result<Option<String>, String> {
    match (&row.secret_env, &row.secret_encrypted) {
        (Some(var), _) if check_secret_env(var).is_err() => Err(format!(
            "the environment variable {var} is not one connector secrets may come from: name one starting with {SECRET_ENV_PREFIX}"
        )),
        (Some(var), _) => std::env::var(var)
            .map(Some)
            .map_err(|_| format!("the environment variable {var} is not set on the server")),
        (None, Some(sealed)) => key
            .open(sealed)
            .map(Some)
            .ok_or_else(|| "the stored secret cannot be decrypted: was the server's secret key changed? Enter the secret again".to_string()),
        (None, None) => Ok(None),
    }
}

/// Stores what "test connection" found, with its audit event (evidence that the connector
/// was checked, and what answered).
pub async fn record_test(
    db: &Db,
    ctx: &Ctx,
    id: i64,
    report: &super::model::ProbeReport,
) -> Result<(), AppError> {
    let mut tx = db.begin().await?;
    repo::record_test(&mut tx, id, report, Utc::now()).await?;
    let event = NewAuditEvent {
        action: "connector.tested",
        entity_type: "connector",
        entity_id: id.to_string(),
        before: Value::Null,
        after: json!({ "ok": report.ok, "findings": report.findings }),
    };
    append(&mut tx, ctx, event).await?;
    tx.commit().await?;
    Ok(())
}
