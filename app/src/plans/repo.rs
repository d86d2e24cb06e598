//! SQL for plans and their revisions.

use chrono::{DateTime, Utc};

use super::model::{PlanBody, PlanStatus};
use crate::{
    conn_run,
    db::{Conn, DbError, Tx},
    tx_run,
};

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct PlanRow {
    pub id: i64,
    pub change_id: i64,
    pub author_id: i64,
    pub status: String,
    pub current_revision: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub end_reason: Option<String>,
}

impl PlanRow {
    pub fn status(&self) -> PlanStatus {
        PlanStatus::parse(&self.status).unwrap_or(PlanStatus::Draft)
    }
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct RevisionRow {
    pub number: i32,
    pub content_hash: String,
    pub body_json: String,
    pub author_id: i64,
    pub author: String,
    pub created_at: DateTime<Utc>,
}

impl RevisionRow {
    pub fn body(&self) -> Result<PlanBody, DbError> {
        serde_json::from_str(&self.body_json)
            .map_err(|e| DbError::Other(sqlx::Error::Decode(Box::new(e))))
    }
}

const PLAN_COLUMNS: &str =
    "id, change_id, author_id, status, current_revision, created_at, updated_at, end_reason";

pub async fn insert_plan(
    tx: &mut Tx,
    change_id: i64,
    author_id: i64,
    now: DateTime<Utc>,
) -> Result<i64, DbError> {
    let sql = "INSERT INTO plans (change_id, author_id, status, current_revision, created_at, updated_at) \
               VALUES ($1, $2, 'draft', 1, $3, $3) RETURNING id";
    Ok(tx_run!(tx, |c| sqlx::query_scalar(sql)
        .bind(change_id)
        .bind(author_id)
        .bind(now)
        .fetch_one(c)
        .await)?)
}

pub async fn insert_revision(
    tx: &mut Tx,
    plan_id: i64,
    number: i32,
    hash: &str,
    body: &PlanBody,
    author_id: i64,
    now: DateTime<Utc>,
) -> Result<(), DbError> {
    let sql = "INSERT INTO plan_revisions (plan_id, number, content_hash, body_json, author_id, created_at) \
               VALUES ($1, $2, $3, $4, $5, $6)";
    let json = serde_json::to_string(body)
        .map_err(|e| DbError::Other(sqlx::Error::Encode(Box::new(e))))?;
    tx_run!(tx, |c| sqlx::query(sql)
        .bind(plan_id)
        .bind(number)
        .bind(hash)
        .bind(json)
        .bind(author_id)
        .bind(now)
        .execute(c)
        .await
        .map(|_| ()))?;
    Ok(())
}

/// The plan row, locked for the rest of the transaction on PostgreSQL (SQLite transactions
/// already hold the database's write lock), so decisions on one plan are taken one at a time.
pub async fn lock(tx: &mut Tx, id: i64) -> Result<PlanRow, DbError> {
    let row = match tx {
        Tx::Sqlite(c) => {
            let sql = format!("SELECT {PLAN_COLUMNS} FROM plans WHERE id = $1");
            sqlx::query_as(&sql).bind(id).fetch_one(&mut **c).await?
        }
        Tx::Postgres(c) => {
            let sql = format!("SELECT {PLAN_COLUMNS} FROM plans WHERE id = $1 FOR UPDATE");
            sqlx::query_as(&sql).bind(id).fetch_one(&mut **c).await?
        }
    };
    Ok(row)
}

pub async fn get(conn: &mut Conn<'_>, id: i64) -> Result<PlanRow, DbError> {
    let sql = format!("SELECT {PLAN_COLUMNS} FROM plans WHERE id = $1");
    Ok(conn_run!(conn, |c| sqlx::query_as(&sql)
        .bind(id)
        .fetch_one(c)
        .await)?)
}

/// The change's open plan (not withdrawn or aborted); a change has at most one.
pub async fn find_open_by_change(
    conn: &mut Conn<'_>,
    change_id: i64,
) -> Result<Option<PlanRow>, DbError> {
    let sql = format!(
        "SELECT {PLAN_COLUMNS} FROM plans WHERE change_id = $1 AND status NOT IN ('aborted', 'withdrawn')"
    );
    Ok(conn_run!(conn, |c| sqlx::query_as(&sql)
        .bind(change_id)
        .fetch_optional(c)
        .await)?)
}

/// One plan of a change's history.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct PlanOfChange {
    pub id: i64,
    pub status: String,
    pub created_at: DateTime<Utc>,
    pub end_reason: Option<String>,
}

