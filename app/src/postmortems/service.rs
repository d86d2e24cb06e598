//! Opening, writing, reviewing and publishing postmortems; every move is audited in the
//! transaction that makes it.

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

/// The text a writer saves.
#[derive(Debug, Clone, Default)]
pub struct Draft {
    pub sections: Sections,
    pub detected_at: Option<DateTime<Utc>>,
    pub no_actions_reason: Option<String>,
}

fn changed_sections(before: &Postmortem, after: &Draft) -> (Value, Value) {
    let (mut b, mut a) = (serde_json::Map::new(), serde_json::Map::new());
    for s in super::model::SECTIONS {
        let (old, new) = (
            before.section(s.field),
            after.sections.get(s.field).map_or("", String::as_str),
        );
        if old != new {
            b.insert(s.field.into(), json!(old));
            a.insert(s.field.into(), json!(new));
        }
    }
    if before.detected_at != after.detected_at {
        b.insert(
            "detected_at".into(),
            json!(before.detected_at.map(|t| t.to_rfc3339())),
        );
        a.insert(
            "detected_at".into(),
            json!(after.detected_at.map(|t| t.to_rfc3339())),
        );
    }
    if before.no_actions_reason != after.no_actions_reason {
        b.insert("no_actions_reason".into(), json!(before.no_actions_reason));
        a.insert("no_actions_reason".into(), json!(after.no_actions_reason));
    }
    (Value::Object(b), Value::Object(a))
}

/// Saves the writer's text on top of `version`. Editing a published postmortem starts its next
/// version (a draft again; the published versions stay as they were).
#[tracing::instrument(skip_all, fields(id, version))]
pub async fn save(
    db: &Db,
    ctx: &Ctx,
    id: i64,
    version: i64,
    draft: Draft,
    now: DateTime<Utc>,
) -> Result<(), PostmortemError> {
    let sections = check_sections(&draft.sections)?;
    let draft = Draft { sections, ..draft };
    let mut tx = db.begin().await?;
    let before = repo::get(&mut Conn::Tx(&mut tx), id).await?;
    let (b, a) = changed_sections(&before, &draft);
    if a.as_object().is_some_and(|m| m.is_empty()) {
        return Ok(()); // nothing changed: nothing recorded
    }
    let status = match before.status {
        PostmortemStatus::Published => PostmortemStatus::Draft,
        s => s,
    };
    let save = repo::Save {
        sections: &draft.sections,
        detected_at: draft.detected_at,
        no_actions_reason: draft.no_actions_reason.as_deref(),
        status,
    };
    if !repo::save(&mut tx, id, version, &save, now).await? {
        return Err(PostmortemError::Stale);
    }
    let mut after = a;
    if status != before.status {
        after["status"] = json!(status.as_str());
    }
    append(&mut tx, ctx, event("postmortem.edited", id, b, after)).await?;
    tx.commit().await?;
    Ok(())
}

/// What publishing needs, checked against the stored copy.
async fn ready(tx: &mut Tx, p: &Postmortem) -> Result<(), PostmortemError> {
    let count = items::of_postmortem(&mut Conn::Tx(tx), p.id).await?.len();
    let problems = publish_problems(&p.sections, count, p.no_actions_reason.as_deref());
    if problems.is_empty() {
        Ok(())
    } else {
        Err(PostmortemError::Invalid(problems))
    }
}

