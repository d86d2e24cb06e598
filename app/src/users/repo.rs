//! SQL for users, their roles and group memberships. Users are never deleted.

use std::collections::HashMap;

use chrono::{DateTime, Utc};

use super::model::{NewUser, User};
use crate::{
    auth::{GroupRef, Role},
    conn_run,
    db::{Conn, DbError, Tx},
    tx_run,
};

#[derive(sqlx::FromRow)]
struct UserRow {
    id: i64,
    username: String,
    display_name: String,
    active: bool,
    kind: String,
    sessions_revoked_at: Option<DateTime<Utc>>,
    email: Option<String>,
    created_at: DateTime<Utc>,
}

/// What sign-in needs to know about a username.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Credentials {
    pub id: i64,
    pub username: String,
    pub password_hash: String,
    pub active: bool,
    /// `service`: an account for API tokens, which never signs in with a password.
    pub kind: String,
}

/// Inserts the user row; roles and groups are set separately.
pub async fn insert_user(
    tx: &mut Tx,
    new: &NewUser,
    password_hash: &str,
    now: DateTime<Utc>,
) -> Result<i64, DbError> {
    let sql = "INSERT INTO users (username, username_lower, display_name, password_hash, active, kind, created_at, updated_at) \
               VALUES ($1, $2, $3, $4, TRUE, $5, $6, $6) RETURNING id";
    let kind = if new.service { "service" } else { "person" };
    let name = new.username.as_str();
    Ok(tx_run!(tx, |c| sqlx::query_scalar(sql)
        .bind(name)
        .bind(name)
        .bind(&new.display_name)
        .bind(password_hash)
        .bind(kind)
        .bind(now)
        .fetch_one(c)
        .await)?)
}

/// Replaces a user's roles.
pub async fn set_roles(
    tx: &mut Tx,
    user_id: i64,
    roles: &[Role],
    now: DateTime<Utc>,
) -> Result<(), DbError> {
    tx_run!(tx, |c| sqlx::query(
        "DELETE FROM user_roles WHERE user_id = $1"
    )
    .bind(user_id)
    .execute(c)
    .await
    .map(|r| r.rows_affected()))?;
    for role in roles {
        let sql = "INSERT INTO user_roles (user_id, role, created_at) VALUES ($1, $2, $3)";
        tx_run!(tx, |c| sqlx::query(sql)
            .bind(user_id)
            .bind(role.as_str())
            .bind(now)
            .execute(c)
            .await
            .map(|r| r.rows_affected()))?;
    }
    Ok(())
}

/// Replaces a user's approval groups. Unknown group ids fail on the foreign key.
pub async fn set_groups(
    tx: &mut Tx,
    user_id: i64,
    group_ids: &[i64],
    now: DateTime<Utc>,
) -> Result<(), DbError> {
    tx_run!(tx, |c| sqlx::query(
        "DELETE FROM group_members WHERE user_id = $1"
    )
    .bind(user_id)
    .execute(c)
    .await
    .map(|r| r.rows_affected()))?;
    for group_id in group_ids {
        let sql = "INSERT INTO group_members (user_id, group_id, created_at) VALUES ($1, $2, $3)";
        tx_run!(tx, |c| sqlx::query(sql)
            .bind(user_id)
            .bind(group_id)
            .bind(now)
            .execute(c)
            .await
            .map(|r| r.rows_affected()))?;
    }
    Ok(())
}

