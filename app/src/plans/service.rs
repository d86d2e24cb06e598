//! Drafting, revising and submitting plans. Every write happens in one transaction with its
//! audit event; a revision is stored with the SHA-256 of its canonical JSON.

use chrono::{DateTime, Utc};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use super::{
    model::{PlanBody, PlanStatus},
    propose::{Candidate, Proposal},
    repo,
    resolve::Facts,
    rules,
};
use crate::{
    approvals::{self, repo as approvals_repo},
    audit::{
        canonical::canonical_bytes,
        repo::{append, Ctx, NewAuditEvent},
    },
    catalog::{graph::Graph, model::ComponentKind},
    changes::{self, model::ChangeStatus},
    db::{Conn, Db, DbError},
    error::{AppError, FieldError},
};

#[derive(Debug, thiserror::Error)]
pub enum PlanError {
    #[error("invalid plan")]
    Invalid(Vec<FieldError>),
    #[error("refused")]
    Refused(String),
    #[error("not found")]
    NotFound,
    #[error("stale")]
    Stale(i32),
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

impl From<DbError> for PlanError {
    fn from(e: DbError) -> Self {
        match e {
            DbError::NotFound => Self::NotFound,
            e => Self::Unexpected(e.into()),
        }
    }
}

impl From<PlanError> for AppError {
    fn from(e: PlanError) -> Self {
        match e {
            PlanError::Invalid(fields) => AppError::Validation { fields },
            PlanError::Refused(message) => AppError::conflict(message),
            PlanError::NotFound => AppError::not_found("The plan"),
            PlanError::Stale(current) => AppError::conflict(format!(
                "Someone saved revision {current} of this plan after you opened it. Reload to see it, then make your edit again."
            )),
            PlanError::Unexpected(e) => crate::error::internal(e),
        }
    }
}

/// SHA-256 (hex) over the RFC 8785 canonical JSON of the body.
pub fn content_hash(body: &PlanBody) -> Result<String, PlanError> {
    let value = serde_json::to_value(body).map_err(anyhow::Error::from)?;
    let bytes = canonical_bytes(&value).map_err(|e| anyhow::anyhow!("canonical JSON: {e:?}"))?;
    Ok(hex::encode(Sha256::digest(bytes)))
}

/// The lineage below the plan's components (what ordering rules and proposals read).
async fn lineage(conn: &mut Conn<'_>, ids: &[i64]) -> Result<Graph, PlanError> {
    Ok(Graph::from_edges(repo::lineage_below(conn, ids).await?))
}

fn audit(action: &'static str, plan_id: i64, before: Value, after: Value) -> NewAuditEvent {
    NewAuditEvent {
        action,
        entity_type: "plan",
        entity_id: plan_id.to_string(),
        before,
        after,
    }
}

/// Drafts the proposed plan for a change (one plan per change); returns the plan id.
#[tracing::instrument(skip_all, fields(change_id))]
pub async fn draft(
    db: &Db,
    ctx: &Ctx,
    author: &crate::audit::Actor,
    change_id: i64,
) -> Result<i64, PlanError> {
    let mut tx = db.begin().await?;
    if let Some(existing) = repo::find_open_by_change(&mut Conn::Tx(&mut tx), change_id).await? {
        return Ok(existing.id);
    }
    let change = changes::repo::get(&mut Conn::Tx(&mut tx), change_id).await?;
    match change.status {
        ChangeStatus::RolledBack => {
            return Err(PlanError::Refused(
                "This change was already rolled back: there is nothing left to plan.".into(),
            ))
        }
        ChangeStatus::Closed => {
            return Err(PlanError::Refused(
                "This change is closed (fixed forward): there is nothing left to plan.".into(),
            ))
        }
        _ => {}
    }
    let roots: Vec<i64> = change.components.iter().map(|a| a.component.id).collect();
    let graph = lineage(&mut Conn::Tx(&mut tx), &roots).await?;
    let mut ids = roots.clone();
    for root in &roots {
        let mut below: Vec<(i64, u32)> = graph
            .reach(*root)
            .into_iter()
            .map(|(id, (_, d))| (id, d))
            .collect();
        below.sort_by_key(|(id, d)| (*d, *id));
        ids.extend(
            below
                .into_iter()
                .map(|(id, _)| id)
                .filter(|id| !roots.contains(id)),
        );
    }
    ids.dedup();
    let mut unique = Vec::new();
    for id in ids {
        if !unique.contains(&id) {
            unique.push(id);
        }
    }
    let rows = repo::candidates(&mut Conn::Tx(&mut tx), &unique).await?;
    let candidates: Vec<Candidate> = unique
        .iter()
        .filter_map(|id| rows.iter().find(|r| r.id == *id))
        .map(|r| Candidate {
            id: r.id,
            name: r.name.clone(),
            kind: ComponentKind::parse(&r.kind).unwrap_or(ComponentKind::Other),
            owner: r.owner.clone(),
            dag_id: r.dag_id.clone(),
            rollback_dag_id: r.rollback_dag_id.clone(),
            data_version: change
                .components
                .iter()
                .find(|a| a.component.id == r.id)
                .map(|a| a.data_version.clone()),
        })
        .collect();
    let mut body = Proposal {
        title: &change.title,
        deployed_at: change.deployed_at,
        requester: &author.username,
        candidates,
        lineage: &graph,
    }
    .body();
    // What fails to resolve here (a kind mismatch) is named when the requester first saves.
    let facts = Facts::load(&mut Conn::Tx(&mut tx), &change, &unique).await?;
    facts.default_targets(&mut body);
    let _ = facts.apply(&mut body);
    let now = Utc::now();
    // Two drafts at once: the database keeps one open plan per change; the loser opens it.
    let id = match repo::insert_plan(&mut tx, change_id, author.id, now).await {
        Err(DbError::Conflict { .. }) => {
            drop(tx);
            return repo::find_open_by_change(&mut Conn::Db(db), change_id)
                .await?
                .map(|p| p.id)
                .ok_or(PlanError::NotFound);
        }
        other => other?,
    };
    let hash = content_hash(&body)?;
    repo::insert_revision(&mut tx, id, 1, &hash, &body, author.id, now).await?;
    let event = audit(
        "plan.drafted",
        id,
        Value::Null,
        json!({"change_id": change_id, "revision": 1, "content_hash": hash, "status": "draft", "rows": body.row_count()}),
    );
    append(&mut tx, ctx, event).await?;
    changes::service::move_status(&mut tx, ctx, change_id, ChangeStatus::RollbackPlanned, now)
        .await?;
    tx.commit().await?;
    Ok(id)
}

/// Saves an edit made on revision `base` as a new revision. In review, the new revision is
/// submitted in place of the old one and every earlier decision is voided (kept, with why).
#[tracing::instrument(skip_all, fields(plan_id, base))]
pub async fn save(
    db: &Db,
    ctx: &Ctx,
    editor: &crate::audit::Actor,
    plan_id: i64,
    base: i32,
    body: PlanBody,
) -> Result<i32, PlanError> {
    let mut tx = db.begin().await?;
    let plan = repo::lock(&mut tx, plan_id).await?;
    if !plan.status().editable() {
        return Err(PlanError::Refused(format!(
            "This plan is {} and can no longer be edited.",
            plan.status().label().to_lowercase()
        )));
    }
    if plan.current_revision != base {
        return Err(PlanError::Stale(plan.current_revision));
    }
    let ids: Vec<i64> = body.rows().map(|(_, _, r)| r.component_id).collect();
    let change = changes::repo::get(&mut Conn::Tx(&mut tx), plan.change_id).await?;
    let facts = Facts::load(&mut Conn::Tx(&mut tx), &change, &ids).await?;
    let mut body = body;
    let mut errors = facts.apply(&mut body);
    let graph = lineage(&mut Conn::Tx(&mut tx), &ids).await?;
    if let Err(e) = rules::check(&body, &graph) {
        errors.extend(e);
    }
    if !errors.is_empty() {
        return Err(PlanError::Invalid(errors));
    }
    let current = repo::revision(&mut Conn::Tx(&mut tx), plan_id, base).await?;
    let hash = content_hash(&body)?;
    if hash == current.content_hash {
        return Ok(base); // nothing changed: no new revision
    }
    let now = Utc::now();
    let number = base + 1;
    repo::insert_revision(&mut tx, plan_id, number, &hash, &body, editor.id, now).await?;
    let mut status = plan.status();
    let mut voided = 0;
    if status == PlanStatus::InReview {
        let why = format!("Revision {number} changed the plan after this decision.");
        voided = approvals_repo::void_before(&mut tx, plan_id, number, &why, now).await?;
        let old = approvals_repo::request(&mut Conn::Tx(&mut tx), plan_id, base)
            .await?
            .ok_or(PlanError::NotFound)?;
        // The new revision may touch components under a stricter policy: evaluate it afresh.
        let policy = approvals::service::policy_for(&mut Conn::Tx(&mut tx), &ids).await?;
        let break_glass = old.break_glass_reason.is_some() && policy.break_glass.is_some();
        let request = approvals_repo::Request {
            plan_id,
            revision: number,
            content_hash: hash.clone(),
            policy_id: policy.id,
            policy_name: policy.name.clone(),
            requirements: policy.requirements_for(break_glass),
            expiry_hours: policy.expiry_hours,
            windows: policy.windows.clone(),
            break_glass_reason: old.break_glass_reason.filter(|_| break_glass),
            submitted_by: editor.id,
            submitted_at: now,
        };
        approvals_repo::insert_request(&mut tx, &request).await?;
    } else if status == PlanStatus::Rejected {
        status = PlanStatus::Draft;
    }
    repo::set_state(&mut tx, plan_id, status, number, now).await?;
    let event = audit(
        "plan.revised",
        plan_id,
        json!({"revision": base, "content_hash": current.content_hash, "status": plan.status}),
        json!({"revision": number, "content_hash": hash, "status": status.as_str(), "decisions_voided": voided}),
    );
    append(&mut tx, ctx, event).await?;
    tx.commit().await?;
    Ok(number)
}

/// Submits the current revision for approval under the policy that governs it. A break-glass
/// reason asks to start outside the maintenance windows (one more approval is then needed).
#[tracing::instrument(skip_all, fields(plan_id, revision))]
pub async fn submit(
    db: &Db,
    ctx: &Ctx,
    by: &crate::audit::Actor,
    plan_id: i64,
    revision: i32,
    break_glass_reason: Option<String>,
    now: DateTime<Utc>,
) -> Result<(), PlanError> {
    let mut tx = db.begin().await?;
    let plan = repo::lock(&mut tx, plan_id).await?;
    if !matches!(plan.status(), PlanStatus::Draft | PlanStatus::Rejected) {
        return Err(PlanError::Refused(format!(
            "This plan is {}: only a draft can be submitted.",
            plan.status().label().to_lowercase()
        )));
    }
    if plan.current_revision != revision {
        return Err(PlanError::Stale(plan.current_revision));
    }
    let rev = repo::revision(&mut Conn::Tx(&mut tx), plan_id, revision).await?;
    let body = rev.body()?;
    let ids: Vec<i64> = body.rows().map(|(_, _, r)| r.component_id).collect();
    recheck(&mut Conn::Tx(&mut tx), plan.change_id, &body).await?;
    rules::check_restorable(&body, now).map_err(PlanError::Refused)?;
    let policy = approvals::service::policy_for(&mut Conn::Tx(&mut tx), &ids).await?;
    if break_glass_reason.is_some() && policy.break_glass.is_none() {
        return Err(PlanError::Invalid(vec![FieldError::new(
            "break_glass_reason",
            format!("The policy “{}” names no break-glass group, so a start outside its windows cannot be approved.", policy.name),
        )]));
    }
    if break_glass_reason.is_none()
        && approvals::windows::next_start(&policy.windows, now).is_none()
    {
        return Err(PlanError::Refused(format!(
            "No maintenance window of the policy “{}” opens within a year ({}), so a sign-off could never start: an admin adds a window, or submit it as an emergency (break-glass).",
            policy.name,
            approvals::policy::format_windows(&policy.windows)
        )));
    }
    let request = approvals_repo::Request {
        plan_id,
        revision,
        content_hash: rev.content_hash.clone(),
        policy_id: policy.id,
        policy_name: policy.name.clone(),
        requirements: policy.requirements_for(break_glass_reason.is_some()),
        expiry_hours: policy.expiry_hours,
        windows: policy.windows.clone(),
        break_glass_reason: break_glass_reason.clone(),
        submitted_by: by.id,
        submitted_at: now,
    };
    approvals_repo::insert_request(&mut tx, &request)
        .await
        .map_err(|e| match e {
            DbError::Conflict { .. } => {
                PlanError::Refused("This revision was already submitted.".into())
            }
            e => e.into(),
        })?;
    repo::set_state(&mut tx, plan_id, PlanStatus::InReview, revision, now).await?;
    let requirements: Vec<String> = request
        .requirements
        .iter()
        .map(|r| format!("{} × {}", r.count, r.group))
        .collect();
    let event = audit(
        "plan.submitted",
        plan_id,
        json!({"status": plan.status}),
        json!({"status": "in_review", "revision": revision, "content_hash": rev.content_hash, "policy": policy.name,
               "requirements": requirements, "break_glass_reason": break_glass_reason}),
    );
    append(&mut tx, ctx, event).await?;
    tx.commit().await?;
    Ok(())
}

/// What submitting re-checks, since the catalog may have moved after the revision was saved:
/// the plan rules against today's lineage, the bindings against today's catalog, and that the
/// plan is complete enough to approve (verification, flagging, why not fix forward).
async fn recheck(conn: &mut Conn<'_>, change_id: i64, body: &PlanBody) -> Result<(), PlanError> {
    let ids: Vec<i64> = body.rows().map(|(_, _, r)| r.component_id).collect();
    let graph = lineage(conn, &ids).await?;
    let mut errors = rules::check(body, &graph).err().unwrap_or_default();
    errors.extend(rules::readiness(body));
    if !errors.is_empty() {
        return Err(PlanError::Invalid(errors));
    }
    let change = changes::repo::get(conn, change_id).await?;
    let drift = Facts::load(conn, &change, &ids).await?.drift(body);
    if let Some(d) = drift.first() {
        return Err(PlanError::Refused(format!(
            "The catalog changed since this revision was saved ({} `{}`: {}). Save the plan again to take the new binding, then submit.",
            d.at, d.component, d.what
        )));
    }
    Ok(())
}

/// Adds a row for the catalog component `name` as a new last stage (a new revision).
pub async fn add_row(
    db: &Db,
    ctx: &Ctx,
    editor: &crate::audit::Actor,
    plan_id: i64,
    base: i32,
    name: &str,
) -> Result<i32, PlanError> {
    let mut conn = Conn::Db(db);
    let name = name.trim();
    let found = crate::catalog::repo::refs_by_names(&mut conn, &[name.to_string()]).await?;
    let Some(component) = found.into_iter().next() else {
        return Err(PlanError::Invalid(vec![FieldError::new(
            "component",
            if name.is_empty() {
                "Name the catalog component to add.".to_string()
            } else {
                format!("`{name}` is not a component in the catalog.")
            },
        )]));
    };
    let owner = repo::candidates(&mut conn, &[component.id])
        .await?
        .into_iter()
        .next()
        .map(|c| c.owner)
        .unwrap_or_default();
    let mut body = repo::revision(&mut conn, plan_id, base).await?.body()?;
    body.stages.push(super::model::Stage {
        rows: vec![super::model::Row {
            component_id: component.id,
            component: component.name.clone(),
            scope: "all".into(),
            action: super::model::Action::Manual {
                instructions: format!("Restore or rebuild “{}”.", component.name),
            },
            checks: Vec::new(),
            flagging: String::new(),
            owner: if owner.is_empty() {
                editor.username.clone()
            } else {
                owner
            },
            restore: None,
            binding: None,
            deadline_minutes: None,
        }],
    });
    save(db, ctx, editor, plan_id, base, body).await
}

/// Two revisions of a plan and what changed from the older to the newer.
pub async fn compare(
    db: &Db,
    plan_id: i64,
    a: i32,
    b: i32,
) -> Result<super::api::Comparison, PlanError> {
    let mut conn = Conn::Db(db);
    let plan = repo::get(&mut conn, plan_id).await?;
    let change = changes::repo::get(&mut conn, plan.change_id).await?;
    let revisions = repo::revisions(&mut conn, plan_id).await?;
    let (lo, hi) = if a <= b { (a, b) } else { (b, a) };
    let find = |n: i32| {
        revisions
            .iter()
            .find(|r| r.number == n)
            .ok_or(PlanError::NotFound)
    };
    let (older, newer) = (find(lo)?, find(hi)?);
    let (older_body, newer_body) = (older.body()?, newer.body()?);
    let meta = |r: &repo::RevisionRow| super::page::RevisionMeta {
        number: r.number,
        content_hash: r.content_hash.clone(),
        author: r.author.clone(),
        created_at: r.created_at,
    };
    Ok(super::api::Comparison {
        change_title: change.title,
        older: meta(older),
        newer: meta(newer),
        diff: super::diff::diff(&older_body, &newer_body),
        older_body,
        newer_body,
        revisions: revisions.iter().map(meta).collect(),
    })
}
