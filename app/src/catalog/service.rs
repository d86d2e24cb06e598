//! Declaring components and dependencies (browser, import file, dbt manifest, API) and computing
//! impact. Every declaration is all-or-nothing and audited in its transaction.

use std::collections::{HashMap, HashSet};

use chrono::Utc;
use serde_json::{json, Value};

use super::{
    graph::{path_to, Graph},
    import::{parse_upload, Parsed},
    model::{ComponentKind, Declaration, DeclareSummary, Impact, ImpactEntry, ImportResult},
    repo::{self, ComponentFields, ComponentRow},
    svg,
};
use crate::{
    audit::repo::{append, Ctx, NewAuditEvent},
    db::{Conn, Db, DbError, Tx},
    error::{AppError, FieldError},
};

#[derive(Debug, thiserror::Error)]
pub enum CatalogError {
    #[error("invalid declaration")]
    Invalid(Vec<FieldError>),
    #[error("component not found")]
    NotFound,
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

impl From<DbError> for CatalogError {
    fn from(e: DbError) -> Self {
        match e {
            DbError::NotFound => Self::NotFound,
            e if e.is_conflict_on("components_name_lower_key") => {
                Self::Invalid(vec![FieldError::new(
                    "name",
                    "is already used by another component",
                )])
            }
            e => Self::Unexpected(e.into()),
        }
    }
}

impl From<CatalogError> for AppError {
    fn from(e: CatalogError) -> Self {
        match e {
            CatalogError::Invalid(fields) => AppError::Validation { fields },
            CatalogError::NotFound => AppError::not_found("The component"),
            CatalogError::Unexpected(e) => crate::error::internal(e),
        }
    }
}

fn invalid(field: &str, message: impl Into<String>) -> CatalogError {
    CatalogError::Invalid(vec![FieldError::new(field, message)])
}

/// Where a declaration came from, recorded on the component and in the audit event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    Browser,
    File,
    Dbt,
    Api,
}

impl Source {
    pub fn as_str(self) -> &'static str {
        match self {
            Source::Browser => "browser",
            Source::File => "file",
            Source::Dbt => "dbt",
            Source::Api => "api",
        }
    }
}

/// The state of a component as audit events record it.
fn snapshot(d: &Declaration) -> Value {
    json!({
        "name": d.name,
        "kind": d.kind.map(ComponentKind::as_str),
        "owner": d.owner,
        "description": d.description,
        "tags": d.tags,
        "connector": d.connector,
        "dag_id": d.dag_id,
        "rollback_dag_id": d.rollback_dag_id,
        "retention": d.retention,
    })
}

/// A stored row (and its tags) as the declaration that would produce it.
fn as_declaration(
    row: &ComponentRow,
    tags: &[String],
    connectors: &HashMap<i64, String>,
) -> Declaration {
    Declaration {
        name: row.name.clone(),
        kind: Some(row.kind()),
        owner: row.owner.clone(),
        description: row.description.clone(),
        tags: tags.to_vec(),
        upstream: None,
        connector: row.connector_id.and_then(|id| connectors.get(&id).cloned()),
        dag_id: row.dag_id.clone(),
        rollback_dag_id: row.rollback_dag_id.clone(),
        retention: row.retention.clone(),
    }
}

fn fields<'a>(
    d: &'a Declaration,
    source: Source,
    connector_id: Option<i64>,
) -> ComponentFields<'a> {
    ComponentFields {
        name: &d.name,
        kind: d.kind.unwrap_or(ComponentKind::Other),
        owner: &d.owner,
        description: &d.description,
        source: source.as_str(),
        connector_id,
        dag_id: d.dag_id.as_deref(),
        rollback_dag_id: d.rollback_dag_id.as_deref(),
        retention: d.retention.as_deref().filter(|r| !r.is_empty()),
    }
}

/// A declaration that names no retention keeps the stored one; an empty one clears it.
fn kept_retention(d: &Declaration, row: &ComponentRow) -> Declaration {
    let retention = match d.retention.as_deref() {
        None => row.retention.clone(),
        Some("") => None,
        Some(r) => Some(r.to_string()),
    };
    Declaration {
        retention,
        ..d.clone()
    }
}

