//! How a plan ends without running, and how a change ends without a rollback: a requester
//! withdraws a plan (with a reason), or closes the change as fixed forward (with a reason and a
//! link to the fix). Each move is audited in its transaction; a withdrawn or aborted plan stays
//! in the change's history and a new plan may be drafted after it.

use chrono::{DateTime, Utc};
use serde_json::json;

use super::{model::PlanStatus, repo, service::PlanError};
use crate::{
    approvals::repo as approvals_repo,
    audit::{
        repo::{append, Ctx, NewAuditEvent},
        Actor,
    },
    changes::{self, model::ChangeStatus},
    db::{Conn, Db, Tx},
    error::FieldError,
    validate,
};

fn reason_of(field: &str, reason: &str) -> Result<String, PlanError> {
    let reason = validate::text(field, reason, 2000, true, true).map_err(|e| {
        PlanError::Invalid(vec![FieldError::new(
            field,
            match reason.trim().is_empty() {
                true => "Say why: approvers and auditors read it.".to_string(),
                false => e.message,
            },
        )])
    })?;
    Ok(reason)
}

/// Withdraws a plan that is not signed off; its live decisions are voided with why.
#[tracing::instrument(skip_all, fields(plan_id))]
pub async fn withdraw(
    db: &Db,
    ctx: &Ctx,
    by: &Actor,
    plan_id: i64,
    reason: &str,
    now: DateTime<Utc>,
) -> Result<(), PlanError> {
    let reason = reason_of("reason", reason)?;
    let mut tx = db.begin().await?;
    withdraw_in(&mut tx, ctx, by, plan_id, &reason, now).await?;
    tx.commit().await?;
    Ok(())
}

async fn withdraw_in(
    tx: &mut Tx,
    ctx: &Ctx,
    by: &Actor,
    plan_id: i64,
    reason: &str,
    now: DateTime<Utc>,
) -> Result<(), PlanError> {
    let plan = repo::lock(tx, plan_id).await?;
    if !plan.status().editable() {
        return Err(PlanError::Refused(format!(
            "This plan is {}: only a plan that is not signed off can be withdrawn.",
            plan.status().label().to_lowercase()
        )));
    }
    let why = format!("The plan was withdrawn by {}: {reason}", by.username);
    let voided = approvals_repo::void_before(tx, plan_id, i32::MAX, &why, now).await?;
    repo::end(tx, plan_id, PlanStatus::Withdrawn, reason, now).await?;
    let event = NewAuditEvent {
        action: "plan.withdrawn",
        entity_type: "plan",
        entity_id: plan_id.to_string(),
        before: json!({"status": plan.status}),
        after: json!({"status": "withdrawn", "reason": reason, "decisions_voided": voided}),
    };
    append(tx, ctx, event).await?;
    // No open plan is left: the change is back to recorded (a new plan may be drafted).
    changes::service::move_status(tx, ctx, plan.change_id, ChangeStatus::Recorded, now).await?;
    Ok(())
}

/// Closes a change without a rollback. An open plan that is not signed off is withdrawn with
/// the same reason; a signed-off or running rollback must be aborted first.
#[tracing::instrument(skip_all, fields(change_id))]
pub async fn fix_forward(
    db: &Db,
    ctx: &Ctx,
    by: &Actor,
    change_id: i64,
    reason: &str,
    link: &str,
    now: DateTime<Utc>,
) -> Result<(), PlanError> {
    let reason = reason_of("reason", reason)?;
    let link = match link.trim() {
        "" => None,
        l => Some(validate::url("link", l).map_err(|e| PlanError::Invalid(vec![e]))?),
    };
    let mut tx = db.begin().await?;
    let change = changes::repo::get(&mut Conn::Tx(&mut tx), change_id).await?;
    if matches!(
        change.status,
        ChangeStatus::RollingBack | ChangeStatus::RolledBack | ChangeStatus::Closed
    ) {
        return Err(PlanError::Refused(format!(
            "This change is {}: it can no longer be closed as fixed forward.",
            change.status.label().to_lowercase()
        )));
    }
    if let Some(open) = repo::find_open_by_change(&mut Conn::Tx(&mut tx), change_id).await? {
        if !open.status().editable() {
            return Err(PlanError::Refused(format!(
                "Its rollback plan is {}: abort the rollback first.",
                open.status().label().to_lowercase()
            )));
        }
        let why = format!("Fixed forward instead: {reason}");
        withdraw_in(&mut tx, ctx, by, open.id, &why, now).await?;
    }
    changes::repo::set_closure(&mut tx, change_id, &reason, link.as_deref()).await?;
    changes::service::move_status(&mut tx, ctx, change_id, ChangeStatus::Closed, now).await?;
    let event = NewAuditEvent {
        action: "change.closed",
        entity_type: "change",
        entity_id: change_id.to_string(),
        before: json!({"status": change.status.as_str()}),
        after: json!({"status": "closed", "outcome": "fixed_forward", "reason": reason, "link": link}),
    };
    append(&mut tx, ctx, event).await?;
    tx.commit().await?;
    Ok(())
}
