//! SQL for evidence: every HTTP exchange, check result and operator action of a job.

use chrono::{DateTime, Utc};

use crate::{
    conn_run,
    db::{Conn, DbError, Tx},
    tx_run,
};

/// One piece of evidence: an HTTP exchange, a check result, an operator's action.
#[derive(Debug, Clone, Default, sqlx::FromRow)]
pub struct Evidence {
    pub kind: String,
    pub at: DateTime<Utc>,
    pub method: String,
    pub url: String,
    pub status: Option<i32>,
    pub duration_ms: i64,
    pub request_body: String,
    pub response_body: String,
    pub note: String,
}

pub async fn add_evidence(
    tx: &mut Tx,
    job: i64,
    step: i64,
    items: &[Evidence],
) -> Result<(), DbError> {
    let sql = "INSERT INTO execution_evidence (execution_id, step_id, kind, at, method, url, status, duration_ms, \
               request_body, response_body, note) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)";
    for e in items {
        tx_run!(tx, |c| sqlx::query(sql)
            .bind(job)
            .bind(step)
            .bind(&e.kind)
            .bind(e.at)
            .bind(&e.method)
            .bind(&e.url)
            .bind(e.status)
            .bind(e.duration_ms)
            .bind(&e.request_body)
            .bind(&e.response_body)
            .bind(&e.note)
            .execute(c)
            .await
            .map(|_| ()))?;
    }
    Ok(())
}

/// Evidence of a job, oldest first, with the step each belongs to.
pub async fn evidence(conn: &mut Conn<'_>, job: i64) -> Result<Vec<(i64, Evidence)>, DbError> {
    #[derive(sqlx::FromRow)]
    struct Row {
        step_id: i64,
        #[sqlx(flatten)]
        e: Evidence,
    }
    let sql = "SELECT step_id, kind, at, method, url, status, duration_ms, request_body, response_body, note \
               FROM execution_evidence WHERE execution_id = $1 ORDER BY id";
    let rows: Vec<Row> = conn_run!(conn, |c| sqlx::query_as(sql).bind(job).fetch_all(c).await)?;
    Ok(rows.into_iter().map(|r| (r.step_id, r.e)).collect())
}