/// Everything a declaration is checked against, read inside its transaction.
struct Catalog {
    rows: HashMap<String, ComponentRow>,
    tags: HashMap<i64, Vec<String>>,
    connectors: HashMap<String, i64>,
    edges: Vec<(i64, i64)>,
}

impl Catalog {
    async fn load(tx: &mut Tx) -> Result<Self, DbError> {
        let mut conn = Conn::Tx(tx);
        Ok(Self {
            rows: repo::all_rows(&mut conn).await?,
            tags: repo::all_tags(&mut conn).await?,
            connectors: repo::connector_ids(&mut conn).await?,
            edges: repo::all_edges(&mut conn).await?,
        })
    }

    fn connector_names(&self) -> HashMap<i64, String> {
        self.connectors
            .iter()
            .map(|(n, id)| (*id, n.clone()))
            .collect()
    }

    fn connector_id(&self, d: &Declaration, path: &str) -> Result<Option<i64>, FieldError> {
        match &d.connector {
            None => Ok(None),
            Some(name) => self.connectors.get(&name.to_lowercase()).copied().map(Some).ok_or_else(|| {
                FieldError::new(
                    &super::model::join_path(path, "connector"),
                    format!("`{name}` is not a connector: an administrator adds it under Connectors first"),
                )
            }),
        }
    }

    fn name_of(&self, id: i64) -> String {
        self.rows
            .values()
            .find(|r| r.id == id)
            .map(|r| r.name.clone())
            .unwrap_or_else(|| format!("#{id}"))
    }

    /// A cycle in `edges`, named: "a → b → a".
    fn cycle_in(&self, edges: &[(i64, i64)], names: &HashMap<i64, String>) -> Option<String> {
        let cycle = Graph::from_edges(edges.iter().copied()).find_cycle()?;
        Some(
            cycle
                .iter()
                .map(|id| names.get(id).cloned().unwrap_or_else(|| self.name_of(*id)))
                .collect::<Vec<_>>()
                .join(" → "),
        )
    }
}

/// Declares a batch (import file, dbt manifest, API): creates or updates each component by
/// name and, where `upstream` is given, makes its upstream dependencies exactly that list.
/// Nothing is written unless every entry is valid and the result has no cycle.
#[tracing::instrument(skip_all, fields(source = source.as_str(), entries = decls.len()))]
pub async fn declare(
    db: &Db,
    ctx: &Ctx,
    source: Source,
    label: &str,
    decls: Vec<Declaration>,
) -> Result<DeclareSummary, CatalogError> {
    let decls = normalise_all(decls)?;
    let now = Utc::now();
    let mut tx = db.begin().await?;
    let cat = Catalog::load(&mut tx).await?;
    let mut errors = Vec::new();
    let mut connector_ids = Vec::with_capacity(decls.len());
    let batch: HashSet<String> = decls.iter().map(|d| d.name.to_lowercase()).collect();
    for (i, d) in decls.iter().enumerate() {
        let path = format!("components[{i}]");
        connector_ids.push(cat.connector_id(d, &path).unwrap_or_else(|e| {
            errors.push(e);
            None
        }));
        for (j, up) in d.upstream.iter().flatten().enumerate() {
            let key = up.to_lowercase();
            if !batch.contains(&key) && !cat.rows.contains_key(&key) {
                errors.push(FieldError::new(
                    &format!("{path}.upstream[{j}]"),
                    format!("`{up}` is not a component: declare it in this batch or in the catalog first"),
                ));
            }
        }
    }
    if !errors.is_empty() {
        return Err(CatalogError::Invalid(errors));
    }
    let connector_names = cat.connector_names();
    let mut summary = DeclareSummary::default();
    let mut ids: HashMap<String, i64> = cat.rows.iter().map(|(k, r)| (k.clone(), r.id)).collect();
    for (d, connector_id) in decls.iter().zip(&connector_ids) {
        let key = d.name.to_lowercase();
        match cat.rows.get(&key) {
            Some(row) => {
                let d = &kept_retention(d, row);
                let tags = cat.tags.get(&row.id).map(Vec::as_slice).unwrap_or(&[]);
                let mut current = as_declaration(row, tags, &connector_names);
                current.upstream = d.upstream.clone();
                if current == *d {
                    summary.unchanged += 1;
                    continue;
                }
                repo::update(&mut tx, row.id, &fields(d, source, *connector_id), now).await?;
                if tags != d.tags.as_slice() {
                    repo::set_tags(&mut tx, row.id, &d.tags).await?;
                }
                summary.updated.push(d.name.clone());
            }
            None => {
                let id = repo::insert(&mut tx, &fields(d, source, *connector_id), now).await?;
                repo::set_tags(&mut tx, id, &d.tags).await?;
                ids.insert(key, id);
                summary.created.push(d.name.clone());
            }
        }
    }
    let (added, removed, edges) = replace_upstreams(&mut tx, &cat.edges, &decls, &ids, now).await?;
    summary.edges_added = added.len();
    summary.edges_removed = removed.len();
    let names: HashMap<i64, String> = decls
        .iter()
        .filter_map(|d| {
            ids.get(&d.name.to_lowercase())
                .map(|id| (*id, d.name.clone()))
        })
        .collect();
    if let Some(cycle) = cat.cycle_in(&edges, &names) {
        return Err(invalid(
            "components",
            format!("these dependencies would form a cycle: {cycle}"),
        ));
    }
    if summary.created.is_empty()
        && summary.updated.is_empty()
        && added.is_empty()
        && removed.is_empty()
    {
        return Ok(summary); // nothing changed: nothing to record
    }
    let edge_names = |list: &[(i64, i64)]| -> Vec<[String; 2]> {
        list.iter()
            .map(|(u, d)| [name(&names, &cat, *u), name(&names, &cat, *d)])
            .collect()
    };
    let event = NewAuditEvent {
        action: "catalog.declared",
        entity_type: "catalog",
        entity_id: label.to_string(),
        before: Value::Null,
        after: json!({
            "source": source.as_str(),
            "created": summary.created,
            "updated": summary.updated,
            "unchanged": summary.unchanged,
            "edges_added": edge_names(&added),
            "edges_removed": edge_names(&removed),
        }),
    };
    append(&mut tx, ctx, event).await?;
    tx.commit().await?;
    Ok(summary)
}

