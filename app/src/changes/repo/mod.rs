//! SQL for changes and the components they touched.

mod title;

use std::collections::HashMap;

use chrono::{DateTime, Duration, Utc};

use title::{title_lookup, title_search, TitleLookup};

use super::model::{
    Affected, Change, ChangeFilter, ChangeKind, ChangeStatus, ChangeSummary, Closure, Link,
    NewChange,
};
use crate::{
    audit::Actor,
    bind_args,
    catalog::model::{ComponentKind, ComponentRef},
    conn_run,
    db::{placeholders_from, Arg, Conn, DbError, Tx, Where},
    tx_run,
};

#[derive(sqlx::FromRow)]
struct ChangeRow {
    id: i64,
    title: String,
    kind: String,
    why: String,
    author_id: i64,
    author: String,
    deployed_at: DateTime<Utc>,
    git_sha: Option<String>,
    artifact_ref: Option<String>,
    links_json: String,
    status: String,
    version: i64,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    close_reason: Option<String>,
    close_link: Option<String>,
    git_sha_before: Option<String>,
}

fn links_json(links: &[Link]) -> String {
    serde_json::to_string(links).unwrap_or_else(|_| "[]".into())
}

pub async fn insert(
    tx: &mut Tx,
    c: &NewChange,
    author_id: i64,
    now: DateTime<Utc>,
) -> Result<i64, DbError> {
    let sql = "INSERT INTO changes (title, title_lower, kind, why, author_id, deployed_at, git_sha, artifact_ref, links_json, status, version, created_at, updated_at, git_sha_before) \
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'recorded', 1, $10, $10, $11) RETURNING id";
    Ok(tx_run!(tx, |x| sqlx::query_scalar(sql)
        .bind(&c.title)
        .bind(c.title.to_lowercase())
        .bind(c.kind.as_str())
        .bind(&c.why)
        .bind(author_id)
        .bind(c.deployed_at)
        .bind(&c.git_sha)
        .bind(&c.artifact_ref)
        .bind(links_json(&c.links))
        .bind(now)
        .bind(&c.git_sha_before)
        .fetch_one(x)
        .await)?)
}

/// Updates the fields if the stored version is still `version`; false when someone else won.
pub async fn update(
    tx: &mut Tx,
    id: i64,
    version: i64,
    c: &NewChange,
    now: DateTime<Utc>,
) -> Result<bool, DbError> {
    let sql = "UPDATE changes SET title = $1, title_lower = $2, kind = $3, why = $4, deployed_at = $5, git_sha = $6, \
               artifact_ref = $7, links_json = $8, version = version + 1, updated_at = $9, git_sha_before = $12 \
               WHERE id = $10 AND version = $11";
    let n = tx_run!(tx, |x| sqlx::query(sql)
        .bind(&c.title)
        .bind(c.title.to_lowercase())
        .bind(c.kind.as_str())
        .bind(&c.why)
        .bind(c.deployed_at)
        .bind(&c.git_sha)
        .bind(&c.artifact_ref)
        .bind(links_json(&c.links))
        .bind(now)
        .bind(id)
        .bind(version)
        .bind(&c.git_sha_before)
        .execute(x)
        .await
        .map(|r| r.rows_affected()))?;
    Ok(n == 1)
}

/// A component a change touched, with the data versions before and after it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Touched {
    pub component_id: i64,
    pub produced: String,
    pub before: String,
}

/// Replaces the change's components.
pub async fn set_components(tx: &mut Tx, id: i64, list: &[Touched]) -> Result<(), DbError> {
    tx_run!(tx, |x| sqlx::query(
        "DELETE FROM change_components WHERE change_id = $1"
    )
    .bind(id)
    .execute(x)
    .await
    .map(|r| r.rows_affected()))?;
    for t in list {
        tx_run!(tx, |x| {
            sqlx::query(
            "INSERT INTO change_components (change_id, component_id, data_version, data_version_before) VALUES ($1, $2, $3, $4)"
        )
        .bind(id)
        .bind(t.component_id)
        .bind(&t.produced)
        .bind(&t.before)
        .execute(x)
        .await
        .map(|r| r.rows_affected())
        })?;
    }
    Ok(())
}

