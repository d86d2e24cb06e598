//! SQL for policies, approval requests, decisions, sign-offs and execution jobs.

mod decisions;

use std::collections::HashMap;

use chrono::{DateTime, Utc};

use super::{
    policy::{Policy, Scope},
    quorum::Requirement,
    windows::Window,
};
pub use decisions::{
    decisions, find_decision_by_key, insert_decision, void_before, void_decision, DecisionRow,
    NewDecision,
};

use crate::{
    conn_run,
    db::{Conn, DbError, Tx},
    tx_run,
};

fn decode<T: serde::de::DeserializeOwned>(json: &str) -> Result<T, DbError> {
    serde_json::from_str(json).map_err(|e| DbError::Other(sqlx::Error::Decode(Box::new(e))))
}

fn encode<T: serde::Serialize>(value: &T) -> Result<String, DbError> {
    serde_json::to_string(value).map_err(|e| DbError::Other(sqlx::Error::Encode(Box::new(e))))
}

#[derive(sqlx::FromRow)]
struct PolicyRow {
    id: i64,
    name: String,
    scope_kind: String,
    scope_value: String,
    expiry_hours: i64,
    windows_json: String,
    break_glass_group_id: Option<i64>,
    break_glass_group: Option<String>,
    version: i64,
}

/// Every policy with its requirements (two queries).
pub async fn policies(conn: &mut Conn<'_>) -> Result<Vec<Policy>, DbError> {
    let sql = "SELECT p.id, p.name, p.scope_kind, p.scope_value, p.expiry_hours, p.windows_json, \
               p.break_glass_group_id, g.name AS break_glass_group, p.version \
               FROM approval_policies p LEFT JOIN approval_groups g ON g.id = p.break_glass_group_id ORDER BY p.id";
    let rows: Vec<PolicyRow> = conn_run!(conn, |c| sqlx::query_as(sql).fetch_all(c).await)?;
    let sql = "SELECT r.policy_id, r.group_id, g.name, r.approvals FROM policy_requirements r \
               JOIN approval_groups g ON g.id = r.group_id ORDER BY r.policy_id, r.position";
    let reqs: Vec<(i64, i64, String, i32)> =
        conn_run!(conn, |c| sqlx::query_as(sql).fetch_all(c).await)?;
    let mut by_policy: HashMap<i64, Vec<Requirement>> = HashMap::new();
    for (policy_id, group_id, group, count) in reqs {
        by_policy.entry(policy_id).or_default().push(Requirement {
            group_id,
            group,
            count: count as u32,
            break_glass: false,
        });
    }
    rows.into_iter()
        .map(|r| {
            Ok(Policy {
                id: r.id,
                scope: match r.scope_kind.as_str() {
                    "tag" => Scope::Tag(r.scope_value),
                    "pipeline" => Scope::Pipeline(r.scope_value),
                    _ => Scope::Default,
                },
                name: r.name,
                requirements: by_policy.remove(&r.id).unwrap_or_default(),
                expiry_hours: r.expiry_hours,
                windows: decode::<Vec<Window>>(&r.windows_json)?,
                break_glass: r.break_glass_group_id.zip(r.break_glass_group),
                version: r.version,
            })
        })
        .collect()
}

fn scope_columns(scope: &Scope) -> (&'static str, String) {
    match scope {
        Scope::Default => ("default", String::new()),
        Scope::Tag(t) => ("tag", t.to_lowercase()),
        Scope::Pipeline(p) => ("pipeline", p.to_lowercase()),
    }
}