fn name(names: &HashMap<i64, String>, cat: &Catalog, id: i64) -> String {
    names.get(&id).cloned().unwrap_or_else(|| cat.name_of(id))
}

/// Imports an uploaded catalog file or dbt manifest (see `import::parse_upload`).
pub async fn import(db: &Db, ctx: &Ctx, bytes: &[u8]) -> Result<ImportResult, CatalogError> {
    match parse_upload(bytes).map_err(CatalogError::Invalid)? {
        Parsed::File(decls) => {
            let summary = declare(db, ctx, Source::File, "import file", decls).await?;
            Ok(ImportResult::new("file", &summary))
        }
        Parsed::Dbt {
            project,
            declarations,
        } => {
            let label = format!("dbt project {project}");
            let summary = declare(db, ctx, Source::Dbt, &label, declarations).await?;
            Ok(ImportResult::new("dbt", &summary))
        }
    }
}

/// Checks every entry; names must be unique within the batch.
fn normalise_all(decls: Vec<Declaration>) -> Result<Vec<Declaration>, CatalogError> {
    let mut errors = Vec::new();
    let mut out = Vec::with_capacity(decls.len());
    let mut seen: HashMap<String, usize> = HashMap::new();
    for (i, d) in decls.into_iter().enumerate() {
        let path = format!("components[{i}]");
        match d.normalise(&path) {
            Ok(d) => {
                if let Some(first) = seen.insert(d.name.to_lowercase(), i) {
                    errors.push(FieldError::new(
                        &format!("{path}.name"),
                        format!("`{}` is declared twice (also components[{first}])", d.name),
                    ));
                }
                out.push(d);
            }
            Err(e) => errors.extend(e),
        }
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(CatalogError::Invalid(errors))
    }
}

type EdgeChanges = (Vec<(i64, i64)>, Vec<(i64, i64)>, Vec<(i64, i64)>);

