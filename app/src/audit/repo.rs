//! SQL for the audit chain: append (in the caller's transaction), list, and read in order.

use chrono::{DateTime, Duration, SubsecRound, Utc};
use serde_json::{json, Value};

use super::{
    chain::{chain_hash, event_hash, parse_hash},
    model::{Actor, AuditEntry, AuditFilter, AuditPage, Cursor, PAGE_SIZE},
};
use crate::{
    db::{Db, DbError, Tx},
    db_run, tx_run,
};

/// Who acts and on behalf of which request: passed into every service that changes state.
#[derive(Debug, Clone, Default)]
pub struct Ctx {
    pub actor: Option<Actor>,
    pub request_id: Option<String>,
}

impl Ctx {
    pub fn system() -> Self {
        Self::default()
    }

    pub fn user(actor: Actor, request_id: Option<String>) -> Self {
        Self {
            actor: Some(actor),
            request_id,
        }
    }
}

/// A state change to record.
#[derive(Debug, Clone)]
pub struct NewAuditEvent {
    pub action: &'static str,
    pub entity_type: &'static str,
    pub entity_id: String,
    pub before: Value,
    pub after: Value,
}

/// A stored event with its hashes.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct AuditRow {
    pub seq: i64,
    pub at: DateTime<Utc>,
    pub actor_id: Option<i64>,
    pub actor_username: Option<String>,
    pub action: String,
    pub entity_type: String,
    pub entity_id: String,
    pub request_id: Option<String>,
    pub before_json: String,
    pub after_json: String,
    pub event_hash: String,
    pub chain_hash: String,
}

/// The format-v1 timestamp: RFC 3339, UTC, exactly six fractional digits.
pub fn format_at(at: &DateTime<Utc>) -> String {
    at.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string()
}

impl AuditRow {
    /// The event exactly as it was hashed.
    pub fn event(&self) -> Result<Value, serde_json::Error> {
        let actor = match (self.actor_id, &self.actor_username) {
            (Some(id), Some(username)) => json!({ "id": id, "username": username }),
            _ => Value::Null,
        };
        Ok(json!({
            "seq": self.seq,
            "at": format_at(&self.at),
            "actor": actor,
            "action": self.action,
            "entity_type": self.entity_type,
            "entity_id": self.entity_id,
            "request_id": self.request_id,
            "before": serde_json::from_str::<Value>(&self.before_json)?,
            "after": serde_json::from_str::<Value>(&self.after_json)?,
        }))
    }

    fn into_entry(self) -> AuditEntry {
        let pretty = |s: &str| {
            serde_json::from_str::<Value>(s)
                .ok()
                .filter(|v| !v.is_null())
                .and_then(|v| serde_json::to_string_pretty(&v).ok())
                .unwrap_or_default()
        };
        AuditEntry {
            seq: self.seq,
            at: self.at,
            actor: self
                .actor_id
                .zip(self.actor_username.clone())
                .map(|(id, username)| Actor { id, username }),
            before: pretty(&self.before_json),
            after: pretty(&self.after_json),
            action: self.action,
            entity_type: self.entity_type,
            entity_id: self.entity_id,
            request_id: self.request_id,
            chain_hash: self.chain_hash,
        }
    }
}

fn encode_error(e: impl std::error::Error + Send + Sync + 'static) -> DbError {
    DbError::Other(sqlx::Error::Encode(Box::new(e)))
}