pub async fn get(conn: &mut Conn<'_>, id: i64) -> Result<Change, DbError> {
    let sql = "SELECT c.id, c.title, c.kind, c.why, c.author_id, u.username AS author, c.deployed_at, c.git_sha, \
               c.artifact_ref, c.links_json, c.status, c.version, c.created_at, c.updated_at, \
               c.close_reason, c.close_link, c.git_sha_before \
               FROM changes c JOIN users u ON u.id = c.author_id WHERE c.id = $1";
    let row: ChangeRow = conn_run!(conn, |x| sqlx::query_as(sql).bind(id).fetch_one(x).await)?;
    let sql = "SELECT p.id, p.name, p.kind, cc.data_version, cc.data_version_before FROM change_components cc \
               JOIN components p ON p.id = cc.component_id WHERE cc.change_id = $1 ORDER BY p.name_lower";
    let comps: Vec<(i64, String, String, String, String)> =
        conn_run!(conn, |x| sqlx::query_as(sql).bind(id).fetch_all(x).await)?;
    Ok(Change {
        id: row.id,
        title: row.title,
        kind: ChangeKind::parse(&row.kind).unwrap_or(ChangeKind::Other),
        why: row.why,
        author: Actor {
            id: row.author_id,
            username: row.author,
        },
        deployed_at: row.deployed_at,
        git_sha: row.git_sha,
        git_sha_before: row.git_sha_before,
        artifact_ref: row.artifact_ref,
        links: serde_json::from_str(&row.links_json).unwrap_or_default(),
        status: ChangeStatus::parse(&row.status).unwrap_or(ChangeStatus::Recorded),
        version: row.version,
        components: comps
            .into_iter()
            .map(
                |(id, name, kind, data_version, data_version_before)| Affected {
                    component: ComponentRef {
                        id,
                        name,
                        kind: ComponentKind::parse(&kind).unwrap_or(ComponentKind::Other),
                    },
                    data_version,
                    data_version_before,
                },
            )
            .collect(),
        created_at: row.created_at,
        updated_at: row.updated_at,
        closed: row.close_reason.map(|reason| Closure {
            reason,
            link: row.close_link.filter(|l| !l.is_empty()),
        }),
    })
}

#[derive(sqlx::FromRow)]
struct SummaryRow {
    id: i64,
    title: String,
    kind: String,
    status: String,
    author: String,
    deployed_at: DateTime<Utc>,
    components: i64,
}

/// Up to `limit` changes matching `f`, newest deployment first, after its cursor. The
/// component filter is an id (resolved by the caller).
pub async fn list(
    conn: &mut Conn<'_>,
    f: &ChangeFilter,
    component_id: Option<i64>,
    author_id: Option<i64>,
    limit: i64,
) -> Result<Vec<ChangeSummary>, DbError> {
    let title = match &f.q {
        Some(q) => Some((q.to_lowercase(), title_lookup(conn, q).await?)),
        None => None,
    };
    let mut w = Where::default();
    // Status and kind have a handful of values each: next to an author or a rare title their
    // indexes must not win (SQLite has no statistics to tell), so they are written as
    // expressions. Next to a component, walking the kind index newest first measured faster
    // than sorting the component's changes.
    let narrow = author_id.is_some() || matches!(title, Some((_, TitleLookup::Index)));
    let few = |column: &str| match narrow {
        true => format!("{column} || '' = ?"),
        false => format!("{column} = ?"),
    };
    if let Some(s) = f.status {
        w.push(&few("c.status"), [Arg::Text(s.as_str().into())]);
    }
    if let Some(k) = f.kind {
        w.push(&few("c.kind"), [Arg::Text(k.as_str().into())]);
    }
    if let Some(id) = component_id {
        w.push(
            "c.id IN (SELECT change_id FROM change_components WHERE component_id = ?)",
            [Arg::Int(id)],
        );
    }
    if let Some(id) = author_id {
        w.push("c.author_id = ?", [Arg::Int(id)]);
    }
    if let Some((q, lookup)) = &title {
        title_search(&mut w, q, *lookup);
    }
    if let Some(d) = f.from {
        w.push(
            "c.deployed_at >= ?",
            [Arg::At(
                d.and_hms_opt(0, 0, 0).unwrap_or_default().and_utc(),
            )],
        );
    }
    if let Some(d) = f.to {
        let end = d.and_hms_opt(0, 0, 0).unwrap_or_default().and_utc() + Duration::days(1);
        w.push("c.deployed_at < ?", [Arg::At(end)]);
    }
    if let Some(cur) = f.after {
        w.push(
            "(c.deployed_at < ? OR (c.deployed_at = ? AND c.id < ?))",
            [
                Arg::At(cur.deployed_at),
                Arg::At(cur.deployed_at),
                Arg::Int(cur.id),
            ],
        );
    }
    let sql = format!(
        "SELECT c.id, c.title, c.kind, c.status, u.username AS author, c.deployed_at, \
           (SELECT COUNT(*) FROM change_components cc WHERE cc.change_id = c.id) AS components \
         FROM changes c JOIN users u ON u.id = c.author_id {} \
         ORDER BY c.deployed_at DESC, c.id DESC LIMIT {limit}",
        w.sql()
    );
    let rows: Vec<SummaryRow> = conn_run!(conn, |x| bind_args!(sqlx::query_as(&sql), &w.args)
        .fetch_all(x)
        .await)?;
    Ok(rows
        .into_iter()
        .map(|r| ChangeSummary {
            id: r.id,
            title: r.title,
            kind: ChangeKind::parse(&r.kind).unwrap_or(ChangeKind::Other),
            status: ChangeStatus::parse(&r.status).unwrap_or(ChangeStatus::Recorded),
            author: r.author,
            deployed_at: r.deployed_at,
            components: r.components,
        })
        .collect())
}

