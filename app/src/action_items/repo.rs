//! SQL for action items: one row per item, lists by keyset on (due date, id).

use chrono::{DateTime, Duration, NaiveDate, Utc};

use super::{
    model::{ItemKind, ItemStatus, NewItem, Priority},
    view::{ActionItem, ItemFilter, Person, StatusFilter, Week},
};
use crate::{
    bind_args, conn_run,
    db::{Arg, Backend, Conn, DbError, Tx, Where},
    tx_run,
};

const SELECT: &str = "SELECT a.id, a.postmortem_id, p.change_id, c.title AS change_title, a.title, a.description, \
     a.owner_id, u.username AS owner_username, u.display_name AS owner_display_name, a.due_on, a.priority, \
     a.kind, a.status, a.wont_do_reason, a.ticket_url, a.component_id, k.name AS component_name, a.plan_id, \
     a.plan_row, a.version, a.created_at, a.closed_at \
     FROM action_items a JOIN postmortems p ON p.id = a.postmortem_id JOIN changes c ON c.id = p.change_id \
     JOIN users u ON u.id = a.owner_id LEFT JOIN components k ON k.id = a.component_id";

#[derive(sqlx::FromRow)]
struct ItemRow {
    id: i64,
    postmortem_id: i64,
    change_id: i64,
    change_title: String,
    title: String,
    description: String,
    owner_id: i64,
    owner_username: String,
    owner_display_name: String,
    due_on: NaiveDate,
    priority: String,
    kind: String,
    status: String,
    wont_do_reason: Option<String>,
    ticket_url: Option<String>,
    component_id: Option<i64>,
    component_name: Option<String>,
    plan_id: Option<i64>,
    plan_row: Option<i64>,
    version: i64,
    created_at: DateTime<Utc>,
    closed_at: Option<DateTime<Utc>>,
}

impl From<ItemRow> for ActionItem {
    fn from(r: ItemRow) -> Self {
        Self {
            id: r.id,
            postmortem_id: r.postmortem_id,
            change_id: r.change_id,
            change_title: r.change_title,
            title: r.title,
            description: r.description,
            owner: Person {
                id: r.owner_id,
                username: r.owner_username,
                display_name: r.owner_display_name,
            },
            due_on: r.due_on,
            priority: Priority::parse(&r.priority).unwrap_or(Priority::Medium),
            kind: ItemKind::parse(&r.kind).unwrap_or(ItemKind::Other),
            status: ItemStatus::parse(&r.status).unwrap_or(ItemStatus::Open),
            wont_do_reason: r.wont_do_reason,
            ticket_url: r.ticket_url,
            component: r.component_id.zip(r.component_name),
            plan_id: r.plan_id,
            plan_row: r.plan_row,
            version: r.version,
            created_at: r.created_at,
            closed_at: r.closed_at,
        }
    }
}