/// Makes each declared component's upstream set exactly its list; returns the edges added,
/// removed, and the resulting full edge list.
async fn replace_upstreams(
    tx: &mut Tx,
    current: &[(i64, i64)],
    decls: &[Declaration],
    ids: &HashMap<String, i64>,
    now: chrono::DateTime<Utc>,
) -> Result<EdgeChanges, DbError> {
    let mut edges: HashSet<(i64, i64)> = current.iter().copied().collect();
    let (mut added, mut removed) = (Vec::new(), Vec::new());
    for d in decls {
        let Some(upstream) = &d.upstream else {
            continue;
        };
        let down = ids[&d.name.to_lowercase()];
        let wanted: HashSet<i64> = upstream.iter().map(|u| ids[&u.to_lowercase()]).collect();
        let existing: Vec<i64> = current
            .iter()
            .filter(|(_, d)| *d == down)
            .map(|(u, _)| *u)
            .collect();
        for up in existing.iter().filter(|u| !wanted.contains(u)) {
            repo::delete_edge(tx, *up, down).await?;
            edges.remove(&(*up, down));
            removed.push((*up, down));
        }
        let mut new: Vec<i64> = wanted
            .into_iter()
            .filter(|u| !existing.contains(u))
            .collect();
        new.sort_unstable();
        for up in new {
            repo::insert_edge(tx, up, down, now).await?;
            edges.insert((up, down));
            added.push((up, down));
        }
    }
    Ok((added, removed, edges.into_iter().collect()))
}

/// Creates one component from the browser form; its name must be new.
pub async fn create(db: &Db, ctx: &Ctx, d: Declaration) -> Result<i64, CatalogError> {
    let d = d.normalise("").map_err(CatalogError::Invalid)?;
    let mut tx = db.begin().await?;
    let cat = Catalog::load(&mut tx).await?;
    if cat.rows.contains_key(&d.name.to_lowercase()) {
        return Err(invalid(
            "name",
            format!("a component named `{}` already exists", d.name),
        ));
    }
    let connector_id = cat
        .connector_id(&d, "")
        .map_err(|e| CatalogError::Invalid(vec![e]))?;
    let id = repo::insert(
        &mut tx,
        &fields(&d, Source::Browser, connector_id),
        Utc::now(),
    )
    .await?;
    repo::set_tags(&mut tx, id, &d.tags).await?;
    let event = NewAuditEvent {
        action: "component.created",
        entity_type: "component",
        entity_id: id.to_string(),
        before: Value::Null,
        after: snapshot(&d),
    };
    append(&mut tx, ctx, event).await?;
    tx.commit().await?;
    Ok(id)
}

/// Edits one component from the browser form (its dependencies are edited separately).
pub async fn update(db: &Db, ctx: &Ctx, id: i64, d: Declaration) -> Result<(), CatalogError> {
    let d = Declaration {
        upstream: None,
        ..d
    }
    .normalise("")
    .map_err(CatalogError::Invalid)?;
    let mut tx = db.begin().await?;
    let cat = Catalog::load(&mut tx).await?;
    let row = cat
        .rows
        .values()
        .find(|r| r.id == id)
        .ok_or(CatalogError::NotFound)?;
    let d = kept_retention(&d, row);
    let tags = cat.tags.get(&id).map(Vec::as_slice).unwrap_or(&[]);
    let before = as_declaration(row, tags, &cat.connector_names());
    if before == d {
        return Ok(());
    }
    if let Some(other) = cat.rows.get(&d.name.to_lowercase()).filter(|r| r.id != id) {
        return Err(invalid(
            "name",
            format!("is already used by component `{}`", other.name),
        ));
    }
    let connector_id = cat
        .connector_id(&d, "")
        .map_err(|e| CatalogError::Invalid(vec![e]))?;
    repo::update(
        &mut tx,
        id,
        &fields(&d, Source::Browser, connector_id),
        Utc::now(),
    )
    .await?;
    repo::set_tags(&mut tx, id, &d.tags).await?;
    let event = NewAuditEvent {
        action: "component.updated",
        entity_type: "component",
        entity_id: id.to_string(),
        before: snapshot(&before),
        after: snapshot(&d),
    };
    append(&mut tx, ctx, event).await?;
    tx.commit().await?;
    Ok(())
}

