//! SQL for a job's steps: created when it is first claimed, then moved through their states.

use chrono::{DateTime, Utc};

use super::super::{
    model::StepState,
    steps::{NewStep, StepKind},
};
use crate::{
    conn_run,
    db::{Conn, DbError, Tx},
    tx_run,
};

pub async fn insert_steps(
    tx: &mut Tx,
    job: i64,
    steps: &[NewStep],
    now: DateTime<Utc>,
) -> Result<(), DbError> {
    let sql = "INSERT INTO execution_steps (execution_id, position, stage, row_number, kind, check_number, undoes, updated_at) \
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8)";
    for s in steps {
        let (kind, check, undoes) = match s.kind {
            StepKind::Action => ("action", None, None),
            StepKind::Check(n) => ("check", Some(n), None),
            StepKind::Undo(p) => ("undo", None, Some(p)),
        };
        tx_run!(tx, |c| sqlx::query(sql)
            .bind(job)
            .bind(s.position)
            .bind(s.stage)
            .bind(s.row_number)
            .bind(kind)
            .bind(check)
            .bind(undoes)
            .bind(now)
            .execute(c)
            .await
            .map(|_| ()))?;
    }
    Ok(())
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct StepRow {
    pub id: i64,
    pub position: i32,
    pub stage: i32,
    pub row_number: i32,
    pub kind: String,
    pub check_number: Option<i32>,
    pub undoes: Option<i32>,
    pub state: String,
    pub retries: i32,
    pub remote_ref: Option<String>,
    pub values_json: Option<String>,
    pub message: String,
    pub started_at: Option<DateTime<Utc>>,
    pub finished_at: Option<DateTime<Utc>>,
}

impl StepRow {
    pub fn state(&self) -> StepState {
        StepState::parse(&self.state).unwrap_or(StepState::Failed)
    }

    pub fn kind(&self) -> StepKind {
        match (self.kind.as_str(), self.check_number, self.undoes) {
            ("check", Some(n), _) => StepKind::Check(n),
            ("undo", _, Some(p)) => StepKind::Undo(p),
            _ => StepKind::Action,
        }
    }
}

pub async fn steps(conn: &mut Conn<'_>, job: i64) -> Result<Vec<StepRow>, DbError> {
    let sql = "SELECT id, position, stage, row_number, kind, check_number, undoes, state, retries, remote_ref, values_json, \
               message, started_at, finished_at FROM execution_steps WHERE execution_id = $1 ORDER BY position";
    Ok(conn_run!(conn, |c| sqlx::query_as(sql)
        .bind(job)
        .fetch_all(c)
        .await)?)
}

/// A step's new state and what came of it.
pub struct StepUpdate<'a> {
    pub state: StepState,
    pub message: &'a str,
    pub remote_ref: Option<&'a str>,
    pub values_json: Option<&'a str>,
}

pub async fn set_step(
    tx: &mut Tx,
    id: i64,
    u: &StepUpdate<'_>,
    now: DateTime<Utc>,
) -> Result<(), DbError> {
    let (started, finished) = match u.state {
        StepState::Running => (Some(now), None),
        StepState::Pending => (None, None),
        _ => (None, Some(now)),
    };
    let sql = "UPDATE execution_steps SET state = $1, message = $2, remote_ref = COALESCE($3, remote_ref), \
               values_json = COALESCE($4, values_json), started_at = COALESCE($5, started_at), \
               finished_at = $6, updated_at = $7 WHERE id = $8";
    tx_run!(tx, |c| sqlx::query(sql)
        .bind(u.state.as_str())
        .bind(u.message)
        .bind(u.remote_ref)
        .bind(u.values_json)
        .bind(started)
        .bind(finished)
        .bind(now)
        .bind(id)
        .execute(c)
        .await
        .map(|_| ()))?;
    Ok(())
}

/// An operator's retry: back to pending, with a new idempotency key (and a new remote run).
pub async fn retry_step(tx: &mut Tx, id: i64, now: DateTime<Utc>) -> Result<(), DbError> {
    let sql =
        "UPDATE execution_steps SET state = 'pending', retries = retries + 1, remote_ref = NULL, \
               message = '', started_at = NULL, finished_at = NULL, updated_at = $1 WHERE id = $2";
    tx_run!(tx, |c| sqlx::query(sql)
        .bind(now)
        .bind(id)
        .execute(c)
        .await
        .map(|_| ()))?;
    Ok(())
}

/// Fails every running step of a job (it was aborted).
pub async fn stop_running(
    tx: &mut Tx,
    job: i64,
    message: &str,
    now: DateTime<Utc>,
) -> Result<(), DbError> {
    let sql = "UPDATE execution_steps SET state = 'failed', message = $1, finished_at = $2, updated_at = $2 \
               WHERE execution_id = $3 AND state = 'running'";
    tx_run!(tx, |c| sqlx::query(sql)
        .bind(message)
        .bind(now)
        .bind(job)
        .execute(c)
        .await
        .map(|_| ()))?;
    Ok(())
}
