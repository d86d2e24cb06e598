//! SQL for postmortems, their timeline entries and published versions, and the audit events
//! their timelines are read from.

use chrono::{DateTime, Utc};

use super::{
    model::{PostmortemStatus, Sections},
    timeline::{Entry, Moment, SourceEvent},
    view::{Postmortem, Summary},
};
use crate::{
    audit::Actor,
    conn_run,
    db::{placeholders_from, Conn, DbError, Tx},
    tx_run,
};

#[derive(sqlx::FromRow)]
struct PostmortemRow {
    id: i64,
    change_id: i64,
    change_title: String,
    status: String,
    author_id: i64,
    author: String,
    reviewer_id: Option<i64>,
    reviewer: Option<String>,
    version: i64,
    sections: String,
    detected_at: Option<DateTime<Utc>>,
    no_actions_reason: Option<String>,
    published_versions: i64,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    published_at: Option<DateTime<Utc>>,
}

impl From<PostmortemRow> for Postmortem {
    fn from(r: PostmortemRow) -> Self {
        Self {
            id: r.id,
            change_id: r.change_id,
            change_title: r.change_title,
            status: PostmortemStatus::parse(&r.status).unwrap_or(PostmortemStatus::Draft),
            author: Actor {
                id: r.author_id,
                username: r.author,
            },
            reviewer: r
                .reviewer_id
                .zip(r.reviewer)
                .map(|(id, username)| Actor { id, username }),
            version: r.version,
            sections: serde_json::from_str(&r.sections).unwrap_or_default(),
            detected_at: r.detected_at,
            no_actions_reason: r.no_actions_reason,
            published_versions: r.published_versions,
            created_at: r.created_at,
            updated_at: r.updated_at,
            published_at: r.published_at,
        }
    }
}

fn sections_json(s: &Sections) -> String {
    serde_json::to_string(s).unwrap_or_else(|_| "{}".into())
}

/// Opens a draft for the change; a second one for the same change is `postmortems_change_key`.
pub async fn insert(
    tx: &mut Tx,
    change_id: i64,
    author_id: i64,
    sections: &Sections,
    now: DateTime<Utc>,
) -> Result<i64, DbError> {
    let sql = "INSERT INTO postmortems (change_id, status, author_id, version, sections, published_versions, created_at, updated_at) \
               VALUES ($1, 'draft', $2, 1, $3, 0, $4, $4) RETURNING id";
    Ok(tx_run!(tx, |x| sqlx::query_scalar(sql)
        .bind(change_id)
        .bind(author_id)
        .bind(sections_json(sections))
        .bind(now)
        .fetch_one(x)
        .await)?)
}

pub async fn get(conn: &mut Conn<'_>, id: i64) -> Result<Postmortem, DbError> {
    let sql = "SELECT p.id, p.change_id, c.title AS change_title, p.status, p.author_id, a.username AS author, \
               p.reviewer_id, r.username AS reviewer, p.version, p.sections, p.detected_at, p.no_actions_reason, \
               p.published_versions, p.created_at, p.updated_at, p.published_at \
               FROM postmortems p JOIN changes c ON c.id = p.change_id JOIN users a ON a.id = p.author_id \
               LEFT JOIN users r ON r.id = p.reviewer_id WHERE p.id = $1";
    let row: PostmortemRow = conn_run!(conn, |x| sqlx::query_as(sql).bind(id).fetch_one(x).await)?;
    Ok(row.into())
}

/// The change's postmortem, if one was opened.
pub async fn of_change(
    conn: &mut Conn<'_>,
    change_id: i64,
) -> Result<Option<(i64, PostmortemStatus)>, DbError> {
    let sql = "SELECT id, status FROM postmortems WHERE change_id = $1";
    let row: Option<(i64, String)> = conn_run!(conn, |x| sqlx::query_as(sql)
        .bind(change_id)
        .fetch_optional(x)
        .await)?;
    Ok(row.map(|(id, s)| {
        (
            id,
            PostmortemStatus::parse(&s).unwrap_or(PostmortemStatus::Draft),
        )
    }))
}

