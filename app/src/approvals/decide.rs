//! Deciding on a submitted revision. The decision that completes the quorum commits the
//! sign-off and the execution job in the same transaction, with their audit events; the plan row
//! is locked first, so concurrent final approvals are taken one at a time and exactly one of
//! them signs off.

use std::collections::HashSet;

use chrono::{DateTime, Duration, Utc};
use serde_json::json;

use super::{
    quorum::{self, Approval},
    repo::{self, NewDecision},
    windows,
};
use crate::{
    audit::{
        repo::{append, Ctx, NewAuditEvent},
        Actor,
    },
    changes,
    db::{Conn, Db, DbError},
    error::FieldError,
    plans::{model::PlanStatus, repo as plans_repo, rules, service::PlanError},
};

/// What a decision did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Recorded,
    Rejected,
    /// The quorum is complete: signed off, the execution job created to start at `run_after`.
    SignedOff {
        execution_id: i64,
        run_after: Option<DateTime<Utc>>,
    },
}

pub struct Decision {
    pub plan_id: i64,
    pub revision: i32,
    pub content_hash: String,
    pub approve: bool,
    pub reason: String,
    /// The form's idempotency key: a retry with the same key answers the first result.
    pub request_key: String,
}

#[tracing::instrument(skip_all, fields(plan_id = d.plan_id, revision = d.revision, approver = who.id))]
pub async fn decide(
    db: &Db,
    ctx: &Ctx,
    who: &Actor,
    d: Decision,
    now: DateTime<Utc>,
) -> Result<Outcome, PlanError> {
    // Stored times keep microseconds (PostgreSQL): the answer names the time as stored.
    let now = chrono::SubsecRound::trunc_subsecs(now, 6);
    let reason = d.reason.trim().to_string();
    if !d.approve && reason.is_empty() {
        return Err(PlanError::Invalid(vec![FieldError::new(
            "reason",
            "Say why you reject the plan: the requester needs it to revise.",
        )]));
    }
    if reason.chars().count() > 2000 {
        return Err(PlanError::Invalid(vec![FieldError::new(
            "reason",
            "must be at most 2000 characters",
        )]));
    }
    let key = d.request_key.trim();
    if key.is_empty() || key.len() > 100 {
        return Err(PlanError::Invalid(vec![FieldError::new(
            "request_key",
            "is missing: reload the page and decide again.",
        )]));
    }
    let mut tx = db.begin().await?;
    let plan = plans_repo::lock(&mut tx, d.plan_id).await?;
    if let Some((plan_id, approver, decided_at)) =
        repo::find_decision_by_key(&mut Conn::Tx(&mut tx), key).await?
    {
        if plan_id == d.plan_id && approver == who.id {
            let sign_off = repo::sign_off(&mut Conn::Tx(&mut tx), plan_id).await?;
            return Ok(replayed(plan.status(), sign_off, decided_at));
        }
        return Err(PlanError::Refused(
            "This form was already used: reload the page and decide again.".into(),
        ));
    }
    if plan.status() != PlanStatus::InReview {
        return Err(PlanError::Refused(format!(
            "This plan is {}: there is nothing to decide.",
            plan.status().label().to_lowercase()
        )));
    }
    if plan.current_revision != d.revision {
        return Err(PlanError::Refused(format!(
            "Revision {} is no longer current: revision {} replaced it. Review the new revision before deciding.",
            d.revision, plan.current_revision
        )));
    }
    let request = repo::request(&mut Conn::Tx(&mut tx), d.plan_id, d.revision)
        .await?
        .ok_or(PlanError::NotFound)?;
    if request.content_hash != d.content_hash {
        return Err(PlanError::Refused(
            "The plan you reviewed is not the current revision: reload and review it again.".into(),
        ));
    }
    let change = changes::repo::get(&mut Conn::Tx(&mut tx), plan.change_id).await?;
    let mine: HashSet<i64> = repo::user_groups(&mut Conn::Tx(&mut tx), who.id)
        .await?
        .into_iter()
        .collect();
    let hands = repo::hands(&mut Conn::Tx(&mut tx), d.plan_id).await?;
    quorum::may_decide(who.id, &mine, &hands, &request.requirements)
        .map_err(|r| PlanError::Refused(r.message().into()))?;
    let decisions = repo::decisions(&mut Conn::Tx(&mut tx), d.plan_id).await?;
    let expiry = Duration::hours(request.expiry_hours);
    let renewal = renewal_number(&mut tx, &decisions, d.revision, who.id, expiry, now).await?;
    // Only approvers still active and still in the group they counted for count now.
    let approvers: Vec<i64> = decisions.iter().map(|x| x.approver_id).collect();
    let standing: HashSet<(i64, i64)> =
        repo::standing_approvers(&mut Conn::Tx(&mut tx), &approvers)
            .await?
            .into_iter()
            .collect();
    let approvals: Vec<Approval> = decisions
        .iter()
        .filter(|x| x.decision == "approve")
        .filter(|x| {
            x.group_id
                .is_some_and(|g| standing.contains(&(x.approver_id, g)))
        })
        .filter_map(|x| {
            x.group_id.map(|g| Approval {
                approver_id: x.approver_id,
                group_id: g,
                content_hash: x.content_hash.clone(),
                decided_at: x.decided_at,
                voided: x.voided_at.is_some(),
            })
        })
        .collect();
    let before = quorum::tally(
        &request.requirements,
        &approvals,
        &request.content_hash,
        expiry,
        now,
    );
    let group_id = quorum::group_for(&request.requirements, &before, &mine);
    if d.approve {
        let body = plans_repo::revision(&mut Conn::Tx(&mut tx), d.plan_id, d.revision)
            .await?
            .body()?;
        rules::check_restorable(&body, now).map_err(PlanError::Refused)?;
    }
    let new = NewDecision {
        plan_id: d.plan_id,
        revision: d.revision,
        content_hash: &request.content_hash,
        approver_id: who.id,
        group_id,
        approve: d.approve,
        reason: &reason,
        plan_author_id: plan.author_id,
        change_author_id: change.author.id,
        request_key: key,
        at: now,
        renewal,
    };
    let decision_id = repo::insert_decision(&mut tx, &new)
        .await
        .map_err(|e| match e {
            e if e.is_conflict_on("approval_decisions_four_eyes") => {
                PlanError::Refused(quorum::Refusal::OwnRevision.message().into())
            }
            DbError::Conflict { .. } => {
                PlanError::Refused("You already decided on this revision.".into())
            }
            e => e.into(),
        })?;
    let group_name = request
        .requirements
        .iter()
        .find(|r| Some(r.group_id) == group_id)
        .map(|r| r.group.clone());
    let event = NewAuditEvent {
        action: if d.approve {
            "plan.approved"
        } else {
            "plan.rejected"
        },
        entity_type: "plan",
        entity_id: d.plan_id.to_string(),
        before: json!({"status": plan.status}),
        after: json!({"decision_id": decision_id, "revision": d.revision, "content_hash": request.content_hash,
                      "counted_for": group_name, "reason": reason}),
    };
    append(&mut tx, ctx, event).await?;
    let outcome = if !d.approve {
        plans_repo::set_state(&mut tx, d.plan_id, PlanStatus::Rejected, d.revision, now).await?;
        Outcome::Rejected
    } else {
        let mut all = approvals;
        if let Some(g) = group_id {
            all.push(Approval {
                approver_id: who.id,
                group_id: g,
                content_hash: request.content_hash.clone(),
                decided_at: now,
                voided: false,
            });
        }
        let after = quorum::tally(
            &request.requirements,
            &all,
            &request.content_hash,
            expiry,
            now,
        );
        if quorum::complete(&after) {
            sign_off(&mut tx, ctx, &request, plan.change_id, now).await?
        } else {
            Outcome::Recorded
        }
    };
    tx.commit().await?;
    if let Outcome::SignedOff { .. } = outcome {
        crate::execution::wake();
    }
    Ok(outcome)
}

