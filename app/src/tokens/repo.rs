//! SQL for API tokens. Only the SHA-256 of a secret is stored.

use chrono::{DateTime, Utc};

use super::model::{scopes_from_string, scopes_to_string, ApiToken, Scope};
use crate::{
    conn_run,
    db::{Conn, DbError, Tx},
    tx_run,
};

#[derive(sqlx::FromRow)]
struct Row {
    id: i64,
    owner: String,
    name: String,
    scopes: String,
    prefix: String,
    created_by: String,
    created_at: DateTime<Utc>,
    last_used_at: Option<DateTime<Utc>>,
    revoked_at: Option<DateTime<Utc>>,
}

impl From<Row> for ApiToken {
    fn from(r: Row) -> Self {
        ApiToken {
            id: r.id,
            owner: r.owner,
            name: r.name,
            scopes: scopes_from_string(&r.scopes),
            prefix: r.prefix,
            created_by: r.created_by,
            created_at: r.created_at,
            last_used_at: r.last_used_at,
            revoked_at: r.revoked_at,
        }
    }
}

const SELECT: &str = "SELECT t.id, o.username AS owner, t.name, t.scopes, t.prefix, c.username AS created_by, \
                      t.created_at, t.last_used_at, t.revoked_at \
                      FROM api_tokens t JOIN users o ON o.id = t.user_id JOIN users c ON c.id = t.created_by";

#[allow(clippy::too_many_arguments)]
pub async fn insert(
    tx: &mut Tx,
    user_id: i64,
    name: &str,
    scopes: &[Scope],
    prefix: &str,
    secret_hash: &str,
    created_by: i64,
    now: DateTime<Utc>,
) -> Result<i64, DbError> {
    let sql = "INSERT INTO api_tokens (user_id, name, name_lower, scopes, prefix, secret_hash, created_by, created_at) \
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id";
    Ok(tx_run!(tx, |c| sqlx::query_scalar(sql)
        .bind(user_id)
        .bind(name)
        .bind(name.to_lowercase())
        .bind(scopes_to_string(scopes))
        .bind(prefix)
        .bind(secret_hash)
        .bind(created_by)
        .bind(now)
        .fetch_one(c)
        .await)?)
}

pub async fn get(conn: &mut Conn<'_>, id: i64) -> Result<(ApiToken, i64), DbError> {
    let sql = format!("{SELECT} WHERE t.id = $1");
    let row: Row = conn_run!(conn, |c| sqlx::query_as(&sql).bind(id).fetch_one(c).await)?;
    let owner_id: i64 = conn_run!(conn, |c| sqlx::query_scalar(
        "SELECT user_id FROM api_tokens WHERE id = $1"
    )
    .bind(id)
    .fetch_one(c)
    .await)?;
    Ok((row.into(), owner_id))
}

/// Tokens of one user, or of everyone (`None`), newest first.
pub async fn list(conn: &mut Conn<'_>, user_id: Option<i64>) -> Result<Vec<ApiToken>, DbError> {
    let rows: Vec<Row> = match user_id {
        Some(id) => {
            let sql = format!("{SELECT} WHERE t.user_id = $1 ORDER BY t.id DESC");
            conn_run!(conn, |c| sqlx::query_as(&sql).bind(id).fetch_all(c).await)?
        }
        None => {
            let sql = format!("{SELECT} ORDER BY t.id DESC LIMIT 500");
            conn_run!(conn, |c| sqlx::query_as(&sql).fetch_all(c).await)?
        }
    };
    Ok(rows.into_iter().map(ApiToken::from).collect())
}

pub async fn revoke(tx: &mut Tx, id: i64, now: DateTime<Utc>) -> Result<bool, DbError> {
    let n = tx_run!(tx, |c| sqlx::query(
        "UPDATE api_tokens SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL"
    )
    .bind(now)
    .bind(id)
    .execute(c)
    .await
    .map(|r| r.rows_affected()))?;
    Ok(n == 1)
}

/// What authentication needs: (token id, owner id, name, scopes, revoked_at, last_used_at).
pub type Lookup = (
    i64,
    i64,
    String,
    String,
    Option<DateTime<Utc>>,
    Option<DateTime<Utc>>,
);

pub async fn find_by_hash(conn: &mut Conn<'_>, hash: &str) -> Result<Option<Lookup>, DbError> {
    let sql = "SELECT id, user_id, name, scopes, revoked_at, last_used_at FROM api_tokens WHERE secret_hash = $1";
    Ok(conn_run!(conn, |c| sqlx::query_as(sql)
        .bind(hash)
        .fetch_optional(c)
        .await)?)
}

pub async fn touch(conn: &mut Conn<'_>, id: i64, now: DateTime<Utc>) -> Result<(), DbError> {
    conn_run!(conn, |c| sqlx::query(
        "UPDATE api_tokens SET last_used_at = $1 WHERE id = $2"
    )
    .bind(now)
    .bind(id)
    .execute(c)
    .await
    .map(|r| r.rows_affected()))?;
    Ok(())
}