/// The id of a user by lower-cased username, if there is one.
pub async fn user_id(conn: &mut Conn<'_>, username: &str) -> Result<Option<i64>, DbError> {
    let sql = "SELECT id FROM users WHERE username_lower = $1";
    Ok(conn_run!(conn, |x| sqlx::query_scalar(sql)
        .bind(username.to_lowercase())
        .fetch_optional(x)
        .await)?)
}

/// Component ids by lower-cased name, for the given names.
pub async fn component_ids(
    conn: &mut Conn<'_>,
    names: &[String],
) -> Result<HashMap<String, i64>, DbError> {
    if names.is_empty() {
        return Ok(HashMap::new());
    }
    let sql = format!(
        "SELECT name_lower, id FROM components WHERE name_lower IN ({})",
        placeholders_from(1, names.len())
    );
    let rows: Vec<(String, i64)> = conn_run!(conn, |x| {
        let mut q = sqlx::query_as(&sql);
        for n in names {
            q = q.bind(n.to_lowercase());
        }
        q.fetch_all(x).await
    })?;
    Ok(rows.into_iter().collect())
}

/// Moves a change along its life cycle (plans and executions do; edits keep the status).
pub async fn set_status(
    tx: &mut Tx,
    id: i64,
    status: ChangeStatus,
    now: DateTime<Utc>,
) -> Result<(), DbError> {
    let sql = "UPDATE changes SET status = $1, updated_at = $2 WHERE id = $3";
    tx_run!(tx, |x| sqlx::query(sql)
        .bind(status.as_str())
        .bind(now)
        .bind(id)
        .execute(x)
        .await
        .map(|_| ()))?;
    Ok(())
}

/// The change's status now (read inside the transaction that moves it).
pub async fn status_of(tx: &mut Tx, id: i64) -> Result<ChangeStatus, DbError> {
    let sql = "SELECT status FROM changes WHERE id = $1";
    let status: String = tx_run!(tx, |x| sqlx::query_scalar(sql).bind(id).fetch_one(x).await)?;
    Ok(ChangeStatus::parse(&status).unwrap_or(ChangeStatus::Recorded))
}

/// Closes a change without a rollback ("fixed forward"), keeping why and where the fix is.
pub async fn set_closure(
    tx: &mut Tx,
    id: i64,
    reason: &str,
    link: Option<&str>,
) -> Result<(), DbError> {
    let sql = "UPDATE changes SET close_reason = $1, close_link = $2 WHERE id = $3";
    tx_run!(tx, |x| sqlx::query(sql)
        .bind(reason)
        .bind(link)
        .bind(id)
        .execute(x)
        .await
        .map(|_| ()))?;
    Ok(())
}