/// The renewal number of a new decision by `approver` on `revision`: 0 for a first decision; an
/// approval past its expiry is voided and renewed with the next number; any other earlier
/// decision refuses.
async fn renewal_number(
    tx: &mut crate::db::Tx,
    decisions: &[repo::DecisionRow],
    revision: i32,
    approver: i64,
    expiry: Duration,
    now: DateTime<Utc>,
) -> Result<i32, PlanError> {
    let mine: Vec<&repo::DecisionRow> = decisions
        .iter()
        .filter(|x| x.revision == revision && x.approver_id == approver)
        .collect();
    let next = mine.iter().map(|x| x.renewal + 1).max().unwrap_or(0);
    let Some(live) = mine.iter().find(|x| x.voided_at.is_none()) else {
        return Ok(next);
    };
    if live.decision == "approve" && live.decided_at + expiry <= now {
        let why = format!(
            "expired at {} UTC; renewed by a new approval",
            (live.decided_at + expiry).format("%Y-%m-%d %H:%M")
        );
        repo::void_decision(tx, live.id, &why, now).await?;
        return Ok(next);
    }
    let verb = if live.decision == "approve" {
        "approved"
    } else {
        "rejected"
    };
    Err(PlanError::Refused(format!(
        "You already {verb} revision {revision} of this plan."
    )))
}

