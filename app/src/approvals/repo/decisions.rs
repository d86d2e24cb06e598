//! SQL for approvers' decisions: recorded once per approver, revision and renewal; voided by a
//! later revision or a renewal, never deleted.

use chrono::{DateTime, Utc};

use crate::{
    conn_run,
    db::{Conn, DbError, Tx},
    tx_run,
};

/// A decision with the names the plan page shows.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct DecisionRow {
    pub id: i64,
    pub revision: i32,
    pub content_hash: String,
    pub approver_id: i64,
    pub approver: String,
    pub group_id: Option<i64>,
    pub group_name: Option<String>,
    pub decision: String,
    pub reason: String,
    pub request_key: String,
    pub decided_at: DateTime<Utc>,
    pub voided_at: Option<DateTime<Utc>>,
    pub void_reason: Option<String>,
    pub renewal: i32,
}

/// Every decision on the plan, newest first.
pub async fn decisions(conn: &mut Conn<'_>, plan_id: i64) -> Result<Vec<DecisionRow>, DbError> {
    let sql = "SELECT d.id, d.revision, d.content_hash, d.approver_id, u.username AS approver, d.group_id, g.name AS group_name, \
               d.decision, d.reason, d.request_key, d.decided_at, d.voided_at, d.void_reason, d.renewal \
               FROM approval_decisions d JOIN users u ON u.id = d.approver_id LEFT JOIN approval_groups g ON g.id = d.group_id \
               WHERE d.plan_id = $1 ORDER BY d.id DESC";
    Ok(conn_run!(conn, |c| sqlx::query_as(sql)
        .bind(plan_id)
        .fetch_all(c)
        .await)?)
}

/// The decision a form's idempotency key recorded: (plan, approver, when).
pub async fn find_decision_by_key(
    conn: &mut Conn<'_>,
    key: &str,
) -> Result<Option<(i64, i64, DateTime<Utc>)>, DbError> {
    let sql =
        "SELECT plan_id, approver_id, decided_at FROM approval_decisions WHERE request_key = $1";
    Ok(conn_run!(conn, |c| sqlx::query_as(sql)
        .bind(key)
        .fetch_optional(c)
        .await)?)
}

pub struct NewDecision<'a> {
    pub plan_id: i64,
    pub revision: i32,
    pub content_hash: &'a str,
    pub approver_id: i64,
    pub group_id: Option<i64>,
    pub approve: bool,
    pub reason: &'a str,
    pub plan_author_id: i64,
    pub change_author_id: i64,
    pub request_key: &'a str,
    pub at: DateTime<Utc>,
    /// 0, or one more than the expired approval this one renews.
    pub renewal: i32,
}

pub async fn insert_decision(tx: &mut Tx, d: &NewDecision<'_>) -> Result<i64, DbError> {
    let sql = "INSERT INTO approval_decisions (plan_id, revision, content_hash, approver_id, group_id, decision, reason, \
               plan_author_id, change_author_id, request_key, decided_at, renewal) \
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) RETURNING id";
    Ok(tx_run!(tx, |c| sqlx::query_scalar(sql)
        .bind(d.plan_id)
        .bind(d.revision)
        .bind(d.content_hash)
        .bind(d.approver_id)
        .bind(d.group_id)
        .bind(if d.approve { "approve" } else { "reject" })
        .bind(d.reason)
        .bind(d.plan_author_id)
        .bind(d.change_author_id)
        .bind(d.request_key)
        .bind(d.at)
        .bind(d.renewal)
        .fetch_one(c)
        .await)?)
}

/// Voids one decision (an expired approval being renewed).
pub async fn void_decision(
    tx: &mut Tx,
    id: i64,
    why: &str,
    at: DateTime<Utc>,
) -> Result<(), DbError> {
    let sql = "UPDATE approval_decisions SET voided_at = $1, void_reason = $2 WHERE id = $3 AND voided_at IS NULL";
    tx_run!(tx, |c| sqlx::query(sql)
        .bind(at)
        .bind(why)
        .bind(id)
        .execute(c)
        .await
        .map(|_| ()))?;
    Ok(())
}

/// Voids every live decision on revisions before `revision`; returns how many.
pub async fn void_before(
    tx: &mut Tx,
    plan_id: i64,
    revision: i32,
    why: &str,
    at: DateTime<Utc>,
) -> Result<u64, DbError> {
    let sql = "UPDATE approval_decisions SET voided_at = $1, void_reason = $2 \
               WHERE plan_id = $3 AND revision < $4 AND voided_at IS NULL";
    Ok(tx_run!(tx, |c| sqlx::query(sql)
        .bind(at)
        .bind(why)
        .bind(plan_id)
        .bind(revision)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?)
}