/// The document's new text and status, if the stored version is still `version`.
pub struct Save<'a> {
    pub sections: &'a Sections,
    pub detected_at: Option<DateTime<Utc>>,
    pub no_actions_reason: Option<&'a str>,
    pub status: PostmortemStatus,
}

pub async fn save(
    tx: &mut Tx,
    id: i64,
    version: i64,
    s: &Save<'_>,
    now: DateTime<Utc>,
) -> Result<bool, DbError> {
    let sql = "UPDATE postmortems SET sections = $1, detected_at = $2, no_actions_reason = $3, status = $4, \
               version = version + 1, updated_at = $5 WHERE id = $6 AND version = $7";
    let n = tx_run!(tx, |x| sqlx::query(sql)
        .bind(sections_json(s.sections))
        .bind(s.detected_at)
        .bind(s.no_actions_reason)
        .bind(s.status.as_str())
        .bind(now)
        .bind(id)
        .bind(version)
        .execute(x)
        .await
        .map(|r| r.rows_affected()))?;
    Ok(n == 1)
}

/// Moves the status if the stored version is still `version` (bumping it).
pub async fn set_status(
    tx: &mut Tx,
    id: i64,
    version: i64,
    status: PostmortemStatus,
    now: DateTime<Utc>,
) -> Result<bool, DbError> {
    let sql = "UPDATE postmortems SET status = $1, version = version + 1, updated_at = $2 WHERE id = $3 AND version = $4";
    let n = tx_run!(tx, |x| sqlx::query(sql)
        .bind(status.as_str())
        .bind(now)
        .bind(id)
        .bind(version)
        .execute(x)
        .await
        .map(|r| r.rows_affected()))?;
    Ok(n == 1)
}

/// Publishes version `number` of the document as `body`, reviewed by `reviewer_id`.
pub async fn publish(
    tx: &mut Tx,
    id: i64,
    version: i64,
    reviewer_id: i64,
    body: &str,
    now: DateTime<Utc>,
) -> Result<Option<i64>, DbError> {
    let sql = "UPDATE postmortems SET status = 'published', reviewer_id = $1, published_at = $2, updated_at = $2, \
               published_versions = published_versions + 1, version = version + 1 \
               WHERE id = $3 AND version = $4 AND status = 'in_review' RETURNING published_versions";
    let number: Option<i64> = tx_run!(tx, |x| sqlx::query_scalar(sql)
        .bind(reviewer_id)
        .bind(now)
        .bind(id)
        .bind(version)
        .fetch_optional(x)
        .await)?;
    let Some(number) = number else {
        return Ok(None);
    };
    let sql = "INSERT INTO postmortem_versions (postmortem_id, number, body, published_by, published_at) VALUES ($1, $2, $3, $4, $5)";
    tx_run!(tx, |x| sqlx::query(sql)
        .bind(id)
        .bind(number)
        .bind(body)
        .bind(reviewer_id)
        .bind(now)
        .execute(x)
        .await
        .map(|r| r.rows_affected()))?;
    Ok(Some(number))
}

/// A published version's body (JSON), if it exists.
pub async fn version_body(conn: &mut Conn<'_>, id: i64, number: i64) -> Result<String, DbError> {
    let sql = "SELECT body FROM postmortem_versions WHERE postmortem_id = $1 AND number = $2";
    Ok(conn_run!(conn, |x| sqlx::query_scalar(sql)
        .bind(id)
        .bind(number)
        .fetch_one(x)
        .await)?)
}

/// Bumps the version: the timeline changed, so a review of the older copy no longer holds.
pub async fn touch(
    tx: &mut Tx,
    id: i64,
    version: i64,
    now: DateTime<Utc>,
) -> Result<bool, DbError> {
    let sql = "UPDATE postmortems SET version = version + 1, updated_at = $1 WHERE id = $2 AND version = $3";
    let n = tx_run!(tx, |x| sqlx::query(sql)
        .bind(now)
        .bind(id)
        .bind(version)
        .execute(x)
        .await
        .map(|r| r.rows_affected()))?;
    Ok(n == 1)
}