/// Asks for a review: the document must be complete already.
pub async fn submit(
    db: &Db,
    ctx: &Ctx,
    id: i64,
    version: i64,
    now: DateTime<Utc>,
) -> Result<(), PostmortemError> {
    let mut tx = db.begin().await?;
    let p = repo::get(&mut Conn::Tx(&mut tx), id).await?;
    if p.status != PostmortemStatus::Draft {
        return Err(PostmortemError::Refused(format!(
            "This postmortem is {}, not a draft.",
            p.status.label().to_lowercase()
        )));
    }
    ready(&mut tx, &p).await?;
    if !repo::set_status(&mut tx, id, version, PostmortemStatus::InReview, now).await? {
        return Err(PostmortemError::Stale);
    }
    let after = json!({"status": "in_review", "version": version + 1});
    append(
        &mut tx,
        ctx,
        event(
            "postmortem.submitted",
            id,
            json!({"status": "draft"}),
            after,
        ),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

fn not_the_author(p: &Postmortem, who: &Actor) -> Result<(), PostmortemError> {
    if p.author.id == who.id {
        return Err(PostmortemError::Refused(
            "You wrote this postmortem: someone else must review it.".into(),
        ));
    }
    Ok(())
}

/// The reviewer sends it back to its writers with what to change.
pub async fn send_back(
    db: &Db,
    ctx: &Ctx,
    who: &Actor,
    id: i64,
    version: i64,
    note: &str,
    now: DateTime<Utc>,
) -> Result<(), PostmortemError> {
    let note = crate::validate::text("note", note, 2000, true, true)
        .map_err(|e| PostmortemError::Invalid(vec![e]))?;
    let mut tx = db.begin().await?;
    let p = repo::get(&mut Conn::Tx(&mut tx), id).await?;
    not_the_author(&p, who)?;
    if p.status != PostmortemStatus::InReview {
        return Err(PostmortemError::Refused(
            "Only a postmortem in review can be sent back.".into(),
        ));
    }
    if !repo::set_status(&mut tx, id, version, PostmortemStatus::Draft, now).await? {
        return Err(PostmortemError::Stale);
    }
    let after = json!({"status": "draft", "note": note});
    append(
        &mut tx,
        ctx,
        event(
            "postmortem.sent_back",
            id,
            json!({"status": "in_review"}),
            after,
        ),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Publishes the copy the reviewer read (`version`): stored as the next published version.
#[tracing::instrument(skip_all, fields(id, version))]
pub async fn publish(
    db: &Db,
    ctx: &Ctx,
    who: &Actor,
    id: i64,
    version: i64,
    now: DateTime<Utc>,
) -> Result<i64, PostmortemError> {
    let view = view(db, id).await?;
    let p = &view.postmortem;
    not_the_author(p, who)?;
    if p.status != PostmortemStatus::InReview {
        return Err(PostmortemError::Refused(
            "Only a postmortem in review can be published: its writers submit it first.".into(),
        ));
    }
    if p.version != version {
        return Err(PostmortemError::Stale);
    }
    let mut tx = db.begin().await?;
    ready(&mut tx, p).await?;
    let body = PublishedVersion {
        number: p.published_versions + 1,
        published_by: who.username.clone(),
        published_at: now,
        sections: p.sections.clone(),
        figures: view.figures.clone(),
        timeline: view.timeline.clone(),
        items: view.items.clone(),
        no_actions_reason: p.no_actions_reason.clone(),
    };
    let body = serde_json::to_string(&body).map_err(|e| PostmortemError::Unexpected(e.into()))?;
    let Some(number) = repo::publish(&mut tx, id, version, who.id, &body, now).await? else {
        return Err(PostmortemError::Stale);
    };
    let after = json!({"status": "published", "published_version": number, "reviewed_version": version,
                       "body_sha256": hex::encode(Sha256::digest(body.as_bytes()))});
    append(
        &mut tx,
        ctx,
        event(
            "postmortem.published",
            id,
            json!({"status": "in_review"}),
            after,
        ),
    )
    .await?;
    tx.commit().await?;
    Ok(number)
}

/// A published version as it was published.
pub async fn published(db: &Db, id: i64, number: i64) -> Result<PublishedVersion, PostmortemError> {
    let body = repo::version_body(&mut Conn::Db(db), id, number).await?;
    serde_json::from_str(&body).map_err(|e| PostmortemError::Unexpected(e.into()))
}

/// The author's own entry on the timeline, or a mark on one of its events.
#[derive(Debug, Clone)]
pub enum EntryChange {
    Add {
        at: DateTime<Utc>,
        text: String,
        moment: Option<Moment>,
    },
    Mark {
        seq: i64,
        starred: bool,
        moment: Option<Moment>,
        note: String,
    },
    Remove {
        entry_id: i64,
    },
}

/// Changes the timeline on top of `version` (which it bumps: a review covers the timeline too).
#[tracing::instrument(skip_all, fields(id, version))]
pub async fn change_timeline(
    db: &Db,
    ctx: &Ctx,
    who: &Actor,
    id: i64,
    version: i64,
    change: EntryChange,
    now: DateTime<Utc>,
) -> Result<(), PostmortemError> {
    let mut tx = db.begin().await?;
    let p = repo::get(&mut Conn::Tx(&mut tx), id).await?;
    let (action, after) = match &change {
        EntryChange::Add { at, text, moment } => {
            let text = crate::validate::text("text", text, 500, true, false)
                .map_err(|e| PostmortemError::Invalid(vec![e]))?;
            let entry = repo::NewEntry {
                audit_seq: None,
                at: Some(*at),
                text: &text,
                moment: *moment,
                starred: false,
            };
            let entry_id = repo::put_entry(&mut tx, id, who.id, &entry, now).await?;
            (
                "postmortem.entry_added",
                json!({"entry_id": entry_id, "at": at.to_rfc3339(), "text": text, "moment": moment.map(Moment::as_str)}),
            )
        }
        EntryChange::Mark {
            seq,
            starred,
            moment,
            note,
        } => {
            let note = crate::validate::text("note", note, 500, false, false)
                .map_err(|e| PostmortemError::Invalid(vec![e]))?;
            on_timeline(&mut tx, &p, *seq).await?;
            let entry = repo::NewEntry {
                audit_seq: Some(*seq),
                at: None,
                text: &note,
                moment: *moment,
                starred: *starred,
            };
            repo::put_entry(&mut tx, id, who.id, &entry, now).await?;
            (
                "postmortem.entry_marked",
                json!({"audit_seq": seq, "starred": starred, "moment": moment.map(Moment::as_str), "note": note}),
            )
        }
        EntryChange::Remove { entry_id } => {
            if !repo::delete_entry(&mut tx, id, *entry_id).await? {
                return Err(PostmortemError::NotFound);
            }
            ("postmortem.entry_removed", json!({"entry_id": entry_id}))
        }
    };
    if !repo::touch(&mut tx, id, version, now).await? {
        return Err(PostmortemError::Stale);
    }
    append(&mut tx, ctx, event(action, id, Value::Null, after)).await?;
    tx.commit().await?;
    Ok(())
}

/// A mark must name an event of this postmortem's timeline.
async fn on_timeline(tx: &mut Tx, p: &Postmortem, seq: i64) -> Result<(), PostmortemError> {
    let mut conn = Conn::Tx(tx);
    let (plans, executions) = repo::rollbacks_of(&mut conn, p.change_id).await?;
    let plan_ids: Vec<i64> = plans.iter().map(|(id, _)| *id).collect();
    let events = repo::source_events(
        &mut conn,
        p.change_id,
        &plan_ids,
        &executions,
        TIMELINE_LIMIT,
    )
    .await?;
    if events
        .iter()
        .any(|e| e.seq == seq && timeline::timeline_label(&e.action).is_some())
    {
        Ok(())
    } else {
        Err(PostmortemError::Invalid(vec![FieldError::new(
            "seq",
            "is not an event of this postmortem's timeline",
        )]))
    }
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