/// Adds `upstream → downstream`; refused when it would close a cycle (the message names it).
pub async fn add_dependency(
    db: &Db,
    ctx: &Ctx,
    downstream: i64,
    upstream: &str,
) -> Result<(), CatalogError> {
    let mut tx = db.begin().await?;
    let cat = Catalog::load(&mut tx).await?;
    let down = cat
        .rows
        .values()
        .find(|r| r.id == downstream)
        .ok_or(CatalogError::NotFound)?;
    let up = cat
        .rows
        .get(&upstream.trim().to_lowercase())
        .ok_or_else(|| {
            invalid(
                "upstream",
                format!("`{}` is not a component in the catalog", upstream.trim()),
            )
        })?;
    if up.id == down.id {
        return Err(invalid("upstream", "a component cannot depend on itself"));
    }
    let graph = Graph::from_edges(cat.edges.iter().copied());
    if let Some(path) = graph.path(down.id, up.id) {
        let names: Vec<String> = path
            .iter()
            .chain([&down.id])
            .map(|id| cat.name_of(*id))
            .collect();
        return Err(invalid(
            "upstream",
            format!("would form a cycle: {}", names.join(" → ")),
        ));
    }
    if !repo::insert_edge(&mut tx, up.id, down.id, Utc::now()).await? {
        return Ok(()); // already declared
    }
    edge_event(&mut tx, ctx, "component.dependency_added", &up.name, down).await?;
    tx.commit().await?;
    Ok(())
}

/// Removes `upstream → downstream` if it exists.
pub async fn remove_dependency(
    db: &Db,
    ctx: &Ctx,
    downstream: i64,
    upstream: i64,
) -> Result<(), CatalogError> {
    let mut tx = db.begin().await?;
    let cat = Catalog::load(&mut tx).await?;
    let down = cat
        .rows
        .values()
        .find(|r| r.id == downstream)
        .ok_or(CatalogError::NotFound)?;
    if !repo::delete_edge(&mut tx, upstream, downstream).await? {
        return Ok(());
    }
    edge_event(
        &mut tx,
        ctx,
        "component.dependency_removed",
        &cat.name_of(upstream),
        down,
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

async fn edge_event(
    tx: &mut Tx,
    ctx: &Ctx,
    action: &'static str,
    up: &str,
    down: &ComponentRow,
) -> Result<(), DbError> {
    let edge = json!({ "upstream": up, "downstream": down.name });
    let (before, after) = if action.ends_with("added") {
        (Value::Null, edge)
    } else {
        (edge, Value::Null)
    };
    let event = NewAuditEvent {
        action,
        entity_type: "component",
        entity_id: down.id.to_string(),
        before,
        after,
    };
    append(tx, ctx, event).await?;
    Ok(())
}

/// The most nodes the impact picture draws; larger graphs show the table only.
pub const SVG_MAX_NODES: usize = 400;

/// Everything downstream of `root`: distance and shortest path for each, plus the picture.
pub async fn impact(db: &Db, root: i64) -> Result<Impact, CatalogError> {
    let mut conn = Conn::Db(db);
    let root_ref = repo::refs_by_ids(&mut conn, &[root])
        .await?
        .pop()
        .ok_or(CatalogError::NotFound)?;
    let edges = repo::downstream_edges(&mut conn, root).await?;
    let graph = Graph::from_edges(edges.iter().copied());
    let reached = graph.reach(root);
    let ids: Vec<i64> = reached.keys().copied().filter(|id| *id != root).collect();
    let refs: HashMap<i64, _> = repo::refs_by_ids(&mut conn, &ids)
        .await?
        .into_iter()
        .map(|r| (r.id, r))
        .chain([(root, root_ref.clone())])
        .collect();
    let mut entries: Vec<ImpactEntry> = ids
        .iter()
        .filter_map(|id| {
            Some(ImpactEntry {
                component: refs.get(id)?.clone(),
                distance: reached[id].1,
                path: path_to(&reached, *id)
                    .iter()
                    .filter_map(|p| refs.get(p).map(|r| r.name.clone()))
                    .collect(),
            })
        })
        .collect();
    entries.sort_by(|a, b| (a.distance, &a.component.name).cmp(&(b.distance, &b.component.name)));
    let svg = (entries.len() < SVG_MAX_NODES).then(|| {
        let members: HashSet<i64> = ids.iter().copied().collect();
        let layers = graph.layers_from(root, &members);
        svg::render(&root_ref, &refs, &layers, &edges)
    });
    Ok(Impact {
        root: root_ref,
        entries,
        svg,
    })
}