/// The answer to a re-sent form (its first answer was lost): what that decision did. The
/// decision that completed the quorum was committed with the sign-off, at the same moment.
fn replayed(
    status: PlanStatus,
    sign_off: Option<repo::SignOffRow>,
    decided_at: DateTime<Utc>,
) -> Outcome {
    match (status, sign_off) {
        (PlanStatus::Rejected, _) => Outcome::Rejected,
        (_, Some(s)) if s.signed_at == decided_at => Outcome::SignedOff {
            execution_id: s.execution_id,
            run_after: s.run_after,
        },
        _ => Outcome::Recorded,
    }
}

async fn sign_off(
    tx: &mut crate::db::Tx,
    ctx: &Ctx,
    request: &repo::Request,
    change_id: i64,
    now: DateTime<Utc>,
) -> Result<Outcome, PlanError> {
    let break_glass = request.break_glass_reason.is_some();
    let run_after = if break_glass {
        Some(now)
    } else {
        windows::next_start(&request.windows, now)
    };
    if run_after.is_none() {
        // Refused before anything is written: a job no window serves would wait forever.
        return Err(PlanError::Refused(
            "No maintenance window of this plan's policy opens again, so this sign-off could never start: nothing was recorded. An admin adds a window and the requester submits again, or it is submitted as an emergency (break-glass).".into(),
        ));
    }
    let (sign_off_id, execution_id) = repo::insert_sign_off(
        tx,
        request.plan_id,
        request.revision,
        &request.content_hash,
        break_glass,
        run_after,
        now,
    )
    .await
    .map_err(|e| match e {
        DbError::Conflict { .. } => {
            PlanError::Refused("This revision is already signed off.".into())
        }
        e => e.into(),
    })?;
    let status = if run_after.is_some_and(|t| t <= now) {
        PlanStatus::SignedOff
    } else {
        PlanStatus::Scheduled
    };
    plans_repo::set_state(tx, request.plan_id, status, request.revision, now).await?;
    let entity = request.plan_id.to_string();
    append(tx, ctx, NewAuditEvent {
        action: "plan.signed_off",
        entity_type: "plan",
        entity_id: entity.clone(),
        before: json!({"status": "in_review"}),
        after: json!({"status": status.as_str(), "sign_off_id": sign_off_id, "revision": request.revision,
                      "content_hash": request.content_hash, "break_glass": break_glass,
                      "break_glass_reason": request.break_glass_reason}),
    })
    .await?;
    append(tx, ctx, NewAuditEvent {
        action: "execution.scheduled",
        entity_type: "execution",
        entity_id: execution_id.to_string(),
        before: serde_json::Value::Null,
        after: json!({"plan_id": request.plan_id, "change_id": change_id, "sign_off_id": sign_off_id,
                      "run_after": run_after.map(|t| t.to_rfc3339())}),
    })
    .await?;
    crate::execution::notify_others(tx).await?;
    Ok(Outcome::SignedOff {
        execution_id,
        run_after,
    })
}
