//! Opening, writing, reviewing and publishing postmortems; every move is audited in the
//! transaction that makes it.

mod marks;
mod review;

pub use marks::{change_timeline, EntryChange};
pub use review::{publish, published, save, send_back, submit, Draft};

use chrono::{DateTime, Utc};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use super::{
    model::{check_sections, publish_problems, PostmortemStatus, Sections},
    prefill, repo,
    timeline::{self, Moment},
    view::{PlanRowRef, Postmortem, PostmortemView, PublishedVersion, Summary},
};
use crate::{
    action_items::repo as items,
    audit::{
        repo::{append, Ctx, NewAuditEvent},
        Actor,
    },
    db::{Conn, Db, DbError, Tx},
    error::{AppError, FieldError},
};

/// The timeline reads at most this many events of a change (its rollbacks included).
pub const TIMELINE_LIMIT: i64 = 5_000;
pub const PAGE_SIZE: i64 = 50;

#[derive(Debug, thiserror::Error)]
pub enum PostmortemError {
    #[error("invalid postmortem")]
    Invalid(Vec<FieldError>),
    #[error("not found")]
    NotFound,
    #[error("edited concurrently")]
    Stale,
    #[error("the change already has postmortem {0}")]
    Exists(i64),
    #[error("refused: {0}")]
    Refused(String),
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

impl From<DbError> for PostmortemError {
    fn from(e: DbError) -> Self {
        match e {
            DbError::NotFound => Self::NotFound,
            e => Self::Unexpected(e.into()),
        }
    }
}

impl From<AppError> for PostmortemError {
    fn from(e: AppError) -> Self {
        match e {
            AppError::Validation { fields } => Self::Invalid(fields),
            e => Self::Unexpected(anyhow::anyhow!("{e}")),
        }
    }
}

impl From<PostmortemError> for AppError {
    fn from(e: PostmortemError) -> Self {
        match e {
            PostmortemError::Invalid(fields) => AppError::Validation { fields },
            PostmortemError::NotFound => AppError::not_found("The postmortem"),
            PostmortemError::Stale => AppError::conflict(
                "Someone else changed this postmortem after you opened it. Reload the page to see their edit, then make yours again.",
            ),
            PostmortemError::Exists(id) => AppError::conflict(format!(
                "This change already has a postmortem: open /postmortems/{id}."
            )),
            PostmortemError::Refused(why) => AppError::conflict(why),
            PostmortemError::Unexpected(e) => crate::error::internal(e),
        }
    }
}

fn event(action: &'static str, id: i64, before: Value, after: Value) -> NewAuditEvent {
    NewAuditEvent {
        action,
        entity_type: "postmortem",
        entity_id: id.to_string(),
        before,
        after,
    }
}

/// Opens the change's postmortem, with what Rollgate knows already written into it.
#[tracing::instrument(skip_all, fields(change_id))]
pub async fn open(
    db: &Db,
    ctx: &Ctx,
    who: &Actor,
    change_id: i64,
    now: DateTime<Utc>,
) -> Result<i64, PostmortemError> {
    let mut tx = db.begin().await?;
    if let Some((id, _)) = repo::of_change(&mut Conn::Tx(&mut tx), change_id).await? {
        return Err(PostmortemError::Exists(id));
    }
    let change = crate::changes::repo::get(&mut Conn::Tx(&mut tx), change_id).await?;
    let sections = prefill::sections(&mut tx, &change).await?;
    let id = repo::insert(&mut tx, change_id, who.id, &sections, now)
        .await
        .map_err(|e| match e {
            e if e.is_conflict_on("postmortems_change_key") => PostmortemError::Refused(
                "This change got its postmortem a moment ago: reload its page.".into(),
            ),
            e => e.into(),
        })?;
    let after = json!({"change_id": change_id, "status": "draft", "prefilled": sections.keys().collect::<Vec<_>>()});
    append(
        &mut tx,
        ctx,
        event("postmortem.opened", id, Value::Null, after),
    )
    .await?;
    tx.commit().await?;
    Ok(id)
}

/// The page: the document, its timeline from the record, the figures and the action items.
pub async fn view(db: &Db, id: i64) -> Result<PostmortemView, PostmortemError> {
    let mut conn = Conn::Db(db);
    let postmortem = repo::get(&mut conn, id).await?;
    let change = crate::changes::repo::get(&mut conn, postmortem.change_id).await?;
    let (plans, executions) = repo::rollbacks_of(&mut conn, change.id).await?;
    let plan_ids: Vec<i64> = plans.iter().map(|(id, _)| *id).collect();
    let events =
        repo::source_events(&mut conn, change.id, &plan_ids, &executions, TIMELINE_LIMIT).await?;
    let entries = repo::entries(&mut conn, id).await?;
    let timeline = timeline::assemble(&events, &entries);
    let figures = timeline::figures(
        change.deployed_at,
        postmortem.detected_at,
        &events,
        &timeline,
    );
    let items = items::of_postmortem(&mut conn, id).await?;
    let plan_rows = match plans.last() {
        Some((plan, revision)) => plan_rows(&mut conn, *plan, *revision).await?,
        None => Vec::new(),
    };
    Ok(PostmortemView {
        postmortem,
        deployed_at: change.deployed_at,
        timeline,
        figures,
        items,
        plan_rows,
        executions,
    })
}

/// The rows of the change's latest plan (what an action item may point at).
pub async fn plan_rows_of_change(
    db: &Db,
    change_id: i64,
) -> Result<Vec<PlanRowRef>, PostmortemError> {
    let mut conn = Conn::Db(db);
    let (plans, _) = repo::rollbacks_of(&mut conn, change_id).await?;
    Ok(match plans.last() {
        Some((plan, revision)) => plan_rows(&mut conn, *plan, *revision).await?,
        None => Vec::new(),
    })
}

/// Where a new action item of the postmortem goes: the postmortem and its change's latest plan
/// with its number of rows.
pub async fn item_place(
    db: &Db,
    postmortem_id: i64,
) -> Result<crate::action_items::service::Place, PostmortemError> {
    let change_id = repo::get(&mut Conn::Db(db), postmortem_id).await?.change_id;
    let rows = plan_rows_of_change(db, change_id).await?;
    Ok(crate::action_items::service::Place {
        postmortem_id,
        plan: rows.first().map(|r| (r.plan_id, rows.len() as i64)),
    })
}

async fn plan_rows(
    conn: &mut Conn<'_>,
    plan: i64,
    revision: i32,
) -> Result<Vec<PlanRowRef>, DbError> {
    let body = crate::plans::repo::revision(conn, plan, revision)
        .await?
        .body()?;
    Ok(body
        .rows()
        .enumerate()
        .map(|(n, (stage, row_no, row))| PlanRowRef {
            plan_id: plan,
            number: n as i64 + 1,
            label: format!(
                "Stage {stage}, row {row_no}: {} ({})",
                row.component,
                row.action.label()
            ),
        })
        .collect())
}

/// Postmortems, most recently updated first.
pub async fn list(
    db: &Db,
    status: Option<PostmortemStatus>,
    after: Option<(DateTime<Utc>, i64)>,
) -> Result<(Vec<Summary>, Option<String>), PostmortemError> {
    let mut rows = repo::list(&mut Conn::Db(db), status, after, PAGE_SIZE + 1).await?;
    let next = (rows.len() as i64 > PAGE_SIZE).then(|| {
        rows.truncate(PAGE_SIZE as usize);
        let last = &rows[rows.len() - 1];
        format!(
            "{}_{}",
            last.updated_at.timestamp_nanos_opt().unwrap_or_default(),
            last.id
        )
    });
    Ok((rows, next))
}
