//! SQL for sign-in throttling, keyed by the attempted (lowercased) username.

use chrono::{DateTime, Utc};

use crate::{
    conn_run,
    db::{Conn, DbError, Tx},
    tx_run,
};

/// Until when the name is locked, if it is.
pub async fn locked_until(
    conn: &mut Conn<'_>,
    name: &str,
    now: DateTime<Utc>,
) -> Result<Option<DateTime<Utc>>, DbError> {
    let sql = "SELECT locked_until FROM login_throttle WHERE username_lower = $1";
    let until: Option<Option<DateTime<Utc>>> = conn_run!(conn, |c| sqlx::query_scalar(sql)
        .bind(name)
        .fetch_optional(c)
        .await)?;
    Ok(until.flatten().filter(|t| *t > now))
}

/// Counts a failure and returns (consecutive failures, lock end if this failure locked the name).
pub async fn record_failure(
    tx: &mut Tx,
    name: &str,
    now: DateTime<Utc>,
    max_failures: i64,
    lockout: chrono::Duration,
) -> Result<(i64, Option<DateTime<Utc>>), DbError> {
    // The upsert takes the row lock first, so concurrent failures count one by one.
    let upsert = "INSERT INTO login_throttle (username_lower, failures, locked_until, updated_at) \
                  VALUES ($1, 0, NULL, $2) ON CONFLICT (username_lower) DO UPDATE SET updated_at = $2 \
                  RETURNING failures, locked_until";
    let (failures, until): (i32, Option<DateTime<Utc>>) = tx_run!(tx, |c| sqlx::query_as(upsert)
        .bind(name)
        .bind(now)
        .fetch_one(c)
        .await)?;
    // A lock that has run out starts a fresh count.
    let failures = if until.is_some_and(|t| t <= now) {
        1
    } else {
        i64::from(failures) + 1
    };
    let new_lock = (failures >= max_failures).then(|| now + lockout);
    let sql =
        "UPDATE login_throttle SET failures = $1, locked_until = $2 WHERE username_lower = $3";
    tx_run!(tx, |c| sqlx::query(sql)
        .bind(failures as i32)
        .bind(new_lock)
        .bind(name)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
    Ok((failures, new_lock))
}

/// Forgets failures after a successful sign-in.
pub async fn clear_failures(tx: &mut Tx, name: &str) -> Result<(), DbError> {
    let sql =
        "UPDATE login_throttle SET failures = 0, locked_until = NULL WHERE username_lower = $1";
    tx_run!(tx, |c| sqlx::query(sql)
        .bind(name)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
    Ok(())
}
