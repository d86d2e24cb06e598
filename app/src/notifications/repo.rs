//! SQL for notifications, the delivery outbox and the e-mail server settings. A claim is one
//! short transaction; the sending happens outside any transaction, and every later write proves
//! the lease is still held.

use chrono::{DateTime, Duration, Utc};

use super::model::{Channel, Delivery, DeliveryStatus, Kind, Notice, Told};
use crate::{
    conn_run,
    db::{Backend, Conn, DbError, Tx},
    tx_run,
};

/// A person a notification can reach.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Person {
    pub id: i64,
    pub username: String,
    pub email: Option<String>,
}

/// Of these users, the active people (not service users), in id order.
pub async fn reachable(tx: &mut Tx, ids: &[i64]) -> Result<Vec<Person>, DbError> {
    let sql = "SELECT id, username, email FROM users WHERE active AND kind = 'person' AND id IN ({ids}) ORDER BY id";
    crate::db::select_in(&mut Conn::Tx(tx), sql, ids).await
}

/// Active approvers in any of these groups.
pub async fn approvers_in(tx: &mut Tx, groups: &[i64]) -> Result<Vec<i64>, DbError> {
    let sql = "SELECT DISTINCT m.user_id FROM group_members m \
               JOIN user_roles r ON r.user_id = m.user_id AND r.role = 'approver' WHERE m.group_id IN ({ids})";
    let rows: Vec<(i64,)> = crate::db::select_in(&mut Conn::Tx(tx), sql, groups).await?;
    Ok(rows.into_iter().map(|(id,)| id).collect())
}

/// The owners of the change's components: a component's owner names a user or an approval group
/// (case-insensitively); a group means its members.
pub async fn component_owners(tx: &mut Tx, change_id: i64) -> Result<Vec<i64>, DbError> {
    let sql = "SELECT u.id FROM change_components cc JOIN components k ON k.id = cc.component_id \
               JOIN users u ON u.username_lower = lower(k.owner) WHERE cc.change_id = $1 \
               UNION SELECT m.user_id FROM change_components cc JOIN components k ON k.id = cc.component_id \
               JOIN approval_groups g ON g.name_lower = lower(k.owner) JOIN group_members m ON m.group_id = g.id \
               WHERE cc.change_id = $1";
    Ok(tx_run!(tx, |c| sqlx::query_scalar(sql)
        .bind(change_id)
        .fetch_all(c)
        .await)?)
}

pub async fn item_owners(tx: &mut Tx, postmortem_id: i64) -> Result<Vec<i64>, DbError> {
    let sql = "SELECT DISTINCT owner_id FROM action_items WHERE postmortem_id = $1";
    Ok(tx_run!(tx, |c| sqlx::query_scalar(sql)
        .bind(postmortem_id)
        .fetch_all(c)
        .await)?)
}

/// Everyone who may publish a postmortem.
pub async fn postmortem_reviewers(tx: &mut Tx) -> Result<Vec<i64>, DbError> {
    let sql =
        "SELECT DISTINCT user_id FROM user_roles WHERE role IN ('postmortem_author', 'admin')";
    Ok(tx_run!(tx, |c| sqlx::query_scalar(sql).fetch_all(c).await)?)
}

pub async fn mail_configured(tx: &mut Tx) -> Result<bool, DbError> {
    let sql = "SELECT COUNT(*) FROM mail_settings";
    let n: i64 = tx_run!(tx, |c| sqlx::query_scalar(sql).fetch_one(c).await)?;
    Ok(n > 0)
}

pub struct NewMessage<'a> {
    pub kind: Kind,
    pub audit_seq: i64,
    pub entity_type: &'a str,
    pub entity_id: &'a str,
    pub subject: &'a str,
    pub body: &'a str,
    pub link: &'a str,
    pub at: DateTime<Utc>,
}

pub async fn insert_message(tx: &mut Tx, m: &NewMessage<'_>) -> Result<i64, DbError> {
    let sql = "INSERT INTO messages (kind, audit_seq, entity_type, entity_id, subject, body, link, created_at) \
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id";
    Ok(tx_run!(tx, |c| sqlx::query_scalar(sql)
        .bind(m.kind.as_str())
        .bind(m.audit_seq)
        .bind(m.entity_type)
        .bind(m.entity_id)
        .bind(m.subject)
        .bind(m.body)
        .bind(m.link)
        .bind(m.at)
        .fetch_one(c)
        .await)?)
}

