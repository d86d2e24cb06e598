//! SQL for sign-in throttling, keyed by the attempted (lowercased) username.

use chrono::{DateTime, Utc};

use crate::{
    db::{DbError, Tx},
    tx_run,
};

/// What counting one sign-in attempt found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Attempt {
    /// The attempt may be checked; it is the `n`-th in a row not yet known to succeed.
    Counted(i64),
    /// The name is locked until then: the password must not even be checked.
    Locked(DateTime<Utc>),
}

/// Counts an attempt before its password is checked, so parallel guesses cannot all be
/// evaluated: once `max_failures` attempts are counted, further ones lock the name. A lock
/// that has run out starts a fresh count.
pub async fn begin_attempt(
    tx: &mut Tx,
    key: &str,
    now: DateTime<Utc>,
    max_failures: i64,
    lockout: chrono::Duration,
) -> Result<Attempt, DbError> {
    // The upsert takes the row lock first, so concurrent attempts count one by one.
    let upsert = "INSERT INTO login_throttle (username_lower, failures, locked_until, updated_at) \
                  VALUES ($1, 0, NULL, $2) ON CONFLICT (username_lower) DO UPDATE SET updated_at = $2 \
                  RETURNING failures, locked_until";
    let (failures, until): (i32, Option<DateTime<Utc>>) = tx_run!(tx, |c| sqlx::query_as(upsert)
        .bind(key)
        .bind(now)
        .fetch_one(c)
        .await)?;
    if let Some(until) = until.filter(|t| *t > now) {
        return Ok(Attempt::Locked(until));
    }
    let failures = if until.is_some() {
        1
    } else {
        i64::from(failures) + 1
    };
    let lock = (failures > max_failures).then(|| now + lockout);
    set_failures(tx, key, failures, lock).await?;
    Ok(match lock {
        Some(until) => Attempt::Locked(until),
        None => Attempt::Counted(failures),
    })
}

/// Locks the name after a failed check that used up its attempts.
pub async fn lock(
    tx: &mut Tx,
    key: &str,
    failures: i64,
    until: DateTime<Utc>,
) -> Result<(), DbError> {
    set_failures(tx, key, failures, Some(until)).await
}

/// Gives back an attempt that was never checked (the server was too busy to check it).
pub async fn refund_attempt(tx: &mut Tx, key: &str) -> Result<(), DbError> {
    let sql = "UPDATE login_throttle SET failures = failures - 1 \
               WHERE username_lower = $1 AND failures > 0 AND locked_until IS NULL";
    tx_run!(tx, |c| sqlx::query(sql)
        .bind(key)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
    Ok(())
}

async fn set_failures(
    tx: &mut Tx,
    key: &str,
    failures: i64,
    until: Option<DateTime<Utc>>,
) -> Result<(), DbError> {
    let sql =
        "UPDATE login_throttle SET failures = $1, locked_until = $2 WHERE username_lower = $3";
    tx_run!(tx, |c| sqlx::query(sql)
        .bind(failures as i32)
        .bind(until)
        .bind(key)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
    Ok(())
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
