//! SQL for components, their tags and the lineage edges between them.

use std::collections::HashMap;

use chrono::{DateTime, Utc};

use super::model::{Binding, Component, ComponentKind, ComponentRef};
use crate::{
    bind_args, conn_run,
    db::{placeholders_from, Arg, Conn, DbError, Tx, Where},
    tx_run,
};

/// The stored fields of a component, as declarations compare and write them.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct ComponentRow {
    pub id: i64,
    pub name: String,
    pub kind: String,
    pub owner: String,
    pub description: String,
    pub source: String,
    pub connector_id: Option<i64>,
    pub dag_id: Option<String>,
    pub rollback_dag_id: Option<String>,
    pub retention: Option<String>,
    pub updated_at: DateTime<Utc>,
}

impl ComponentRow {
    pub fn kind(&self) -> ComponentKind {
        ComponentKind::parse(&self.kind).unwrap_or(ComponentKind::Other)
    }

    pub fn as_ref(&self) -> ComponentRef {
        ComponentRef {
            id: self.id,
            name: self.name.clone(),
            kind: self.kind(),
        }
    }
}

const COLUMNS: &str = "id, name, kind, owner, description, source, connector_id, dag_id, \
     rollback_dag_id, retention, updated_at";

/// Every component keyed by lower-cased name (declarations resolve names against it).
pub async fn all_rows(conn: &mut Conn<'_>) -> Result<HashMap<String, ComponentRow>, DbError> {
    let sql = format!("SELECT {COLUMNS} FROM components");
    let rows: Vec<ComponentRow> = conn_run!(conn, |c| sqlx::query_as(&sql).fetch_all(c).await)?;
    Ok(rows
        .into_iter()
        .map(|r| (r.name.to_lowercase(), r))
        .collect())
}

/// Every tag, by component id.
pub async fn all_tags(conn: &mut Conn<'_>) -> Result<HashMap<i64, Vec<String>>, DbError> {
    let sql = "SELECT component_id, tag FROM component_tags ORDER BY tag";
    let rows: Vec<(i64, String)> = conn_run!(conn, |c| sqlx::query_as(sql).fetch_all(c).await)?;
    let mut map: HashMap<i64, Vec<String>> = HashMap::new();
    for (id, tag) in rows {
        map.entry(id).or_default().push(tag);
    }
    Ok(map)
}

/// What a declaration writes into a component row.
pub struct ComponentFields<'a> {
    pub name: &'a str,
    pub kind: ComponentKind,
    pub owner: &'a str,
    pub description: &'a str,
    pub source: &'a str,
    pub connector_id: Option<i64>,
    pub dag_id: Option<&'a str>,
    pub rollback_dag_id: Option<&'a str>,
    pub retention: Option<&'a str>,
}

pub async fn insert(
    tx: &mut Tx,
    f: &ComponentFields<'_>,
    now: DateTime<Utc>,
) -> Result<i64, DbError> {
    let sql = "INSERT INTO components (name, name_lower, kind, owner, description, source, connector_id, dag_id, rollback_dag_id, created_at, updated_at, retention) \
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10, $11) RETURNING id";
    Ok(tx_run!(tx, |c| sqlx::query_scalar(sql)
        .bind(f.name)
        .bind(f.name.to_lowercase())
        .bind(f.kind.as_str())
        .bind(f.owner)
        .bind(f.description)
        .bind(f.source)
        .bind(f.connector_id)
        .bind(f.dag_id)
        .bind(f.rollback_dag_id)
        .bind(now)
        .bind(f.retention)
        .fetch_one(c)
        .await)?)
}

