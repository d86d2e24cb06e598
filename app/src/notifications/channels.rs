//! SQL for team channels: their addresses sealed at rest, each change with its audit event.

use chrono::{DateTime, Utc};
use serde_json::json;

use super::{
    model::Channel,
    teams::{TeamChannel, TeamInput, TeamScope},
};
use crate::{
    audit::repo::{append, Ctx, NewAuditEvent},
    conn_run,
    connectors::{
        model::{origin, SecretInput, SecretSource},
        secret::SecretKey,
    },
    db::{Conn, Db, DbError},
    error::AppError,
    tx_run,
};

#[derive(sqlx::FromRow)]
struct Row {
    id: i64,
    name: String,
    kind: String,
    url_origin: String,
    secret_env: Option<String>,
    secret_sealed: Option<String>,
    group_id: Option<i64>,
    group_name: Option<String>,
    tag: Option<String>,
    active: bool,
    updated_at: DateTime<Utc>,
}

impl Row {
    fn channel(self) -> TeamChannel {
        TeamChannel {
            id: self.id,
            name: self.name,
            kind: Channel::parse(&self.kind).unwrap_or(Channel::Webhook),
            origin: self.url_origin,
            secret: match (self.secret_env, self.secret_sealed) {
                (Some(v), _) => SecretSource::Env(v),
                (None, Some(_)) => SecretSource::Stored,
                (None, None) => SecretSource::None,
            },
            scope: match (self.group_id, self.tag) {
                (Some(id), _) => TeamScope::Group(id, self.group_name.unwrap_or_default()),
                (None, tag) => TeamScope::Tag(tag.unwrap_or_default()),
            },
            active: self.active,
            updated_at: self.updated_at,
        }
    }
}

const SELECT: &str =
    "SELECT c.id, c.name, c.kind, c.url_origin, c.secret_env, c.secret_sealed, c.group_id, \
                      g.name AS group_name, c.tag, c.active, c.updated_at FROM team_channels c \
                      LEFT JOIN approval_groups g ON g.id = c.group_id";

pub async fn list(conn: &mut Conn<'_>) -> Result<Vec<TeamChannel>, DbError> {
    let sql = format!("{SELECT} ORDER BY c.name, c.id");
    let rows: Vec<Row> = conn_run!(conn, |c| sqlx::query_as(&sql).fetch_all(c).await)?;
    Ok(rows.into_iter().map(Row::channel).collect())
}

fn snapshot(c: &TeamChannel) -> serde_json::Value {
    json!({ "name": c.name, "kind": c.kind.as_str(), "origin": c.origin, "scope": c.scope.label(), "active": c.active })
}

async fn get(conn: &mut Conn<'_>, id: i64) -> Result<TeamChannel, DbError> {
    let sql = format!("{SELECT} WHERE c.id = $1");
    let row: Row = conn_run!(conn, |c| sqlx::query_as(&sql).bind(id).fetch_one(c).await)?;
    Ok(row.channel())
}

pub async fn create(db: &Db, ctx: &Ctx, key: &SecretKey, new: TeamInput) -> Result<i64, AppError> {
    let mut tx = db.begin().await?;
    if let Some(group) = new.group_id {
        let sql = "SELECT COUNT(*) FROM approval_groups WHERE id = $1";
        let n: i64 = tx_run!(&mut tx, |c| sqlx::query_scalar(sql)
            .bind(group)
            .fetch_one(c)
            .await)
        .map_err(DbError::from)?;
        if n == 0 {
            return Err(AppError::field(
                "group_id",
                "choose an approval group from the list",
            ));
        }
    }
    let (env, sealed) = match &new.secret {
        SecretInput::Env(v) => (Some(v.clone()), None),
        SecretInput::Value(v) => (None, Some(key.seal(v))),
        SecretInput::Keep => (None, None),
    };
    let sql = "INSERT INTO team_channels (name, kind, url_sealed, url_origin, secret_sealed, secret_env, group_id, tag, updated_at) \
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id";
    let id: i64 = tx_run!(&mut tx, |c| sqlx::query_scalar(sql)
        .bind(&new.name)
        .bind(new.kind.as_str())
        .bind(key.seal(&new.url))
        .bind(origin(&new.url))
        .bind(&sealed)
        .bind(&env)
        .bind(new.group_id)
        .bind(&new.tag)
        .bind(Utc::now())
        .fetch_one(c)
        .await)
    .map_err(DbError::from)?;
    let after = get(&mut Conn::Tx(&mut tx), id).await?;
    let event = NewAuditEvent {
        action: "team_channel.created",
        entity_type: "team_channel",
        entity_id: id.to_string(),
        before: serde_json::Value::Null,
        after: snapshot(&after),
    };
    append(&mut tx, ctx, event).await?;
    tx.commit().await?;
    Ok(id)
}

pub async fn set_active(db: &Db, ctx: &Ctx, id: i64, active: bool) -> Result<(), AppError> {
    let mut tx = db.begin().await?;
    let before = get(&mut Conn::Tx(&mut tx), id).await.map_err(|e| match e {
        DbError::NotFound => AppError::not_found("The team channel"),
        e => e.into(),
    })?;
    if before.active == active {
        return Ok(());
    }
    let sql = "UPDATE team_channels SET active = $1, updated_at = $2 WHERE id = $3";
    tx_run!(&mut tx, |c| sqlx::query(sql)
        .bind(active)
        .bind(Utc::now())
        .bind(id)
        .execute(c)
        .await
        .map(|_| ()))
    .map_err(DbError::from)?;
    let after = TeamChannel {
        active,
        ..before.clone()
    };
    let event = NewAuditEvent {
        action: "team_channel.updated",
        entity_type: "team_channel",
        entity_id: id.to_string(),
        before: snapshot(&before),
        after: snapshot(&after),
    };
    append(&mut tx, ctx, event).await?;
    tx.commit().await?;
    Ok(())
}

/// What sending needs: the address and, for a signed webhook, its secret (read at send time).
pub struct Address {
    pub url: String,
    pub secret: Option<String>,
}

pub async fn address(
    conn: &mut Conn<'_>,
    key: &SecretKey,
    id: i64,
) -> Result<Result<Address, String>, DbError> {
    let sql = "SELECT url_sealed, secret_sealed, secret_env FROM team_channels WHERE id = $1";
    let (url, sealed, env): (String, Option<String>, Option<String>) =
        conn_run!(conn, |c| sqlx::query_as(sql).bind(id).fetch_one(c).await)?;
    let Some(url) = key.open(&url) else {
        return Ok(Err("the channel's address cannot be decrypted: was the server's secret key changed? Add the channel again".into()));
    };
    let secret = match (env, sealed) {
        (Some(var), _) if crate::connectors::model::check_secret_env(&var).is_err() => {
            return Ok(Err(format!("the environment variable {var} is not one secrets may come from: add the channel again with a ROLLGATE_CONNECTOR_ variable")));
        }
        (Some(var), _) => match std::env::var(&var) {
            Ok(v) => Some(v),
            Err(_) => {
                return Ok(Err(format!(
                    "the environment variable {var} is not set on the server"
                )))
            }
        },
        (None, Some(s)) => match key.open(&s) {
            Some(v) => Some(v),
            None => {
                return Ok(Err(
                    "the channel's signing secret cannot be decrypted: enter it again".into(),
                ))
            }
        },
        (None, None) => None,
    };
    Ok(Ok(Address { url, secret }))
}