pub async fn insert_notification(
    tx: &mut Tx,
    message_id: i64,
    user_id: i64,
) -> Result<(), DbError> {
    let sql = "INSERT INTO notifications (message_id, user_id) VALUES ($1, $2)";
    tx_run!(tx, |c| sqlx::query(sql)
        .bind(message_id)
        .bind(user_id)
        .execute(c)
        .await
        .map(|_| ()))?;
    Ok(())
}

/// Whom a delivery goes to.
#[derive(Debug, Clone, Copy)]
pub enum To {
    Person(i64),
    Team(i64),
}

/// Queues one delivery of a message, due at once. Its idempotency key travels with it.
pub async fn insert_delivery(
    tx: &mut Tx,
    message_id: i64,
    to: To,
    channel: &str,
    destination: &str,
    at: DateTime<Utc>,
) -> Result<i64, DbError> {
    let (user, team) = match to {
        To::Person(id) => (Some(id), None),
        To::Team(id) => (None, Some(id)),
    };
    let key = format!("msg_{}", uuid::Uuid::new_v4().simple());
    let sql = "INSERT INTO deliveries (message_id, user_id, team_channel_id, channel, destination, idempotency_key, \
               next_attempt_at, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $7) RETURNING id";
    Ok(tx_run!(tx, |c| sqlx::query_scalar(sql)
        .bind(message_id)
        .bind(user)
        .bind(team)
        .bind(channel)
        .bind(destination)
        .bind(&key)
        .bind(at)
        .fetch_one(c)
        .await)?)
}

/// A team channel a message may go to.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct TeamTarget {
    pub id: i64,
    pub kind: String,
    pub url_origin: String,
}

/// The active team channels of these approval groups or catalog tags.
pub async fn team_channels_for(
    tx: &mut Tx,
    groups: &[i64],
    tags: &[String],
) -> Result<Vec<TeamTarget>, DbError> {
    let mut out: Vec<TeamTarget> = Vec::new();
    if !groups.is_empty() {
        let sql = "SELECT id, kind, url_origin FROM team_channels WHERE active AND group_id IN ({ids}) ORDER BY id";
        out.extend(crate::db::select_in::<TeamTarget>(&mut Conn::Tx(tx), sql, groups).await?);
    }
    for tag in tags {
        let sql =
            "SELECT id, kind, url_origin FROM team_channels WHERE active AND tag = $1 ORDER BY id";
        let rows: Vec<TeamTarget> =
            tx_run!(tx, |c| sqlx::query_as(sql).bind(tag).fetch_all(c).await)?;
        out.extend(rows);
    }
    out.sort_by_key(|t| t.id);
    out.dedup_by_key(|t| t.id);
    Ok(out)
}

/// The tags of the change's components.
pub async fn change_tags(tx: &mut Tx, change_id: i64) -> Result<Vec<String>, DbError> {
    let sql = "SELECT DISTINCT t.tag FROM change_components cc JOIN component_tags t ON t.component_id = cc.component_id \
               WHERE cc.change_id = $1";
    Ok(tx_run!(tx, |c| sqlx::query_scalar(sql)
        .bind(change_id)
        .fetch_all(c)
        .await)?)
}

#[derive(sqlx::FromRow)]
struct NoticeRow {
    id: i64,
    kind: String,
    subject: String,
    body: String,
    link: String,
    created_at: DateTime<Utc>,
    email: Option<String>,
}

/// A person's notifications, newest first, before an id (keyset).
pub async fn notices(
    conn: &mut Conn<'_>,
    user_id: i64,
    before: Option<i64>,
    limit: i64,
) -> Result<Vec<Notice>, DbError> {
    let sql = "SELECT n.id, m.kind, m.subject, m.body, m.link, m.created_at, \
               (SELECT d.status FROM deliveries d WHERE d.message_id = n.message_id AND d.user_id = n.user_id \
                AND d.channel = 'email' LIMIT 1) AS email \
               FROM notifications n JOIN messages m ON m.id = n.message_id \
               WHERE n.user_id = $1 AND n.id < $2 ORDER BY n.id DESC LIMIT $3";
    let rows: Vec<NoticeRow> = conn_run!(conn, |c| sqlx::query_as(sql)
        .bind(user_id)
        .bind(before.unwrap_or(i64::MAX))
        .bind(limit)
        .fetch_all(c)
        .await)?;
    Ok(rows
        .into_iter()
        .filter_map(|r| {
            Some(Notice {
                id: r.id,
                kind: Kind::parse(&r.kind)?,
                subject: r.subject,
                body: r.body,
                link: r.link,
                created_at: r.created_at,
                email: r.email.as_deref().and_then(DeliveryStatus::parse),
            })
        })
        .collect())
}

