//! SQL for jobs, their steps and evidence. Claims and lease renewals are single statements, so a
//! worker never holds a transaction open across a remote call.

mod evidence;
mod steps;

use chrono::{DateTime, Duration, Utc};

use super::model::JobStatus;
pub use evidence::{add_evidence, evidence, Evidence};
pub use steps::{insert_steps, retry_step, set_step, steps, stop_running, StepRow, StepUpdate};

use crate::{
    conn_run,
    db::{Backend, Conn, DbError, Tx},
    tx_run,
};

/// A job with what the worker needs to carry it out.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct JobRow {
    pub id: i64,
    pub plan_id: i64,
    pub change_id: i64,
    pub revision: i32,
    pub content_hash: String,
    pub status: String,
    pub run_after: Option<DateTime<Utc>>,
    pub lease_owner: Option<String>,
    pub lease_until: Option<DateTime<Utc>>,
    pub started_at: Option<DateTime<Utc>>,
    pub finished_at: Option<DateTime<Utc>>,
    pub reason: String,
    pub updated_at: DateTime<Utc>,
    /// This installation's random name (part of remote idempotency keys).
    pub installation: String,
}

impl JobRow {
    pub fn status(&self) -> JobStatus {
        JobStatus::parse(&self.status).unwrap_or(JobStatus::Halted)
    }
}

const JOB_COLUMNS: &str =
    "e.id, e.plan_id, p.change_id, s.revision, s.content_hash, e.status, e.run_after, \
     e.lease_owner, e.lease_until, e.started_at, e.finished_at, e.reason, e.updated_at, \
     (SELECT key FROM installation WHERE id = 1) AS installation";

pub async fn job(conn: &mut Conn<'_>, id: i64) -> Result<JobRow, DbError> {
    let sql = format!(
        "SELECT {JOB_COLUMNS} FROM executions e JOIN sign_offs s ON s.id = e.sign_off_id \
         JOIN plans p ON p.id = e.plan_id WHERE e.id = $1"
    );
    Ok(conn_run!(conn, |c| sqlx::query_as(&sql)
        .bind(id)
        .fetch_one(c)
        .await)?)
}