/// Deactivating also ends every session the user has open.
pub async fn set_active(
    tx: &mut Tx,
    user_id: i64,
    active: bool,
    now: DateTime<Utc>,
) -> Result<(), DbError> {
    let sql = "UPDATE users SET active = $1, updated_at = $2, \
               sessions_revoked_at = CASE WHEN $1 THEN sessions_revoked_at ELSE $2 END WHERE id = $3";
    tx_run!(tx, |c| sqlx::query(sql)
        .bind(active)
        .bind(now)
        .bind(user_id)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
    Ok(())
}

/// Ends every session of the user that began before `now` (sign out everywhere).
pub async fn revoke_sessions(tx: &mut Tx, user_id: i64, now: DateTime<Utc>) -> Result<(), DbError> {
    let sql = "UPDATE users SET sessions_revoked_at = $1 WHERE id = $2";
    tx_run!(tx, |c| sqlx::query(sql)
        .bind(now)
        .bind(user_id)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
    Ok(())
}

/// The credentials stored for a (lowercased) username, if any.
pub async fn find_credentials(
    conn: &mut Conn<'_>,
    username: &str,
) -> Result<Option<Credentials>, DbError> {
    let sql =
        "SELECT id, username, password_hash, active, kind FROM users WHERE username_lower = $1";
    Ok(conn_run!(conn, |c| sqlx::query_as(sql)
        .bind(username)
        .fetch_optional(c)
        .await)?)
}

/// One user with roles and groups; `NotFound` if there is none.
pub async fn get_user(conn: &mut Conn<'_>, id: i64) -> Result<User, DbError> {
    let sql = "SELECT id, username, display_name, active, kind, sessions_revoked_at, email, created_at FROM users WHERE id = $1";
    let row: UserRow = conn_run!(conn, |c| sqlx::query_as(sql).bind(id).fetch_one(c).await)?;
    Ok(with_access(conn, vec![row]).await?.remove(0))
}

/// A page of users ordered by username, after the `after` username (keyset).
pub async fn list_users(
    conn: &mut Conn<'_>,
    after: Option<&str>,
    limit: i64,
) -> Result<Vec<User>, DbError> {
    let sql = "SELECT id, username, display_name, active, kind, sessions_revoked_at, email, created_at FROM users \
               WHERE username_lower > $1 ORDER BY username_lower LIMIT $2";
    let rows: Vec<UserRow> = conn_run!(conn, |c| sqlx::query_as(sql)
        .bind(after.unwrap_or(""))
        .bind(limit)
        .fetch_all(c)
        .await)?;
    with_access(conn, rows).await
}

/// Loads roles and groups for all rows in two queries (no N+1).
async fn with_access(conn: &mut Conn<'_>, rows: Vec<UserRow>) -> Result<Vec<User>, DbError> {
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
    let list = placeholders(ids.len());
    let roles_sql =
        format!("SELECT user_id, role FROM user_roles WHERE user_id IN ({list}) ORDER BY role");
    let roles: Vec<(i64, String)> = conn_run!(conn, |c| {
        let mut q = sqlx::query_as(&roles_sql);
        for id in &ids {
            q = q.bind(id);
        }
        q.fetch_all(c).await
    })?;
    let groups_sql = format!(
        "SELECT m.user_id, g.id, g.name FROM group_members m JOIN approval_groups g ON g.id = m.group_id \
         WHERE m.user_id IN ({list}) ORDER BY g.name_lower"
    );
    let groups: Vec<(i64, i64, String)> = conn_run!(conn, |c| {
        let mut q = sqlx::query_as(&groups_sql);
        for id in &ids {
            q = q.bind(id);
        }
        q.fetch_all(c).await
    })?;
    let mut role_map: HashMap<i64, Vec<Role>> = HashMap::new();
    for (user_id, role) in roles {
        role_map
            .entry(user_id)
            .or_default()
            .extend(Role::parse(&role));
    }
    let mut group_map: HashMap<i64, Vec<GroupRef>> = HashMap::new();
    for (user_id, id, name) in groups {
        group_map
            .entry(user_id)
            .or_default()
            .push(GroupRef { id, name });
    }
    Ok(rows
        .into_iter()
        .map(|r| User {
            roles: role_map.remove(&r.id).map(sorted).unwrap_or_default(),
            groups: group_map.remove(&r.id).unwrap_or_default(),
            id: r.id,
            username: r.username,
            display_name: r.display_name,
            active: r.active,
            service: r.kind == "service",
            sessions_revoked_at: r.sessions_revoked_at,
            email: r.email,
            created_at: r.created_at,
        })
        .collect())
}

fn sorted(mut roles: Vec<Role>) -> Vec<Role> {
    roles.sort();
    roles
}

/// `$1, $2, …, $n`.
pub fn placeholders(n: usize) -> String {
    (1..=n)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// How many users exist (the demo seeds only into an empty database).
pub async fn count_users(conn: &mut Conn<'_>) -> Result<i64, DbError> {
    Ok(conn_run!(conn, |c| sqlx::query_scalar(
        "SELECT COUNT(*) FROM users"
    )
    .fetch_one(c)
    .await)?)
}

/// Active administrators other than `user_id`.
pub async fn count_other_active_admins(conn: &mut Conn<'_>, user_id: i64) -> Result<i64, DbError> {
    let sql = "SELECT COUNT(*) FROM users u JOIN user_roles r ON r.user_id = u.id \
               WHERE r.role = 'admin' AND u.active = TRUE AND u.id <> $1";
    Ok(conn_run!(conn, |c| sqlx::query_scalar(sql)
        .bind(user_id)
        .fetch_one(c)
        .await)?)
}