#[derive(sqlx::FromRow)]
struct EntryRow {
    id: i64,
    audit_seq: Option<i64>,
    at: Option<DateTime<Utc>>,
    text: String,
    moment: Option<String>,
    starred: bool,
    author: String,
}

pub async fn entries(conn: &mut Conn<'_>, postmortem_id: i64) -> Result<Vec<Entry>, DbError> {
    let sql = "SELECT e.id, e.audit_seq, e.at, e.text, e.moment, e.starred, u.username AS author \
               FROM postmortem_entries e JOIN users u ON u.id = e.author_id WHERE e.postmortem_id = $1 ORDER BY e.id";
    let rows: Vec<EntryRow> = conn_run!(conn, |x| sqlx::query_as(sql)
        .bind(postmortem_id)
        .fetch_all(x)
        .await)?;
    Ok(rows
        .into_iter()
        .map(|r| Entry {
            id: r.id,
            audit_seq: r.audit_seq,
            at: r.at,
            text: r.text,
            moment: r.moment.as_deref().and_then(Moment::parse),
            starred: r.starred,
            author: r.author,
        })
        .collect())
}

/// The author's entry as stored.
pub struct NewEntry<'a> {
    pub audit_seq: Option<i64>,
    pub at: Option<DateTime<Utc>>,
    pub text: &'a str,
    pub moment: Option<Moment>,
    pub starred: bool,
}

/// Adds an entry, or (for a mark on an event already marked) replaces the mark.
pub async fn put_entry(
    tx: &mut Tx,
    postmortem_id: i64,
    author_id: i64,
    e: &NewEntry<'_>,
    now: DateTime<Utc>,
) -> Result<i64, DbError> {
    if let Some(seq) = e.audit_seq {
        let sql = "DELETE FROM postmortem_entries WHERE postmortem_id = $1 AND audit_seq = $2";
        tx_run!(tx, |x| sqlx::query(sql)
            .bind(postmortem_id)
            .bind(seq)
            .execute(x)
            .await
            .map(|r| r.rows_affected()))?;
    }
    let sql = "INSERT INTO postmortem_entries (postmortem_id, audit_seq, at, text, moment, starred, author_id, created_at) \
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id";
    Ok(tx_run!(tx, |x| sqlx::query_scalar(sql)
        .bind(postmortem_id)
        .bind(e.audit_seq)
        .bind(e.at)
        .bind(e.text)
        .bind(e.moment.map(Moment::as_str))
        .bind(e.starred)
        .bind(author_id)
        .bind(now)
        .fetch_one(x)
        .await)?)
}

/// Removes one of the postmortem's entries; false when it has no such entry.
pub async fn delete_entry(tx: &mut Tx, postmortem_id: i64, entry_id: i64) -> Result<bool, DbError> {
    let sql = "DELETE FROM postmortem_entries WHERE postmortem_id = $1 AND id = $2";
    let n = tx_run!(tx, |x| sqlx::query(sql)
        .bind(postmortem_id)
        .bind(entry_id)
        .execute(x)
        .await
        .map(|r| r.rows_affected()))?;
    Ok(n == 1)
}

/// The change's plans (id, current revision), oldest first, and their executions' ids.
pub async fn rollbacks_of(
    conn: &mut Conn<'_>,
    change_id: i64,
) -> Result<(Vec<(i64, i32)>, Vec<i64>), DbError> {
    let sql = "SELECT id, current_revision FROM plans WHERE change_id = $1 ORDER BY id";
    let plans: Vec<(i64, i32)> = conn_run!(conn, |x| sqlx::query_as(sql)
        .bind(change_id)
        .fetch_all(x)
        .await)?;
    let sql = "SELECT e.id FROM executions e JOIN plans p ON p.id = e.plan_id WHERE p.change_id = $1 ORDER BY e.id";
    let executions: Vec<i64> = conn_run!(conn, |x| sqlx::query_scalar(sql)
        .bind(change_id)
        .fetch_all(x)
        .await)?;
    Ok((plans, executions))
}