/// The job, its row locked until the transaction ends (PostgreSQL `FOR UPDATE`; SQLite
/// transactions start `IMMEDIATE`, one writer at a time): operator actions read it this way.
pub async fn lock_job(tx: &mut Tx, id: i64) -> Result<JobRow, DbError> {
    if let Tx::Postgres(c) = tx {
        sqlx::query("SELECT id FROM executions WHERE id = $1 FOR UPDATE")
            .bind(id)
            .fetch_one(&mut **c)
            .await?;
    }
    job(&mut Conn::Tx(tx), id).await
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SummaryRow {
    pub id: i64,
    pub plan_id: i64,
    pub change_id: i64,
    pub change_title: String,
    pub status: String,
    pub run_after: Option<DateTime<Utc>>,
    pub started_at: Option<DateTime<Utc>>,
    pub finished_at: Option<DateTime<Utc>>,
    pub reason: String,
}

/// Jobs newest first, optionally of one status, before an id (keyset).
pub async fn list(
    conn: &mut Conn<'_>,
    status: Option<JobStatus>,
    before: Option<i64>,
    limit: i64,
) -> Result<Vec<SummaryRow>, DbError> {
    let mut w = crate::db::Where::default();
    if let Some(s) = status {
        w.push("e.status = ?", [crate::db::Arg::Text(s.as_str().into())]);
    }
    w.push(
        "e.id < ?",
        [crate::db::Arg::Int(before.unwrap_or(i64::MAX))],
    );
    let sql = format!(
        "SELECT e.id, e.plan_id, p.change_id, c.title AS change_title, e.status, e.run_after, e.started_at, \
         e.finished_at, e.reason FROM executions e JOIN plans p ON p.id = e.plan_id JOIN changes c ON c.id = p.change_id \
         {} ORDER BY e.id DESC LIMIT {limit}",
        w.sql()
    );
    Ok(conn_run!(conn, |c| crate::bind_args!(
        sqlx::query_as(&sql),
        &w.args
    )
    .fetch_all(c)
    .await)?)
}

/// Takes the next due job: a scheduled one whose start has come, a running one whose lease
/// expired (its worker died), or an aborted one with undo steps to carry out. Returns its id and
/// its status before the claim (scheduled: its first start).
/// PostgreSQL skips rows other workers have locked; SQLite has a single writer.
pub async fn claim(
    tx: &mut Tx,
    backend: Backend,
    owner: &str,
    now: DateTime<Utc>,
    lease: Duration,
) -> Result<Option<(i64, JobStatus)>, DbError> {
    let lock = match backend {
        Backend::Postgres => " FOR UPDATE SKIP LOCKED",
        Backend::Sqlite => "",
    };
    let pick = format!(
        "SELECT id, status FROM executions \
         WHERE (status = 'scheduled' AND run_after <= $1) OR (status = 'running' AND lease_until <= $1) \
            OR (status = 'aborting' AND (lease_until IS NULL OR lease_until <= $1)) \
         ORDER BY run_after, id LIMIT 1{lock}"
    );
    let found: Option<(i64, String)> = tx_run!(tx, |c| sqlx::query_as(&pick)
        .bind(now)
        .fetch_optional(c)
        .await)?;
    let Some((id, status)) = found else {
        return Ok(None);
    };
    let sql = "UPDATE executions SET status = CASE WHEN status = 'aborting' THEN 'aborting' ELSE 'running' END, \
               lease_owner = $1, lease_until = $2, \
               started_at = COALESCE(started_at, $3), updated_at = $3 WHERE id = $4";
    tx_run!(tx, |c| sqlx::query(sql)
        .bind(owner)
        .bind(now + lease)
        .bind(now)
        .bind(id)
        .execute(c)
        .await
        .map(|_| ()))?;
    Ok(Some((
        id,
        JobStatus::parse(&status).unwrap_or(JobStatus::Running),
    )))
}

/// Extends the lease; false when the job is no longer ours (aborted, or taken over).
pub async fn renew(
    tx: &mut Tx,
    id: i64,
    owner: &str,
    until: DateTime<Utc>,
) -> Result<bool, DbError> {
    let sql = "UPDATE executions SET lease_until = $1 WHERE id = $2 AND lease_owner = $3 AND status IN ('running', 'aborting')";
    Ok(tx_run!(tx, |c| sqlx::query(sql)
        .bind(until)
        .bind(id)
        .bind(owner)
        .execute(c)
        .await
        .map(|r| r.rows_affected() == 1))?)
}

/// Sets the job's status; the lease is dropped unless it keeps running. `lease_until` None with
/// status running means "waiting for a person" (no worker claims it).
pub async fn set_job(
    tx: &mut Tx,
    id: i64,
    status: JobStatus,
    lease_until: Option<DateTime<Utc>>,
    reason: &str,
    now: DateTime<Utc>,
) -> Result<(), DbError> {
    let finished = status.is_final().then_some(now);
    let sql =
        "UPDATE executions SET status = $1, lease_owner = NULL, lease_until = $2, reason = $3, \
               finished_at = COALESCE($4, finished_at), updated_at = $5 WHERE id = $6";
    tx_run!(tx, |c| sqlx::query(sql)
        .bind(status.as_str())
        .bind(lease_until)
        .bind(reason)
        .bind(finished)
        .bind(now)
        .bind(id)
        .execute(c)
        .await
        .map(|_| ()))?;
    Ok(())
}

/// Puts a claimed job back to wait for `run_after` (a window's start), unleased, saying why.
pub async fn defer(
    tx: &mut Tx,
    id: i64,
    run_after: DateTime<Utc>,
    reason: &str,
    now: DateTime<Utc>,
) -> Result<(), DbError> {
    let sql = "UPDATE executions SET status = 'scheduled', run_after = $1, lease_owner = NULL, \
               lease_until = NULL, reason = $2, updated_at = $3 WHERE id = $4";
    tx_run!(tx, |c| sqlx::query(sql)
        .bind(run_after)
        .bind(reason)
        .bind(now)
        .bind(id)
        .execute(c)
        .await
        .map(|_| ()))?;
    Ok(())
}

/// Marks the job changed (the live page refetches when `updated_at` moves).
pub async fn touch(tx: &mut Tx, id: i64, now: DateTime<Utc>) -> Result<(), DbError> {
    let sql = "UPDATE executions SET updated_at = $1 WHERE id = $2";
    tx_run!(tx, |c| sqlx::query(sql)
        .bind(now)
        .bind(id)
        .execute(c)
        .await
        .map(|_| ()))?;
    Ok(())
}