/// Every plan of a change, newest first.
pub async fn plans_of_change(
    conn: &mut Conn<'_>,
    change_id: i64,
) -> Result<Vec<PlanOfChange>, DbError> {
    let sql = "SELECT id, status, created_at, end_reason FROM plans WHERE change_id = $1 ORDER BY id DESC";
    Ok(conn_run!(conn, |c| sqlx::query_as(sql)
        .bind(change_id)
        .fetch_all(c)
        .await)?)
}

/// Ends a plan that will not run (withdrawn), keeping why.
pub async fn end(
    tx: &mut Tx,
    id: i64,
    status: PlanStatus,
    reason: &str,
    now: DateTime<Utc>,
) -> Result<(), DbError> {
    let sql = "UPDATE plans SET status = $1, end_reason = $2, updated_at = $3 WHERE id = $4";
    tx_run!(tx, |c| sqlx::query(sql)
        .bind(status.as_str())
        .bind(reason)
        .bind(now)
        .bind(id)
        .execute(c)
        .await
        .map(|_| ()))?;
    Ok(())
}

pub async fn set_state(
    tx: &mut Tx,
    id: i64,
    status: PlanStatus,
    revision: i32,
    now: DateTime<Utc>,
) -> Result<(), DbError> {
    let sql = "UPDATE plans SET status = $1, current_revision = $2, updated_at = $3 WHERE id = $4";
    tx_run!(tx, |c| sqlx::query(sql)
        .bind(status.as_str())
        .bind(revision)
        .bind(now)
        .bind(id)
        .execute(c)
        .await
        .map(|_| ()))?;
    Ok(())
}

const REVISION_COLUMNS: &str =
    "r.number, r.content_hash, r.body_json, r.author_id, u.username AS author, r.created_at";

pub async fn revision(
    conn: &mut Conn<'_>,
    plan_id: i64,
    number: i32,
) -> Result<RevisionRow, DbError> {
    let sql = format!(
        "SELECT {REVISION_COLUMNS} FROM plan_revisions r JOIN users u ON u.id = r.author_id \
         WHERE r.plan_id = $1 AND r.number = $2"
    );
    Ok(conn_run!(conn, |c| sqlx::query_as(&sql)
        .bind(plan_id)
        .bind(number)
        .fetch_one(c)
        .await)?)
}

/// Every revision, newest first (without bodies' use in mind: they are small).
pub async fn revisions(conn: &mut Conn<'_>, plan_id: i64) -> Result<Vec<RevisionRow>, DbError> {
    let sql = format!(
        "SELECT {REVISION_COLUMNS} FROM plan_revisions r JOIN users u ON u.id = r.author_id \
         WHERE r.plan_id = $1 ORDER BY r.number DESC"
    );
    Ok(conn_run!(conn, |c| sqlx::query_as(&sql)
        .bind(plan_id)
        .fetch_all(c)
        .await)?)
}