/// When the item closes now: the moment it becomes done or won't do (kept while it stays so).
fn closed_at(
    status: ItemStatus,
    was: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> Option<DateTime<Utc>> {
    status.is_closed().then(|| was.unwrap_or(now))
}

pub async fn insert(
    tx: &mut Tx,
    postmortem_id: i64,
    plan_id: Option<i64>,
    i: &NewItem,
    now: DateTime<Utc>,
) -> Result<i64, DbError> {
    let sql = "INSERT INTO action_items (postmortem_id, title, description, owner_id, due_on, priority, kind, status, \
               wont_do_reason, ticket_url, component_id, plan_id, plan_row, version, created_at, updated_at, closed_at, is_open) \
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, 1, $14, $14, $15, $16) RETURNING id";
    let plan_id = plan_id.filter(|_| i.plan_row.is_some());
    Ok(tx_run!(tx, |x| sqlx::query_scalar(sql)
        .bind(postmortem_id)
        .bind(&i.title)
        .bind(&i.description)
        .bind(i.owner_id)
        .bind(i.due_on)
        .bind(i.priority.as_str())
        .bind(i.kind.as_str())
        .bind(i.status.as_str())
        .bind(&i.wont_do_reason)
        .bind(&i.ticket_url)
        .bind(i.component_id)
        .bind(plan_id)
        .bind(i.plan_row)
        .bind(now)
        .bind(closed_at(i.status, None, now))
        .bind(!i.status.is_closed())
        .fetch_one(x)
        .await)?)
}

/// Saves the fields if the stored version is still `version`; false when someone else won.
pub async fn update(
    tx: &mut Tx,
    before: &ActionItem,
    version: i64,
    i: &NewItem,
    now: DateTime<Utc>,
) -> Result<bool, DbError> {
    let sql = "UPDATE action_items SET title = $1, description = $2, owner_id = $3, due_on = $4, priority = $5, \
               kind = $6, status = $7, wont_do_reason = $8, ticket_url = $9, component_id = $10, plan_row = $11, \
               plan_id = CASE WHEN $11 IS NULL THEN NULL ELSE COALESCE(plan_id, $12) END, \
               version = version + 1, updated_at = $13, closed_at = $14, is_open = $15 \
               WHERE id = $16 AND version = $17";
    let closed = closed_at(i.status, before.closed_at, now);
    let n = tx_run!(tx, |x| sqlx::query(sql)
        .bind(&i.title)
        .bind(&i.description)
        .bind(i.owner_id)
        .bind(i.due_on)
        .bind(i.priority.as_str())
        .bind(i.kind.as_str())
        .bind(i.status.as_str())
        .bind(&i.wont_do_reason)
        .bind(&i.ticket_url)
        .bind(i.component_id)
        .bind(i.plan_row)
        .bind(before.plan_id)
        .bind(now)
        .bind(closed)
        .bind(!i.status.is_closed())
        .bind(before.id)
        .bind(version)
        .execute(x)
        .await
        .map(|r| r.rows_affected()))?;
    Ok(n == 1)
}

pub async fn get(conn: &mut Conn<'_>, id: i64) -> Result<ActionItem, DbError> {
    let sql = format!("{SELECT} WHERE a.id = $1");
    let row: ItemRow = conn_run!(conn, |x| sqlx::query_as(&sql).bind(id).fetch_one(x).await)?;
    Ok(row.into())
}

/// A postmortem's items in the order they were added.
pub async fn of_postmortem(
    conn: &mut Conn<'_>,
    postmortem_id: i64,
) -> Result<Vec<ActionItem>, DbError> {
    let sql = format!("{SELECT} WHERE a.postmortem_id = $1 ORDER BY a.id");
    let rows: Vec<ItemRow> = conn_run!(conn, |x| sqlx::query_as(&sql)
        .bind(postmortem_id)
        .fetch_all(x)
        .await)?;
    Ok(rows.into_iter().map(Into::into).collect())
}

/// At most `limit` items matching `f`, soonest due first.
pub async fn list(
    conn: &mut Conn<'_>,
    f: &ItemFilter,
    limit: i64,
) -> Result<Vec<ActionItem>, DbError> {
    let mut w = Where::default();
    match f.status {
        StatusFilter::Unfinished => w.push("a.is_open = ?", [Arg::Bool(true)]),
        StatusFilter::All => {}
        StatusFilter::Only(s) => w.push("a.status = ?", [Arg::Text(s.as_str().into())]),
    }
    if let Some(id) = f.owner_id {
        w.push("a.owner_id = ?", [Arg::Int(id)]);
    }
    if let Some(today) = f.overdue_on {
        w.push(
            "a.is_open = ? AND a.due_on < ?",
            [Arg::Bool(true), Arg::Date(today)],
        );
    }
    if let Some(p) = f.priority {
        w.push("a.priority = ?", [Arg::Text(p.as_str().into())]);
    }
    if let Some(id) = f.component_id {
        w.push("a.component_id = ?", [Arg::Int(id)]);
    }
    if let Some(cur) = f.after {
        w.push(
            "(a.due_on > ? OR (a.due_on = ? AND a.id > ?))",
            [
                Arg::Date(cur.due_on),
                Arg::Date(cur.due_on),
                Arg::Int(cur.id),
            ],
        );
    }
    let sql = format!(
        "{SELECT} {} ORDER BY a.due_on, a.id LIMIT ${}",
        w.sql(),
        w.next_placeholder()
    );
    let rows: Vec<ItemRow> = conn_run!(conn, |x| {
        let q = sqlx::query_as(&sql);
        bind_args!(q, &w.args).bind(limit).fetch_all(x).await
    })?;
    Ok(rows.into_iter().map(Into::into).collect())
}

/// How many items the user has open or in progress (the navigation's count).
pub async fn open_count(conn: &mut Conn<'_>, owner_id: i64) -> Result<i64, DbError> {
    let sql = "SELECT COUNT(*) FROM action_items WHERE owner_id = $1 AND is_open = $2";
    Ok(conn_run!(conn, |x| sqlx::query_scalar(sql)
        .bind(owner_id)
        .bind(true)
        .fetch_one(x)
        .await)?)
}

/// People who may own an item: active users who sign in (not service accounts).
pub async fn owners(conn: &mut Conn<'_>) -> Result<Vec<Person>, DbError> {
    let sql = "SELECT id, username, display_name FROM users WHERE active = $1 AND kind = 'person' ORDER BY username";
    let rows: Vec<(i64, String, String)> =
        conn_run!(conn, |x| sqlx::query_as(sql).bind(true).fetch_all(x).await)?;
    Ok(rows
        .into_iter()
        .map(|(id, username, display_name)| Person {
            id,
            username,
            display_name,
        })
        .collect())
}

/// The user's id and whether they may own an item, by id; `None` when there is no such user.
pub async fn owner_state(conn: &mut Conn<'_>, id: i64) -> Result<Option<(bool, String)>, DbError> {
    let sql = "SELECT active, kind FROM users WHERE id = $1";
    let row: Option<(bool, String)> = conn_run!(conn, |x| sqlx::query_as(sql)
        .bind(id)
        .fetch_optional(x)
        .await)?;
    Ok(row)
}

pub async fn user_id(conn: &mut Conn<'_>, username: &str) -> Result<Option<i64>, DbError> {
    let sql = "SELECT id FROM users WHERE username = $1";
    Ok(conn_run!(conn, |x| sqlx::query_scalar(sql)
        .bind(username)
        .fetch_optional(x)
        .await)?)
}

pub async fn component_exists(conn: &mut Conn<'_>, id: i64) -> Result<bool, DbError> {
    let sql = "SELECT COUNT(*) FROM components WHERE id = $1";
    let n: i64 = conn_run!(conn, |x| sqlx::query_scalar(sql)
        .bind(id)
        .fetch_one(x)
        .await)?;
    Ok(n > 0)
}

/// Item counts by week index since `start` (0 = the week starting at `start`), for the column
/// `column` (created_at or closed_at), only rows with `closed_at` set for the latter; and the
/// count before `start`.
async fn weekly(
    conn: &mut Conn<'_>,
    column: &str,
    done_only: bool,
    start: DateTime<Utc>,
) -> Result<(i64, Vec<(i64, i64)>), DbError> {
    let done = if done_only {
        " AND status = 'done'"
    } else {
        ""
    };
    let before_sql = format!("SELECT COUNT(*) FROM action_items WHERE {column} < $1{done}");
    let before: i64 = conn_run!(conn, |x| sqlx::query_scalar(&before_sql)
        .bind(start)
        .fetch_one(x)
        .await)?;
    let bucket = match conn.backend() {
        Backend::Sqlite => format!("(CAST(strftime('%s', {column}) AS INTEGER) - $2) / 604800"),
        Backend::Postgres => {
            format!("CAST(FLOOR((EXTRACT(EPOCH FROM {column}) - $2) / 604800) AS BIGINT)")
        }
    };
    let sql = format!(
        "SELECT {bucket} AS week, COUNT(*) FROM action_items WHERE {column} >= $1{done} GROUP BY week"
    );
    let rows: Vec<(i64, i64)> = conn_run!(conn, |x| sqlx::query_as(&sql)
        .bind(start)
        .bind(start.timestamp())
        .fetch_all(x)
        .await)?;
    Ok((before, rows))
}

/// Open items at the end of each of the `weeks` weeks ending with this one (Monday to Sunday),
/// and items done during each.
pub async fn chart(
    conn: &mut Conn<'_>,
    today: NaiveDate,
    weeks: i64,
) -> Result<Vec<Week>, DbError> {
    use chrono::Datelike;
    let monday = today - Duration::days(today.weekday().num_days_from_monday() as i64);
    let first = monday - Duration::weeks(weeks - 1);
    let start = first.and_hms_opt(0, 0, 0).unwrap_or_default().and_utc();
    let (created_before, created) = weekly(conn, "created_at", false, start).await?;
    let (closed_before, closed) = weekly(conn, "closed_at", false, start).await?;
    let (_, done) = weekly(conn, "closed_at", true, start).await?;
    let in_week = |rows: &[(i64, i64)], w: i64| {
        rows.iter()
            .filter(|(b, _)| *b == w)
            .map(|(_, n)| n)
            .sum::<i64>()
    };
    let (mut opened, mut shut) = (created_before, closed_before);
    Ok((0..weeks)
        .map(|w| {
            opened += in_week(&created, w);
            shut += in_week(&closed, w);
            Week {
                starts: first + Duration::weeks(w),
                open: opened - shut,
                done: in_week(&done, w),
            }
        })
        .collect())
}