/// Inserts (id 0) or updates a policy if its version is still `p.version`; false when stale.
pub async fn save_policy(
    tx: &mut Tx,
    p: &Policy,
    now: DateTime<Utc>,
) -> Result<Option<i64>, DbError> {
    let (kind, value) = scope_columns(&p.scope);
    let windows = encode(&p.windows)?;
    let bg = p.break_glass.as_ref().map(|(id, _)| *id);
    let id = if p.id == 0 {
        let sql = "INSERT INTO approval_policies (name, name_lower, scope_kind, scope_value, expiry_hours, windows_json, \
                   break_glass_group_id, version, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, 1, $8, $8) RETURNING id";
        tx_run!(tx, |c| sqlx::query_scalar(sql)
            .bind(&p.name)
            .bind(p.name.to_lowercase())
            .bind(kind)
            .bind(&value)
            .bind(p.expiry_hours)
            .bind(&windows)
            .bind(bg)
            .bind(now)
            .fetch_one(c)
            .await)?
    } else {
        let sql = "UPDATE approval_policies SET name = $1, name_lower = $2, scope_kind = $3, scope_value = $4, expiry_hours = $5, \
                   windows_json = $6, break_glass_group_id = $7, version = version + 1, updated_at = $8 WHERE id = $9 AND version = $10";
        let n = tx_run!(tx, |c| sqlx::query(sql)
            .bind(&p.name)
            .bind(p.name.to_lowercase())
            .bind(kind)
            .bind(&value)
            .bind(p.expiry_hours)
            .bind(&windows)
            .bind(bg)
            .bind(now)
            .bind(p.id)
            .bind(p.version)
            .execute(c)
            .await
            .map(|r| r.rows_affected()))?;
        if n == 0 {
            return Ok(None);
        }
        tx_run!(tx, |c| sqlx::query(
            "DELETE FROM policy_requirements WHERE policy_id = $1"
        )
        .bind(p.id)
        .execute(c)
        .await
        .map(|_| ()))?;
        p.id
    };
    for (i, r) in p.requirements.iter().enumerate() {
        let sql = "INSERT INTO policy_requirements (policy_id, group_id, position, approvals) VALUES ($1, $2, $3, $4)";
        tx_run!(tx, |c| sqlx::query(sql)
            .bind(id)
            .bind(r.group_id)
            .bind(i as i32)
            .bind(r.count as i32)
            .execute(c)
            .await
            .map(|_| ()))?;
    }
    Ok(Some(id))
}

/// A submitted revision with the policy as it was then.
#[derive(Debug, Clone)]
pub struct Request {
    pub plan_id: i64,
    pub revision: i32,
    pub content_hash: String,
    pub policy_id: i64,
    pub policy_name: String,
    pub requirements: Vec<Requirement>,
    pub expiry_hours: i64,
    pub windows: Vec<Window>,
    pub break_glass_reason: Option<String>,
    pub submitted_by: i64,
    pub submitted_at: DateTime<Utc>,
}

pub async fn insert_request(tx: &mut Tx, r: &Request) -> Result<(), DbError> {
    let sql = "INSERT INTO approval_requests (plan_id, revision, content_hash, policy_id, policy_name, requirements_json, \
               expiry_hours, windows_json, break_glass_reason, submitted_by, submitted_at) \
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)";
    let (reqs, windows) = (encode(&r.requirements)?, encode(&r.windows)?);
    tx_run!(tx, |c| sqlx::query(sql)
        .bind(r.plan_id)
        .bind(r.revision)
        .bind(&r.content_hash)
        .bind(r.policy_id)
        .bind(&r.policy_name)
        .bind(&reqs)
        .bind(r.expiry_hours)
        .bind(&windows)
        .bind(&r.break_glass_reason)
        .bind(r.submitted_by)
        .bind(r.submitted_at)
        .execute(c)
        .await
        .map(|_| ()))?;
    Ok(())
}

#[derive(sqlx::FromRow)]
struct RequestRow {
    plan_id: i64,
    revision: i32,
    content_hash: String,
    policy_id: i64,
    policy_name: String,
    requirements_json: String,
    expiry_hours: i64,
    windows_json: String,
    break_glass_reason: Option<String>,
    submitted_by: i64,
    submitted_at: DateTime<Utc>,
}