/// Appends one event to the chain inside `tx`. The head row's update takes the row lock
/// (PostgreSQL) or rides the write lock (SQLite), so appends are serialized across instances.
#[tracing::instrument(skip_all, fields(action = event.action))]
pub async fn append(tx: &mut Tx, ctx: &Ctx, event: NewAuditEvent) -> Result<i64, DbError> {
    let head_sql =
        "UPDATE audit_chain_head SET seq = seq + 1 WHERE id = 1 RETURNING seq, chain_hash";
    let (seq, previous): (i64, String) =
        tx_run!(tx, |c| sqlx::query_as(head_sql).fetch_one(c).await)?;
    let previous = parse_hash(&previous)
        .ok_or_else(|| DbError::Other(sqlx::Error::Protocol("corrupt audit head".into())))?;
    let row = AuditRow {
        seq,
        at: Utc::now().trunc_subsecs(6),
        actor_id: ctx.actor.as_ref().map(|a| a.id),
        actor_username: ctx.actor.as_ref().map(|a| a.username.clone()),
        action: event.action.to_string(),
        entity_type: event.entity_type.to_string(),
        entity_id: event.entity_id,
        request_id: ctx.request_id.clone(),
        before_json: event.before.to_string(),
        after_json: event.after.to_string(),
        event_hash: String::new(),
        chain_hash: String::new(),
    };
    let hash = event_hash(&row.event().map_err(encode_error)?).map_err(encode_error)?;
    let chain = chain_hash(seq as u64, &previous, &hash);
    let row = AuditRow {
        event_hash: hex::encode(hash),
        chain_hash: hex::encode(chain),
        ..row
    };
    insert(tx, &row).await?;
    let update_head = "UPDATE audit_chain_head SET chain_hash = $1 WHERE id = 1";
    tx_run!(tx, |c| sqlx::query(update_head)
        .bind(&row.chain_hash)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
    crate::notifications::route::route(tx, &row).await?;
    Ok(seq)
}

async fn insert(tx: &mut Tx, row: &AuditRow) -> Result<(), DbError> {
    let sql = "INSERT INTO audit_events (seq, at, actor_id, actor_username, action, entity_type, \
               entity_id, request_id, before_json, after_json, event_hash, chain_hash) \
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)";
    tx_run!(tx, |c| sqlx::query(sql)
        .bind(row.seq)
        .bind(row.at)
        .bind(row.actor_id)
        .bind(&row.actor_username)
        .bind(&row.action)
        .bind(&row.entity_type)
        .bind(&row.entity_id)
        .bind(&row.request_id)
        .bind(&row.before_json)
        .bind(&row.after_json)
        .bind(&row.event_hash)
        .bind(&row.chain_hash)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
    Ok(())
}

/// A value bound into a dynamically built query.
enum Arg {
    Text(String),
    Int(i64),
    At(DateTime<Utc>),
}

/// One page of events matching `filter`, newest first.
#[tracing::instrument(skip(db))]
pub async fn list(db: &Db, filter: &AuditFilter) -> Result<AuditPage, DbError> {
    let (sql, args) = list_sql(filter);
    let mut rows: Vec<AuditRow> = db_run!(db, |c| {
        let mut q = sqlx::query_as::<_, AuditRow>(&sql);
        for arg in &args {
            q = match arg {
                Arg::Text(s) => q.bind(s),
                Arg::Int(i) => q.bind(i),
                Arg::At(t) => q.bind(t),
            };
        }
        q.fetch_all(c).await
    })?;
    let has_more = rows.len() > PAGE_SIZE;
    rows.truncate(PAGE_SIZE);
    if let Cursor::After(_) = filter.cursor {
        rows.reverse();
    }
    let first = rows.first().map(|r| r.seq);
    let last = rows.last().map(|r| r.seq);
    let (older, newer) = match filter.cursor {
        Cursor::Newest => (last.filter(|_| has_more), None),
        Cursor::Before(_) => (last.filter(|_| has_more), first),
        Cursor::After(_) => (last, first.filter(|_| has_more)),
    };
    Ok(AuditPage {
        entries: rows.into_iter().map(AuditRow::into_entry).collect(),
        older,
        newer,
    })
}

fn list_sql(filter: &AuditFilter) -> (String, Vec<Arg>) {
    let mut clauses: Vec<String> = Vec::new();
    let mut args: Vec<Arg> = Vec::new();
    let mut push = |clause: &str, arg: Arg| {
        args.push(arg);
        clauses.push(clause.replace('?', &format!("${}", args.len())));
    };
    if let Some(a) = &filter.actor {
        push("actor_username = ?", Arg::Text(a.clone()));
    }
    if let Some(a) = &filter.action {
        push("action = ?", Arg::Text(a.clone()));
    }
    if let Some(t) = &filter.entity_type {
        push("entity_type = ?", Arg::Text(t.clone()));
    }
    if let Some(i) = &filter.entity_id {
        push("entity_id = ?", Arg::Text(i.clone()));
    }
    if let Some(d) = filter.from {
        push(
            "at >= ?",
            Arg::At(d.and_hms_opt(0, 0, 0).unwrap_or_default().and_utc()),
        );
    }
    if let Some(d) = filter.to {
        let end = d.and_hms_opt(0, 0, 0).unwrap_or_default().and_utc() + Duration::days(1);
        push("at < ?", Arg::At(end));
    }
    let order = match filter.cursor {
        Cursor::Newest => "DESC",
        Cursor::Before(seq) => {
            push("seq < ?", Arg::Int(seq));
            "DESC"
        }
        Cursor::After(seq) => {
            push("seq > ?", Arg::Int(seq));
            "ASC"
        }
    };
    let filter_sql = if clauses.is_empty() {
        String::new()
    } else {
        format!("WHERE {}", clauses.join(" AND "))
    };
    let sql = format!(
        "SELECT * FROM audit_events {filter_sql} ORDER BY seq {order} LIMIT {}",
        PAGE_SIZE + 1
    );
    (sql, args)
}

/// Events with `seq > after`, in order, at most `limit` (for verify and export).
pub async fn list_in_order(db: &Db, after: i64, limit: i64) -> Result<Vec<AuditRow>, DbError> {
    let sql = "SELECT * FROM audit_events WHERE seq > $1 ORDER BY seq LIMIT $2";
    Ok(db_run!(db, |c| sqlx::query_as::<_, AuditRow>(sql)
        .bind(after)
        .bind(limit)
        .fetch_all(c)
        .await)?)
}

/// The chain hash stored for `seq` (an export's anchor).
pub async fn chain_hash_at(db: &Db, seq: i64) -> Result<Option<String>, DbError> {
    let sql = "SELECT chain_hash FROM audit_events WHERE seq = $1";
    Ok(db_run!(db, |c| sqlx::query_scalar(sql)
        .bind(seq)
        .fetch_optional(c)
        .await)?)
}

/// The chain head: last seq and its chain hash.
pub async fn head(db: &Db) -> Result<(i64, String), DbError> {
    let sql = "SELECT seq, chain_hash FROM audit_chain_head WHERE id = 1";
    Ok(db_run!(db, |c| sqlx::query_as(sql).fetch_one(c).await)?)
}
