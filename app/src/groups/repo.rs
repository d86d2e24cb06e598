//! SQL for approval groups.

use chrono::{DateTime, Utc};

use super::model::{Group, NewGroup};
use crate::{
    conn_run,
    db::{Conn, DbError, Tx},
    tx_run,
};

pub async fn insert_group(tx: &mut Tx, new: &NewGroup, now: DateTime<Utc>) -> Result<i64, DbError> {
    let sql =
        "INSERT INTO approval_groups (name, name_lower, description, created_at, updated_at) \
               VALUES ($1, $2, $3, $4, $4) RETURNING id";
    Ok(tx_run!(tx, |c| sqlx::query_scalar(sql)
        .bind(&new.name)
        .bind(new.name.to_lowercase())
        .bind(&new.description)
        .bind(now)
        .fetch_one(c)
        .await)?)
}

/// All groups by name, with member counts (one query).
pub async fn list_groups(conn: &mut Conn<'_>) -> Result<Vec<Group>, DbError> {
    let sql = "SELECT g.id, g.name, g.description, \
               (SELECT COUNT(*) FROM group_members m WHERE m.group_id = g.id) AS members \
               FROM approval_groups g ORDER BY g.name_lower";
    let rows: Vec<(i64, String, String, i64)> =
        conn_run!(conn, |c| sqlx::query_as(sql).fetch_all(c).await)?;
    Ok(rows
        .into_iter()
        .map(|(id, name, description, members)| Group {
            id,
            name,
            description,
            members,
        })
        .collect())
}

pub async fn count_groups(conn: &mut Conn<'_>) -> Result<i64, DbError> {
    Ok(conn_run!(conn, |c| sqlx::query_scalar(
        "SELECT COUNT(*) FROM approval_groups"
    )
    .fetch_one(c)
    .await)?)
}