pub async fn request(
    conn: &mut Conn<'_>,
    plan_id: i64,
    revision: i32,
) -> Result<Option<Request>, DbError> {
    let sql = "SELECT plan_id, revision, content_hash, policy_id, policy_name, requirements_json, expiry_hours, windows_json, \
               break_glass_reason, submitted_by, submitted_at FROM approval_requests WHERE plan_id = $1 AND revision = $2";
    let row: Option<RequestRow> = conn_run!(conn, |c| sqlx::query_as(sql)
        .bind(plan_id)
        .bind(revision)
        .fetch_optional(c)
        .await)?;
    row.map(|r| {
        Ok(Request {
            plan_id: r.plan_id,
            revision: r.revision,
            content_hash: r.content_hash,
            policy_id: r.policy_id,
            policy_name: r.policy_name,
            requirements: decode(&r.requirements_json)?,
            expiry_hours: r.expiry_hours,
            windows: decode(&r.windows_json)?,
            break_glass_reason: r.break_glass_reason,
            submitted_by: r.submitted_by,
            submitted_at: r.submitted_at,
        })
    })
    .transpose()
}

/// The sign-off of a plan and its execution job, if signed off.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SignOffRow {
    pub id: i64,
    pub revision: i32,
    pub content_hash: String,
    pub break_glass: bool,
    pub signed_at: DateTime<Utc>,
    pub execution_id: i64,
    pub execution_status: String,
    pub run_after: Option<DateTime<Utc>>,
}

pub async fn sign_off(conn: &mut Conn<'_>, plan_id: i64) -> Result<Option<SignOffRow>, DbError> {
    let sql = "SELECT s.id, s.revision, s.content_hash, s.break_glass, s.signed_at, e.id AS execution_id, \
               e.status AS execution_status, e.run_after \
               FROM sign_offs s JOIN executions e ON e.sign_off_id = s.id WHERE s.plan_id = $1 ORDER BY s.id DESC LIMIT 1";
    Ok(conn_run!(conn, |c| sqlx::query_as(sql)
        .bind(plan_id)
        .fetch_optional(c)
        .await)?)
}

/// Inserts the sign-off and its execution job; returns (sign-off id, execution id).
pub async fn insert_sign_off(
    tx: &mut Tx,
    plan_id: i64,
    revision: i32,
    hash: &str,
    break_glass: bool,
    run_after: Option<DateTime<Utc>>,
    at: DateTime<Utc>,
) -> Result<(i64, i64), DbError> {
    let sql = "INSERT INTO sign_offs (plan_id, revision, content_hash, break_glass, signed_at) VALUES ($1, $2, $3, $4, $5) RETURNING id";
    let sign_off: i64 = tx_run!(tx, |c| sqlx::query_scalar(sql)
        .bind(plan_id)
        .bind(revision)
        .bind(hash)
        .bind(break_glass)
        .bind(at)
        .fetch_one(c)
        .await)?;
    let sql =
        "INSERT INTO executions (sign_off_id, plan_id, status, run_after, created_at, updated_at) \
               VALUES ($1, $2, 'scheduled', $3, $4, $4) RETURNING id";
    let execution: i64 = tx_run!(tx, |c| sqlx::query_scalar(sql)
        .bind(sign_off)
        .bind(plan_id)
        .bind(run_after)
        .bind(at)
        .fetch_one(c)
        .await)?;
    Ok((sign_off, execution))
}