pub async fn update(
    tx: &mut Tx,
    id: i64,
    f: &ComponentFields<'_>,
    now: DateTime<Utc>,
) -> Result<(), DbError> {
    let sql = "UPDATE components SET name = $1, name_lower = $2, kind = $3, owner = $4, description = $5, source = $6, \
               connector_id = $7, dag_id = $8, rollback_dag_id = $9, updated_at = $10, retention = $12 WHERE id = $11";
    tx_run!(tx, |c| sqlx::query(sql)
        .bind(f.name)
        .bind(f.name.to_lowercase())
        .bind(f.kind.as_str())
        .bind(f.owner)
        .bind(f.description)
        .bind(f.source)
        .bind(f.connector_id)
        .bind(f.dag_id)
        .bind(f.rollback_dag_id)
        .bind(now)
        .bind(id)
        .bind(f.retention)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
    Ok(())
}

pub async fn set_tags(tx: &mut Tx, id: i64, tags: &[String]) -> Result<(), DbError> {
    tx_run!(tx, |c| sqlx::query(
        "DELETE FROM component_tags WHERE component_id = $1"
    )
    .bind(id)
    .execute(c)
    .await
    .map(|r| r.rows_affected()))?;
    for tag in tags {
        tx_run!(tx, |c| sqlx::query(
            "INSERT INTO component_tags (component_id, tag) VALUES ($1, $2)"
        )
        .bind(id)
        .bind(tag)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
    }
    Ok(())
}

/// Every edge (upstream, downstream).
pub async fn all_edges(conn: &mut Conn<'_>) -> Result<Vec<(i64, i64)>, DbError> {
    let sql = "SELECT upstream_id, downstream_id FROM component_edges";
    Ok(conn_run!(conn, |c| sqlx::query_as(sql).fetch_all(c).await)?)
}

/// The edges among everything downstream of `root` (a recursive query: only that part of the
/// graph is read).
pub async fn downstream_edges(conn: &mut Conn<'_>, root: i64) -> Result<Vec<(i64, i64)>, DbError> {
    let sql = "WITH RECURSIVE down(id) AS ( \
                 SELECT $1 \
                 UNION SELECT e.downstream_id FROM component_edges e JOIN down d ON e.upstream_id = d.id) \
               SELECT e.upstream_id, e.downstream_id FROM component_edges e JOIN down d ON e.upstream_id = d.id";
    Ok(conn_run!(conn, |c| sqlx::query_as(sql)
        .bind(root)
        .fetch_all(c)
        .await)?)
}

pub async fn insert_edge(
    tx: &mut Tx,
    up: i64,
    down: i64,
    now: DateTime<Utc>,
) -> Result<bool, DbError> {
    let sql =
        "INSERT INTO component_edges (upstream_id, downstream_id, created_at) VALUES ($1, $2, $3) \
               ON CONFLICT (upstream_id, downstream_id) DO NOTHING";
    let n = tx_run!(tx, |c| sqlx::query(sql)
        .bind(up)
        .bind(down)
        .bind(now)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
    Ok(n > 0)
}

pub async fn delete_edge(tx: &mut Tx, up: i64, down: i64) -> Result<bool, DbError> {
    let sql = "DELETE FROM component_edges WHERE upstream_id = $1 AND downstream_id = $2";
    let n = tx_run!(tx, |c| sqlx::query(sql)
        .bind(up)
        .bind(down)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
    Ok(n > 0)
}

/// One component with its tags, binding and direct neighbours.
pub async fn get(conn: &mut Conn<'_>, id: i64) -> Result<Component, DbError> {
    let sql = format!("SELECT {COLUMNS} FROM components WHERE id = $1");
    let row: ComponentRow = conn_run!(conn, |c| sqlx::query_as(&sql).bind(id).fetch_one(c).await)?;
    let tags: Vec<String> = conn_run!(conn, |c| sqlx::query_scalar(
        "SELECT tag FROM component_tags WHERE component_id = $1 ORDER BY tag"
    )
    .bind(id)
    .fetch_all(c)
    .await)?;
    let binding = match row.connector_id {
        Some(cid) => {
            let name: String = conn_run!(conn, |c| sqlx::query_scalar(
                "SELECT name FROM connectors WHERE id = $1"
            )
            .bind(cid)
            .fetch_one(c)
            .await)?;
            Some(Binding {
                connector_id: cid,
                connector_name: name,
                dag_id: row.dag_id.clone(),
                rollback_dag_id: row.rollback_dag_id.clone(),
            })
        }
        None => None,
    };
    let neighbours = |dir: &str| {
        let (me, other) = if dir == "up" {
            ("downstream_id", "upstream_id")
        } else {
            ("upstream_id", "downstream_id")
        };
        format!(
            "SELECT c.id, c.name, c.kind FROM component_edges e JOIN components c ON c.id = e.{other} \
             WHERE e.{me} = $1 ORDER BY c.name_lower"
        )
    };
    let upstream = refs(conn, &neighbours("up"), id).await?;
    let downstream = refs(conn, &neighbours("down"), id).await?;
    Ok(Component {
        kind: row.kind(),
        id: row.id,
        name: row.name,
        owner: row.owner,
        description: row.description,
        tags,
        source: row.source,
        binding,
        retention: row.retention,
        upstream,
        downstream,
        updated_at: row.updated_at,
    })
}

async fn refs(conn: &mut Conn<'_>, sql: &str, id: i64) -> Result<Vec<ComponentRef>, DbError> {
    let rows: Vec<(i64, String, String)> =
        conn_run!(conn, |c| sqlx::query_as(sql).bind(id).fetch_all(c).await)?;
    Ok(rows.into_iter().map(to_ref).collect())
}

fn to_ref((id, name, kind): (i64, String, String)) -> ComponentRef {
    ComponentRef {
        id,
        name,
        kind: ComponentKind::parse(&kind).unwrap_or(ComponentKind::Other),
    }
}

/// The components with these ids (any order).
pub async fn refs_by_ids(conn: &mut Conn<'_>, ids: &[i64]) -> Result<Vec<ComponentRef>, DbError> {
    let mut out = Vec::with_capacity(ids.len());
    // Chunks keep every statement under SQLite's bound-parameter limit.
    for chunk in ids.chunks(500) {
        let sql = format!(
            "SELECT id, name, kind FROM components WHERE id IN ({})",
            placeholders_from(1, chunk.len())
        );
        let rows: Vec<(i64, String, String)> = conn_run!(conn, |c| {
            let mut q = sqlx::query_as(&sql);
            for id in chunk {
                q = q.bind(id);
            }
            q.fetch_all(c).await
        })?;
        out.extend(rows.into_iter().map(to_ref));
    }
    Ok(out)
}

/// The components with these names (case-insensitive); unknown names are simply absent.
pub async fn refs_by_names(
    conn: &mut Conn<'_>,
    names: &[String],
) -> Result<Vec<ComponentRef>, DbError> {
    let mut out = Vec::with_capacity(names.len());
    for chunk in names.chunks(500) {
        let sql = format!(
            "SELECT id, name, kind FROM components WHERE name_lower IN ({})",
            placeholders_from(1, chunk.len())
        );
        let rows: Vec<(i64, String, String)> = conn_run!(conn, |c| {
            let mut q = sqlx::query_as(&sql);
            for n in chunk {
                q = q.bind(n.to_lowercase());
            }
            q.fetch_all(c).await
        })?;
        out.extend(rows.into_iter().map(to_ref));
    }
    Ok(out)
}

/// Filters of the catalog list.
#[derive(Debug, Clone, Default)]
pub struct ListFilter {
    /// Part of the name, any case.
    pub q: Option<String>,
    pub kind: Option<ComponentKind>,
    /// Keyset: names after this lower-cased name.
    pub after: Option<String>,
}

/// One row of the catalog list.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ListRow {
    pub id: i64,
    pub name: String,
    pub kind: String,
    pub owner: String,
    pub source: String,
    pub upstream: i64,
    pub downstream: i64,
}

/// A page of components by name, with their neighbour counts (one query).
pub async fn list(
    conn: &mut Conn<'_>,
    f: &ListFilter,
    limit: i64,
) -> Result<Vec<ListRow>, DbError> {
    let mut w = Where::default();
    if let Some(q) = &f.q {
        w.push("c.name_lower LIKE ? ESCAPE '\\'", [Arg::Text(like(q))]);
    }
    if let Some(k) = f.kind {
        w.push("c.kind = ?", [Arg::Text(k.as_str().into())]);
    }
    if let Some(a) = &f.after {
        w.push("c.name_lower > ?", [Arg::Text(a.clone())]);
    }
    let sql = format!(
        "SELECT c.id, c.name, c.kind, c.owner, c.source, \
           (SELECT COUNT(*) FROM component_edges e WHERE e.downstream_id = c.id) AS upstream, \
           (SELECT COUNT(*) FROM component_edges e WHERE e.upstream_id = c.id) AS downstream \
         FROM components c {} ORDER BY c.name_lower LIMIT {limit}",
        w.sql()
    );
    Ok(conn_run!(conn, |c| bind_args!(
        sqlx::query_as(&sql),
        &w.args
    )
    .fetch_all(c)
    .await)?)
}

/// `%text%` for LIKE, with `%`, `_` and `\` escaped.
pub fn like(text: &str) -> String {
    let escaped = text
        .to_lowercase()
        .replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_");
    format!("%{escaped}%")
}

/// Connector ids by lower-cased name.
pub async fn connector_ids(conn: &mut Conn<'_>) -> Result<HashMap<String, i64>, DbError> {
    let rows: Vec<(String, i64)> = conn_run!(conn, |c| sqlx::query_as(
        "SELECT name_lower, id FROM connectors"
    )
    .fetch_all(c)
    .await)?;
    Ok(rows.into_iter().collect())
}
