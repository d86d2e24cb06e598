//! Recording and editing changes; each write is audited in its transaction, with the full
//! before/after state so the change page can show who changed what.

use chrono::Utc;
use serde_json::{json, Value};

use super::{
    model::{Change, ChangeFilter, ChangesPage, Cursor, NewChange},
    repo,
};
use crate::{
    audit::repo::{append, Ctx, NewAuditEvent},
    db::{Conn, Db, DbError, Tx},
    error::{AppError, FieldError},
};

pub const PAGE_SIZE: i64 = 50;

#[derive(Debug, thiserror::Error)]
pub enum ChangeError {
    #[error("invalid change")]
    Invalid(Vec<FieldError>),
    #[error("change not found")]
    NotFound,
    #[error("edited concurrently")]
    Stale,
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

impl From<DbError> for ChangeError {
    fn from(e: DbError) -> Self {
        match e {
            DbError::NotFound => Self::NotFound,
            e => Self::Unexpected(e.into()),
        }
    }
}

impl From<ChangeError> for AppError {
    fn from(e: ChangeError) -> Self {
        match e {
            ChangeError::Invalid(fields) => AppError::Validation { fields },
            ChangeError::NotFound => AppError::not_found("The change"),
            ChangeError::Stale => AppError::conflict(
                "Someone else saved this change after you opened it. Reload the page to see their edit, then make yours again.",
            ),
            ChangeError::Unexpected(e) => crate::error::internal(e),
        }
    }
}

/// The state of a change as audit events record it.
pub fn snapshot(c: &Change) -> Value {
    json!({
        "title": c.title,
        "kind": c.kind.as_str(),
        "why": c.why,
        "deployed_at": c.deployed_at.to_rfc3339(),
        "git_sha": c.git_sha,
        "artifact_ref": c.artifact_ref,
        "links": c.links.iter().map(|l| format!("{}: {}", l.kind, l.url)).collect::<Vec<_>>(),
        "components": c.components.iter().map(|a| match (a.data_version.is_empty(), a.data_version_before.is_empty()) {
            (_, false) => format!("{} @ {} (before: {})", a.component.name, a.data_version, a.data_version_before),
            (false, true) => format!("{} @ {}", a.component.name, a.data_version),
            (true, true) => a.component.name.clone(),
        }).collect::<Vec<_>>(),
        "git_sha_before": c.git_sha_before,
        "status": c.status.as_str(),
    })
}

/// Resolves component names to ids; unknown names are a validation error naming them.
async fn resolve(tx: &mut Tx, c: &NewChange) -> Result<Vec<repo::Touched>, ChangeError> {
    let names: Vec<String> = c.components.iter().map(|(n, _)| n.clone()).collect();
    let ids = repo::component_ids(&mut Conn::Tx(tx), &names).await?;
    let mut out = Vec::new();
    let mut errors = Vec::new();
    for (i, (name, version)) in c.components.iter().enumerate() {
        match ids.get(&name.to_lowercase()) {
            Some(id) => out.push(repo::Touched {
                component_id: *id,
                produced: version.clone(),
                before: c
                    .versions_before
                    .iter()
                    .find(|(n, _)| n.eq_ignore_ascii_case(name))
                    .map(|(_, v)| v.clone())
                    .unwrap_or_default(),
            }),
            None => errors.push(FieldError::new(
                &format!("components[{i}]"),
                format!("`{name}` is not a component in the catalog: add it there (or import lineage) first"),
            )),
        }
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(ChangeError::Invalid(errors))
    }
}

/// Records a change by `author_id`; `via` names the API token when CI recorded it.
#[tracing::instrument(skip_all, fields(author_id))]
pub async fn create(
    db: &Db,
    ctx: &Ctx,
    author_id: i64,
    c: &NewChange,
    via: Option<&str>,
) -> Result<i64, ChangeError> {
    let mut tx = db.begin().await?;
    let id = create_in(&mut tx, ctx, author_id, c, via).await?;
    tx.commit().await?;
    Ok(id)
}

/// `create` inside the caller's transaction (the API stores its idempotency record with it).
pub async fn create_in(
    tx: &mut Tx,
    ctx: &Ctx,
    author_id: i64,
    c: &NewChange,
    via: Option<&str>,
) -> Result<i64, ChangeError> {
    let components = resolve(tx, c).await?;
    let id = repo::insert(tx, c, author_id, Utc::now()).await?;
    repo::set_components(tx, id, &components).await?;
    let stored = repo::get(&mut Conn::Tx(tx), id).await?;
    let mut after = snapshot(&stored);
    if let Some(token) = via {
        after["recorded_via_token"] = json!(token);
    }
    let event = NewAuditEvent {
        action: "change.recorded",
        entity_type: "change",
        entity_id: id.to_string(),
        before: Value::Null,
        after,
    };
    append(tx, ctx, event).await?;
    Ok(id)
}

/// Saves an edit made on top of `version` (refused if someone saved in between).
#[tracing::instrument(skip_all, fields(id, version))]
pub async fn update(
    db: &Db,
    ctx: &Ctx,
    id: i64,
    version: i64,
    c: &NewChange,
) -> Result<(), ChangeError> {
    let mut tx = db.begin().await?;
    let before = repo::get(&mut Conn::Tx(&mut tx), id).await?;
    let components = resolve(&mut tx, c).await?;
    if !repo::update(&mut tx, id, version, c, Utc::now()).await? {
        return Err(ChangeError::Stale);
    }
    repo::set_components(&mut tx, id, &components).await?;
    let after = repo::get(&mut Conn::Tx(&mut tx), id).await?;
    let (b, a) = (snapshot(&before), snapshot(&after));
    if b == a {
        return Ok(()); // nothing changed: nothing to record (the version bump is rolled back)
    }
    let event = NewAuditEvent {
        action: "change.edited",
        entity_type: "change",
        entity_id: id.to_string(),
        before: b,
        after: a,
    };
    append(&mut tx, ctx, event).await?;
    tx.commit().await?;
    Ok(())
}

/// A page of changes; an unknown component or author in the filter is a validation error.
pub async fn list(db: &Db, f: &ChangeFilter) -> Result<ChangesPage, ChangeError> {
    let mut conn = Conn::Db(db);
    let component_id = match &f.component {
        None => None,
        Some(name) => {
            let ids = repo::component_ids(&mut conn, std::slice::from_ref(name)).await?;
            Some(*ids.get(&name.to_lowercase()).ok_or_else(|| {
                ChangeError::Invalid(vec![FieldError::new(
                    "component",
                    format!("`{name}` is not a component in the catalog"),
                )])
            })?)
        }
    };
    let author_id = match &f.author {
        None => None,
        Some(name) => Some(repo::user_id(&mut conn, name).await?.ok_or_else(|| {
            ChangeError::Invalid(vec![FieldError::new(
                "author",
                format!("`{name}` is not a user of Rollgate"),
            )])
        })?),
    };
    let mut changes = repo::list(&mut conn, f, component_id, author_id, PAGE_SIZE + 1).await?;
    let next = (changes.len() as i64 > PAGE_SIZE).then(|| {
        changes.truncate(PAGE_SIZE as usize);
        let last = &changes[changes.len() - 1];
        Cursor {
            deployed_at: last.deployed_at,
            id: last.id,
        }
        .encode()
    });
    Ok(ChangesPage { changes, next })
}

/// Moves a change along its life cycle with its `change.status_changed` event, in the caller's
/// transaction (plans and executions move it); nothing is written when it is already there.
pub async fn move_status(
    tx: &mut Tx,
    ctx: &Ctx,
    id: i64,
    to: super::model::ChangeStatus,
    now: chrono::DateTime<Utc>,
) -> Result<(), DbError> {
    let from = repo::status_of(tx, id).await?;
    if from == to {
        return Ok(());
    }
    repo::set_status(tx, id, to, now).await?;
    let event = NewAuditEvent {
        action: "change.status_changed",
        entity_type: "change",
        entity_id: id.to_string(),
        before: json!({"status": from.as_str()}),
        after: json!({"status": to.as_str()}),
    };
    append(tx, ctx, event).await.map(|_| ())
}
