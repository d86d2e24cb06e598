//! Adding and editing action items (each write audited in its transaction) and their lists.

use chrono::{DateTime, NaiveDate, Utc};
use serde_json::{json, Value};

use super::{
    model::{DueDefaults, ItemInput, NewItem},
    repo,
    view::{ActionItem, Cursor, ItemFilter, ItemsPage, Week},
};
use crate::{
    audit::repo::{append, Ctx, NewAuditEvent},
    db::{Conn, Db, DbError, Tx},
    error::{AppError, FieldError},
};

pub const PAGE_SIZE: i64 = 50;

#[derive(Debug, thiserror::Error)]
pub enum ItemError {
    #[error("invalid action item")]
    Invalid(Vec<FieldError>),
    #[error("action item not found")]
    NotFound,
    #[error("edited concurrently")]
    Stale,
    #[error("not the owner")]
    Forbidden,
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

impl From<DbError> for ItemError {
    fn from(e: DbError) -> Self {
        match e {
            DbError::NotFound => Self::NotFound,
            e => Self::Unexpected(e.into()),
        }
    }
}

impl From<AppError> for ItemError {
    fn from(e: AppError) -> Self {
        match e {
            AppError::Validation { fields } => Self::Invalid(fields),
            e => Self::Unexpected(anyhow::anyhow!("{e}")),
        }
    }
}

impl From<ItemError> for AppError {
    fn from(e: ItemError) -> Self {
        match e {
            ItemError::Invalid(fields) => AppError::Validation { fields },
            ItemError::NotFound => AppError::not_found("The action item"),
            ItemError::Stale => AppError::conflict(
                "Someone else saved this action item after you opened it. Reload the page to see their edit, then make yours again.",
            ),
            ItemError::Forbidden => AppError::Forbidden,
            ItemError::Unexpected(e) => crate::error::internal(e),
        }
    }
}

/// The state of an item as audit events record it.
pub fn snapshot(i: &ActionItem) -> Value {
    json!({
        "title": i.title,
        "description": i.description,
        "owner": i.owner.username,
        "due_on": i.due_on.to_string(),
        "priority": i.priority.as_str(),
        "kind": i.kind.as_str(),
        "status": i.status.as_str(),
        "wont_do_reason": i.wont_do_reason,
        "ticket_url": i.ticket_url,
        "component": i.component.as_ref().map(|(_, name)| name.clone()),
        "plan_row": i.plan_row,
    })
}

/// Where an item is added: its postmortem and how many rows the change's plan has.
#[derive(Debug, Clone, Copy)]
pub struct Place {
    pub postmortem_id: i64,
    pub plan: Option<(i64, i64)>,
}

/// What only the database can tell: the owner is an active person, the component exists, the
/// plan row is one of the plan's.
async fn check_refs(tx: &mut Tx, item: &NewItem, plan_rows: i64) -> Result<(), ItemError> {
    let mut errors = Vec::new();
    match repo::owner_state(&mut Conn::Tx(tx), item.owner_id).await? {
        None => errors.push(FieldError::new(
            "owner_id",
            "choose who owns this item from the list",
        )),
        Some((_, kind)) if kind != "person" => errors.push(FieldError::new(
            "owner_id",
            "is a service account: choose a person who can act on it",
        )),
        Some((false, _)) => errors.push(FieldError::new(
            "owner_id",
            "is deactivated: choose someone who can act on it",
        )),
        Some(_) => {}
    }
    if let Some(id) = item.component_id {
        if !repo::component_exists(&mut Conn::Tx(tx), id).await? {
            errors.push(FieldError::new(
                "component_id",
                "choose a component from the catalog",
            ));
        }
    }
    if let Some(row) = item.plan_row {
        if row > plan_rows {
            errors.push(FieldError::new(
                "plan_row",
                "choose a row of the rollback plan",
            ));
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(ItemError::Invalid(errors))
    }
}

/// The form names the component; the item stores its id.
async fn with_component(tx: &mut Tx, input: &ItemInput) -> Result<ItemInput, ItemError> {
    let name = input.component.trim();
    if name.is_empty() {
        return Ok(input.clone());
    }
    let ids = crate::changes::repo::component_ids(&mut Conn::Tx(tx), &[name.to_string()]).await?;
    match ids.get(&name.to_lowercase()) {
        Some(id) => Ok(ItemInput {
            component_id: id.to_string(),
            ..input.clone()
        }),
        None => Err(ItemError::Invalid(vec![FieldError::new(
            "component",
            format!("`{name}` is not a component in the catalog"),
        )])),
    }
}

/// Adds an item to a postmortem (the caller checked that it exists).
#[tracing::instrument(skip_all, fields(postmortem_id = place.postmortem_id))]
pub async fn create(
    db: &Db,
    ctx: &Ctx,
    place: Place,
    input: &ItemInput,
    defaults: &DueDefaults,
    now: DateTime<Utc>,
) -> Result<i64, ItemError> {
    let mut tx = db.begin().await?;
    let input = with_component(&mut tx, input).await?;
    let item = NewItem::parse(&input, now.date_naive(), defaults, None)?;
    check_refs(&mut tx, &item, place.plan.map_or(0, |(_, n)| n)).await?;
    let plan_id = place.plan.map(|(id, _)| id);
    let id = repo::insert(&mut tx, place.postmortem_id, plan_id, &item, now).await?;
    let stored = repo::get(&mut Conn::Tx(&mut tx), id).await?;
    let mut after = snapshot(&stored);
    after["postmortem_id"] = json!(place.postmortem_id);
    let event = NewAuditEvent {
        action: "action_item.created",
        entity_type: "action_item",
        entity_id: id.to_string(),
        before: Value::Null,
        after,
    };
    append(&mut tx, ctx, event).await?;
    tx.commit().await?;
    Ok(id)
}

/// Who edits: postmortem writers may change anything; the owner may too (it is their item).
#[derive(Debug, Clone, Copy)]
pub struct Editor {
    pub user_id: i64,
    pub writes_postmortems: bool,
}

/// Saves an edit made on top of `version`.
#[tracing::instrument(skip_all, fields(id, version))]
pub async fn update(
    db: &Db,
    ctx: &Ctx,
    editor: Editor,
    (id, version): (i64, i64),
    input: &ItemInput,
    defaults: &DueDefaults,
    now: DateTime<Utc>,
) -> Result<(), ItemError> {
    let mut tx = db.begin().await?;
    let before = repo::get(&mut Conn::Tx(&mut tx), id).await?;
    if !editor.writes_postmortems && editor.user_id != before.owner.id {
        return Err(ItemError::Forbidden);
    }
    let input = with_component(&mut tx, input).await?;
    let item = NewItem::parse(&input, now.date_naive(), defaults, Some(before.due_on))?;
    let rows = match before.plan_id {
        Some(plan) => plan_row_count(&mut tx, plan).await?,
        None => plan_rows_of_postmortem(&mut tx, before.postmortem_id).await?,
    };
    check_refs(&mut tx, &item, rows).await?;
    if !repo::update(&mut tx, &before, version, &item, now).await? {
        return Err(ItemError::Stale);
    }
    let after = repo::get(&mut Conn::Tx(&mut tx), id).await?;
    let (b, a) = (snapshot(&before), snapshot(&after));
    if b == a {
        return Ok(()); // nothing changed: nothing recorded (the version bump is rolled back)
    }
    let event = NewAuditEvent {
        action: "action_item.updated",
        entity_type: "action_item",
        entity_id: id.to_string(),
        before: b,
        after: a,
    };
    append(&mut tx, ctx, event).await?;
    tx.commit().await?;
    Ok(())
}

async fn plan_row_count(tx: &mut Tx, plan_id: i64) -> Result<i64, DbError> {
    let mut conn = Conn::Tx(tx);
    let plan = crate::plans::repo::get(&mut conn, plan_id).await?;
    let body = crate::plans::repo::revision(&mut conn, plan_id, plan.current_revision)
        .await?
        .body()?;
    Ok(body.row_count() as i64)
}

async fn plan_rows_of_postmortem(tx: &mut Tx, postmortem_id: i64) -> Result<i64, DbError> {
    let change = crate::postmortems::repo::get(&mut Conn::Tx(tx), postmortem_id)
        .await?
        .change_id;
    let (plans, _) = crate::postmortems::repo::rollbacks_of(&mut Conn::Tx(tx), change).await?;
    match plans.last() {
        Some((plan, _)) => plan_row_count(tx, *plan).await,
        None => Ok(0),
    }
}

/// A page of items; an unknown owner in the filter is a validation error.
pub async fn list(db: &Db, mut f: ItemFilter, today: NaiveDate) -> Result<ItemsPage, ItemError> {
    let mut conn = Conn::Db(db);
    if let Some(name) = &f.owner {
        let id = repo::user_id(&mut conn, name).await?.ok_or_else(|| {
            ItemError::Invalid(vec![FieldError::new(
                "owner",
                format!("`{name}` is not a user of Rollgate"),
            )])
        })?;
        f.owner_id = Some(id);
    }
    let mut items = repo::list(&mut conn, &f, PAGE_SIZE + 1).await?;
    let next = (items.len() as i64 > PAGE_SIZE).then(|| {
        items.truncate(PAGE_SIZE as usize);
        let last = &items[items.len() - 1];
        Cursor {
            due_on: last.due_on,
            id: last.id,
        }
        .encode()
    });
    Ok(ItemsPage {
        items,
        next,
        today: Some(today),
    })
}

/// The weekly chart of the last twelve weeks.
pub async fn chart(db: &Db, today: NaiveDate) -> Result<Vec<Week>, ItemError> {
    Ok(repo::chart(&mut Conn::Db(db), today, 12).await?)
}