#[derive(sqlx::FromRow)]
struct SourceRow {
    seq: i64,
    at: DateTime<Utc>,
    actor_username: Option<String>,
    action: String,
    after_json: String,
}

/// At most `limit` audit events of the change, its plans and their executions, in chain order.
pub async fn source_events(
    conn: &mut Conn<'_>,
    change_id: i64,
    plans: &[i64],
    executions: &[i64],
    limit: i64,
) -> Result<Vec<SourceEvent>, DbError> {
    // Entity ids are text in the audit log; each kind is one index range (entity_type, entity_id).
    let mut clauses = vec!["(entity_type = 'change' AND entity_id = $1)".to_string()];
    let mut next = 2;
    for (kind, ids) in [("plan", plans), ("execution", executions)] {
        if !ids.is_empty() {
            clauses.push(format!(
                "(entity_type = '{kind}' AND entity_id IN ({}))",
                placeholders_from(next, ids.len())
            ));
            next += ids.len();
        }
    }
    let sql = format!(
        "SELECT seq, at, actor_username, action, after_json FROM audit_events WHERE {} ORDER BY seq LIMIT ${next}",
        clauses.join(" OR ")
    );
    let ids: Vec<String> = plans.iter().chain(executions).map(i64::to_string).collect();
    let rows: Vec<SourceRow> = conn_run!(conn, |x| {
        let mut q = sqlx::query_as(&sql).bind(change_id.to_string());
        for id in &ids {
            q = q.bind(id.clone());
        }
        q.bind(limit).fetch_all(x).await
    })?;
    Ok(rows
        .into_iter()
        .map(|r| SourceEvent {
            seq: r.seq,
            at: r.at,
            actor: r.actor_username,
            action: r.action,
            after: serde_json::from_str(&r.after_json).unwrap_or(serde_json::Value::Null),
        })
        .collect())
}

/// Postmortems, most recently updated first, optionally of one status; `after` is the last
/// (updated_at, id) shown.
pub async fn list(
    conn: &mut Conn<'_>,
    status: Option<PostmortemStatus>,
    after: Option<(DateTime<Utc>, i64)>,
    limit: i64,
) -> Result<Vec<Summary>, DbError> {
    let mut w = crate::db::Where::default();
    if let Some(s) = status {
        w.push("p.status = ?", [crate::db::Arg::Text(s.as_str().into())]);
    }
    if let Some((t, id)) = after {
        w.push(
            "(p.updated_at < ? OR (p.updated_at = ? AND p.id < ?))",
            [
                crate::db::Arg::At(t),
                crate::db::Arg::At(t),
                crate::db::Arg::Int(id),
            ],
        );
    }
    let sql = format!(
        "SELECT p.id, p.change_id, c.title, p.status, u.username, p.updated_at, \
         (SELECT COUNT(*) FROM action_items a WHERE a.postmortem_id = p.id AND a.is_open = ${}) AS open_items \
         FROM postmortems p JOIN changes c ON c.id = p.change_id JOIN users u ON u.id = p.author_id {} \
         ORDER BY p.updated_at DESC, p.id DESC LIMIT ${}",
        w.next_placeholder(),
        w.sql(),
        w.next_placeholder() + 1
    );
    type Row = (i64, i64, String, String, String, DateTime<Utc>, i64);
    let rows: Vec<Row> = conn_run!(conn, |x| {
        let q = sqlx::query_as(&sql);
        crate::bind_args!(q, &w.args)
            .bind(true)
            .bind(limit)
            .fetch_all(x)
            .await
    })?;
    Ok(rows
        .into_iter()
        .map(
            |(id, change_id, change_title, status, author, updated_at, open_items)| Summary {
                id,
                change_id,
                change_title,
                status: PostmortemStatus::parse(&status).unwrap_or(PostmortemStatus::Draft),
                author,
                updated_at,
                open_items,
            },
        )
        .collect())
}