/// Everyone who drafted, revised or submitted a plan, and the change's author.
pub async fn hands(conn: &mut Conn<'_>, plan_id: i64) -> Result<super::quorum::Hands, DbError> {
    let sql = "SELECT p.author_id, c.author_id FROM plans p JOIN changes c ON c.id = p.change_id WHERE p.id = $1";
    let (drafter, change_author): (i64, i64) = conn_run!(conn, |c| sqlx::query_as(sql)
        .bind(plan_id)
        .fetch_one(c)
        .await)?;
    let sql = "SELECT DISTINCT author_id FROM plan_revisions WHERE plan_id = $1";
    let revision_authors: Vec<i64> = conn_run!(conn, |c| sqlx::query_scalar(sql)
        .bind(plan_id)
        .fetch_all(c)
        .await)?;
    let sql = "SELECT DISTINCT submitted_by FROM approval_requests WHERE plan_id = $1";
    let submitters: Vec<i64> = conn_run!(conn, |c| sqlx::query_scalar(sql)
        .bind(plan_id)
        .fetch_all(c)
        .await)?;
    Ok(super::quorum::Hands {
        drafter,
        revision_authors,
        submitters,
        change_author,
    })
}

/// Of these users, who is still an active approver, and in which groups: (user, group).
pub async fn standing_approvers(
    conn: &mut Conn<'_>,
    ids: &[i64],
) -> Result<Vec<(i64, i64)>, DbError> {
    let sql = "SELECT m.user_id, m.group_id FROM group_members m JOIN users u ON u.id = m.user_id \
               JOIN user_roles r ON r.user_id = u.id AND r.role = 'approver' \
               WHERE u.active AND m.user_id IN ({ids})";
    crate::db::select_in(conn, sql, ids).await
}

/// The groups a user belongs to.
pub async fn user_groups(conn: &mut Conn<'_>, user_id: i64) -> Result<Vec<i64>, DbError> {
    let sql = "SELECT group_id FROM group_members WHERE user_id = $1";
    Ok(conn_run!(conn, |c| sqlx::query_scalar(sql)
        .bind(user_id)
        .fetch_all(c)
        .await)?)
}

#[derive(Debug, sqlx::FromRow)]
pub struct InboxRow {
    pub plan_id: i64,
    pub change_id: i64,
    pub title: String,
    pub revision: i32,
    pub submitted_at: DateTime<Utc>,
    pub requirements_json: String,
    /// The user decided on an earlier revision, voided by an edit.
    pub revised: bool,
    /// When the user approved this revision, if they did (the approval may have expired).
    pub approved_at: Option<DateTime<Utc>>,
    pub expiry_hours: i64,
}

/// Plans waiting for decisions on their current revision that `user_id` has not decided or only
/// approved (the caller drops approvals still valid); newest submission first.
pub async fn inbox(conn: &mut Conn<'_>, user_id: i64) -> Result<Vec<InboxRow>, DbError> {
    let sql = "SELECT p.id AS plan_id, c.id AS change_id, c.title, p.current_revision AS revision, r.submitted_at, \
               r.requirements_json, EXISTS (SELECT 1 FROM approval_decisions v WHERE v.plan_id = p.id \
               AND v.approver_id = $1 AND v.voided_at IS NOT NULL AND v.revision < p.current_revision) AS revised, \
               d.decided_at AS approved_at, r.expiry_hours \
               FROM plans p JOIN changes c ON c.id = p.change_id \
               JOIN approval_requests r ON r.plan_id = p.id AND r.revision = p.current_revision \
               LEFT JOIN approval_decisions d ON d.plan_id = p.id AND d.revision = p.current_revision \
                    AND d.approver_id = $1 AND d.voided_at IS NULL \
               WHERE p.status = 'in_review' AND p.author_id <> $1 AND c.author_id <> $1 \
               AND NOT EXISTS (SELECT 1 FROM plan_revisions w WHERE w.plan_id = p.id AND w.author_id = $1) \
               AND NOT EXISTS (SELECT 1 FROM approval_requests s WHERE s.plan_id = p.id AND s.submitted_by = $1) \
               AND (d.id IS NULL OR d.decision = 'approve') \
               ORDER BY r.submitted_at DESC, p.id DESC LIMIT 200";
    Ok(conn_run!(conn, |c| sqlx::query_as(sql)
        .bind(user_id)
        .fetch_all(c)
        .await)?)
}