/// Who was told about an entity, by kind in the order they were told: people and team channels.
pub async fn told(
    conn: &mut Conn<'_>,
    entity_type: &str,
    entity_id: &str,
) -> Result<Vec<Told>, DbError> {
    let sql = "SELECT m.kind, u.username FROM messages m JOIN notifications n ON n.message_id = m.id \
               JOIN users u ON u.id = n.user_id WHERE m.entity_type = $1 AND m.entity_id = $2 \
               UNION ALL SELECT m.kind, '#' || c.name FROM messages m JOIN deliveries d ON d.message_id = m.id \
               JOIN team_channels c ON c.id = d.team_channel_id WHERE m.entity_type = $1 AND m.entity_id = $2";
    let rows: Vec<(String, String)> = conn_run!(conn, |c| sqlx::query_as(sql)
        .bind(entity_type)
        .bind(entity_id)
        .fetch_all(c)
        .await)?;
    let mut out: Vec<Told> = Vec::new();
    for (kind, name) in rows {
        let Some(kind) = Kind::parse(&kind) else {
            continue;
        };
        match out.iter_mut().find(|t| t.kind == kind) {
            Some(t) if !t.people.contains(&name) => t.people.push(name),
            Some(_) => {}
            None => out.push(Told {
                kind,
                people: vec![name],
            }),
        }
    }
    Ok(out)
}

/// A delivery as the worker sends it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Outgoing {
    pub id: i64,
    pub channel: String,
    pub destination: String,
    pub idempotency_key: String,
    pub attempts: i64,
    /// The person's username, or the team channel's name.
    pub username: String,
    pub team_channel_id: Option<i64>,
    pub kind: String,
    pub audit_seq: i64,
    pub subject: String,
    pub body: String,
    pub link: String,
    pub created_at: DateTime<Utc>,
}

/// Takes the next due delivery under a lease: a pending one whose time has come and that no live
/// lease holds. PostgreSQL skips rows other workers have locked; SQLite has a single writer.
pub async fn claim(
    tx: &mut Tx,
    backend: Backend,
    lease: &str,
    now: DateTime<Utc>,
    length: Duration,
) -> Result<Option<Outgoing>, DbError> {
    let lock = match backend {
        Backend::Postgres => " FOR UPDATE SKIP LOCKED",
        Backend::Sqlite => "",
    };
    let pick = format!(
        "SELECT id FROM deliveries WHERE status = 'pending' AND next_attempt_at <= $1 \
         AND (lease_until IS NULL OR lease_until <= $1) ORDER BY next_attempt_at, id LIMIT 1{lock}"
    );
    let found: Option<i64> = tx_run!(tx, |c| sqlx::query_scalar(&pick)
        .bind(now)
        .fetch_optional(c)
        .await)?;
    let Some(id) = found else { return Ok(None) };
    let sql = "UPDATE deliveries SET lease_owner = $1, lease_until = $2, attempts = attempts + 1 WHERE id = $3";
    tx_run!(tx, |c| sqlx::query(sql)
        .bind(lease)
        .bind(now + length)
        .bind(id)
        .execute(c)
        .await
        .map(|_| ()))?;
    let sql = "SELECT d.id, d.channel, d.destination, d.idempotency_key, d.attempts, \
               COALESCE(u.username, c.name) AS username, d.team_channel_id, m.kind, m.audit_seq, m.subject, m.body, m.link, \
               m.created_at FROM deliveries d JOIN messages m ON m.id = d.message_id \
               LEFT JOIN users u ON u.id = d.user_id LEFT JOIN team_channels c ON c.id = d.team_channel_id WHERE d.id = $1";
    Ok(Some(tx_run!(tx, |c| sqlx::query_as(sql)
        .bind(id)
        .fetch_one(c)
        .await)?))
}

/// How one attempt ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Sent,
    /// Try again at this time.
    Retry(DateTime<Utc>, String),
    Failed(String),
}