/// The edges among everything downstream of any of `roots` (one recursive query).
pub async fn lineage_below(conn: &mut Conn<'_>, roots: &[i64]) -> Result<Vec<(i64, i64)>, DbError> {
    if roots.is_empty() {
        return Ok(Vec::new());
    }
    let sql = format!(
        "WITH RECURSIVE down(id) AS ( \
           SELECT id FROM components WHERE id IN ({}) \
           UNION SELECT e.downstream_id FROM component_edges e JOIN down d ON e.upstream_id = d.id) \
         SELECT e.upstream_id, e.downstream_id FROM component_edges e JOIN down d ON e.upstream_id = d.id",
        crate::db::placeholders_from(1, roots.len())
    );
    Ok(conn_run!(conn, |c| {
        let mut q = sqlx::query_as(&sql);
        for id in roots {
            q = q.bind(id);
        }
        q.fetch_all(c).await
    })?)
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct CandidateRow {
    pub id: i64,
    pub name: String,
    pub kind: String,
    pub owner: String,
    pub dag_id: Option<String>,
    pub rollback_dag_id: Option<String>,
}

/// What the proposal and the policy choice need of these components (any order).
pub async fn candidates(conn: &mut Conn<'_>, ids: &[i64]) -> Result<Vec<CandidateRow>, DbError> {
    let sql =
        "SELECT id, name, kind, owner, dag_id, rollback_dag_id FROM components WHERE id IN ({ids})";
    crate::db::select_in(conn, sql, ids).await
}

/// The tags of these components (for choosing the policy).
pub async fn tags_of(conn: &mut Conn<'_>, ids: &[i64]) -> Result<Vec<String>, DbError> {
    let sql = "SELECT DISTINCT tag FROM component_tags WHERE component_id IN ({ids})";
    let rows: Vec<(String,)> = crate::db::select_in(conn, sql, ids).await?;
    let mut tags: Vec<String> = rows.into_iter().map(|(t,)| t).collect();
    tags.sort();
    tags.dedup();
    Ok(tags)
}

/// A component with the binding its rows snapshot: DAG ids and the connector as it is now.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct BindingRow {
    pub id: i64,
    pub name: String,
    pub owner: String,
    pub dag_id: Option<String>,
    pub rollback_dag_id: Option<String>,
    pub connector_id: Option<i64>,
    pub connector_kind: Option<String>,
    pub connector_name: Option<String>,
    pub connector_url: Option<String>,
    pub retention: Option<String>,
}

pub async fn bindings(conn: &mut Conn<'_>, ids: &[i64]) -> Result<Vec<BindingRow>, DbError> {
    let sql = "SELECT c.id, c.name, c.owner, c.dag_id, c.rollback_dag_id, k.id AS connector_id, \
               k.kind AS connector_kind, k.name AS connector_name, k.base_url AS connector_url, c.retention \
               FROM components c LEFT JOIN connectors k ON k.id = c.connector_id WHERE c.id IN ({ids})";
    crate::db::select_in(conn, sql, ids).await
}

/// A data version some change produced on a component.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct VersionRow {
    pub component_id: i64,
    pub change_id: i64,
    pub title: String,
    pub deployed_at: DateTime<Utc>,
    pub data_version: String,
    pub git_sha: Option<String>,
}

/// How many earlier versions the editor offers per component.
pub const HISTORY: i64 = 5;

/// The last versions produced on these components by changes deployed before the change
/// `(before_at, before_id)`, newest first, at most `HISTORY` per component.
pub async fn versions_before(
    conn: &mut Conn<'_>,
    ids: &[i64],
    before_at: DateTime<Utc>,
    before_id: i64,
) -> Result<Vec<VersionRow>, DbError> {
    let mut out = Vec::new();
    for chunk in ids.chunks(500) {
        let sql = format!(
            "SELECT component_id, change_id, title, deployed_at, data_version, git_sha FROM ( \
               SELECT cc.component_id, c.id AS change_id, c.title, c.deployed_at, cc.data_version, c.git_sha, \
                 ROW_NUMBER() OVER (PARTITION BY cc.component_id ORDER BY c.deployed_at DESC, c.id DESC) AS n \
               FROM change_components cc JOIN changes c ON c.id = cc.change_id \
               WHERE cc.component_id IN ({}) AND cc.data_version <> '' \
                 AND (c.deployed_at < $1 OR (c.deployed_at = $2 AND c.id < $3)) \
             ) t WHERE n <= {HISTORY} ORDER BY component_id, deployed_at DESC, change_id DESC",
            crate::db::placeholders_from(4, chunk.len())
        );
        let rows: Vec<VersionRow> = conn_run!(conn, |c| {
            let mut q = sqlx::query_as(&sql)
                .bind(before_at)
                .bind(before_at)
                .bind(before_id);
            for id in chunk {
                q = q.bind(id);
            }
            q.fetch_all(c).await
        })?;
        out.extend(rows);
    }
    Ok(out)
}