/// Records an attempt and its outcome if the lease is still ours; false when it is not (the
/// attempt is then another worker's to record).
pub async fn finish(
    tx: &mut Tx,
    id: i64,
    lease: &str,
    number: i64,
    started: DateTime<Utc>,
    outcome: &Outcome,
    now: DateTime<Utc>,
) -> Result<bool, DbError> {
    let (status, next, error, label, detail) = match outcome {
        Outcome::Sent => ("sent", now, None, "sent", "delivered".to_string()),
        Outcome::Retry(at, e) => ("pending", *at, Some(e.clone()), "retry", e.clone()),
        Outcome::Failed(e) => ("failed", now, Some(e.clone()), "failed", e.clone()),
    };
    let sent_at = (status == "sent").then_some(now);
    let sql = "UPDATE deliveries SET status = $1, next_attempt_at = $2, last_error = $3, sent_at = $4, \
               lease_owner = NULL, lease_until = NULL WHERE id = $5 AND lease_owner = $6 AND status = 'pending'";
    let ours = tx_run!(tx, |c| sqlx::query(sql)
        .bind(status)
        .bind(next)
        .bind(&error)
        .bind(sent_at)
        .bind(id)
        .bind(lease)
        .execute(c)
        .await
        .map(|r| r.rows_affected() == 1))?;
    if !ours {
        return Ok(false);
    }
    let sql = "INSERT INTO delivery_attempts (delivery_id, number, started_at, finished_at, outcome, detail) \
               VALUES ($1, $2, $3, $4, $5, $6)";
    tx_run!(tx, |c| sqlx::query(sql)
        .bind(id)
        .bind(number)
        .bind(started)
        .bind(now)
        .bind(label)
        .bind(&detail)
        .execute(c)
        .await
        .map(|_| ()))?;
    Ok(true)
}

#[derive(sqlx::FromRow)]
struct DeliveryRow {
    id: i64,
    channel: String,
    username: String,
    destination: String,
    subject: String,
    status: String,
    attempts: i64,
    next_attempt_at: DateTime<Utc>,
    last_error: Option<String>,
    sent_at: Option<DateTime<Utc>>,
    created_at: DateTime<Utc>,
}

/// Deliveries newest first, optionally of one status, before an id (keyset).
pub async fn deliveries(
    conn: &mut Conn<'_>,
    status: Option<DeliveryStatus>,
    before: Option<i64>,
    limit: i64,
) -> Result<Vec<Delivery>, DbError> {
    let mut w = crate::db::Where::default();
    if let Some(s) = status {
        w.push("d.status = ?", [crate::db::Arg::Text(s.as_str().into())]);
    }
    w.push(
        "d.id < ?",
        [crate::db::Arg::Int(before.unwrap_or(i64::MAX))],
    );
    let sql = format!(
        "SELECT d.id, d.channel, COALESCE(u.username, '#' || c.name) AS username, d.destination, m.subject, d.status, \
         d.attempts, d.next_attempt_at, d.last_error, d.sent_at, d.created_at FROM deliveries d \
         JOIN messages m ON m.id = d.message_id LEFT JOIN users u ON u.id = d.user_id \
         LEFT JOIN team_channels c ON c.id = d.team_channel_id {} ORDER BY d.id DESC LIMIT {limit}",
        w.sql()
    );
    let rows: Vec<DeliveryRow> =
        conn_run!(conn, |c| crate::bind_args!(sqlx::query_as(&sql), &w.args)
            .fetch_all(c)
            .await)?;
    Ok(rows
        .into_iter()
        .filter_map(|r| {
            Some(Delivery {
                id: r.id,
                channel: Channel::parse(&r.channel)?,
                recipient: r.username,
                destination: r.destination,
                subject: r.subject,
                status: DeliveryStatus::parse(&r.status)?,
                attempts: r.attempts,
                next_attempt_at: r.next_attempt_at,
                last_error: r.last_error,
                sent_at: r.sent_at,
                created_at: r.created_at,
            })
        })
        .collect())
}

/// Puts a failed delivery back in the queue, due now; false when it was not failed.
pub async fn retry(tx: &mut Tx, id: i64, now: DateTime<Utc>) -> Result<bool, DbError> {
    let sql = "UPDATE deliveries SET status = 'pending', next_attempt_at = $1 WHERE id = $2 AND status = 'failed'";
    Ok(tx_run!(tx, |c| sqlx::query(sql)
        .bind(now)
        .bind(id)
        .execute(c)
        .await
        .map(|r| r.rows_affected() == 1))?)
}
