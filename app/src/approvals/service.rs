//! Deciding on a submitted revision. The decision that completes the quorum commits the
//! sign-off and the execution job in the same transaction, with their audit events; the plan row
//! is locked first, so concurrent final approvals are taken one at a time and exactly one of
//! them signs off.

use std::collections::HashSet;

use chrono::{DateTime, Duration, Utc};
use serde_json::json;

use super::{
    policy::{choose, Policy, Scope},
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
    groups,
    plans::{model::PlanStatus, repo as plans_repo, rules, service::PlanError},
};

/// The policy governing a plan over these components (the seeded default when none matches).
pub async fn policy_for(conn: &mut Conn<'_>, component_ids: &[i64]) -> Result<Policy, PlanError> {
    let policies = repo::policies(conn).await?;
    let tags = plans_repo::tags_of(conn, component_ids).await?;
    let pipelines: Vec<String> = plans_repo::candidates(conn, component_ids)
        .await?
        .into_iter()
        .filter(|c| c.kind == "job")
        .map(|c| c.name)
        .collect();
    choose(&policies, &tags, &pipelines)
        .cloned()
        .ok_or_else(|| PlanError::Refused("No approval policy applies to this plan: an admin must create a default policy first.".into()))
}

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
    if let Some((plan_id, approver)) =
        repo::find_decision_by_key(&mut Conn::Tx(&mut tx), key).await?
    {
        if plan_id == d.plan_id && approver == who.id {
            return Ok(replayed(plan.status()));
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
    let revision_author = plans_repo::revision(&mut Conn::Tx(&mut tx), d.plan_id, d.revision)
        .await?
        .author_id;
    let mine: HashSet<i64> = repo::user_groups(&mut Conn::Tx(&mut tx), who.id)
        .await?
        .into_iter()
        .collect();
    let author = if revision_author == who.id {
        who.id
    } else {
        plan.author_id
    };
    quorum::may_decide(
        who.id,
        &mine,
        author,
        change.author.id,
        &request.requirements,
    )
    .map_err(|r| PlanError::Refused(r.message().into()))?;
    let decisions = repo::decisions(&mut Conn::Tx(&mut tx), d.plan_id).await?;
    let expiry = Duration::hours(request.expiry_hours);
    let renewal = renewal_number(&mut tx, &decisions, d.revision, who.id, expiry, now).await?;
    let approvals: Vec<Approval> = decisions
        .iter()
        .filter(|x| x.decision == "approve")
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

fn replayed(status: PlanStatus) -> Outcome {
    match status {
        PlanStatus::Rejected => Outcome::Rejected,
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

/// Creates the default policy (one approval each from the default groups, 24 h expiry, no
/// windows, engineering for break-glass) in an installation that has none.
pub async fn ensure_default_policy(db: &Db) -> Result<(), PlanError> {
    let mut conn = Conn::Db(db);
    if !repo::policies(&mut conn).await?.is_empty() {
        return Ok(());
    }
    let groups = groups::repo::list_groups(&mut conn).await?;
    let requirements: Vec<quorum::Requirement> = groups::model::DEFAULT_GROUPS
        .iter()
        .filter_map(|(name, _)| groups.iter().find(|g| g.name == *name))
        .map(|g| quorum::Requirement {
            group_id: g.id,
            group: g.name.clone(),
            count: 1,
            break_glass: false,
        })
        .collect();
    if requirements.is_empty() {
        return Ok(());
    }
    let engineering = groups
        .iter()
        .find(|g| g.name == "Engineering")
        .map(|g| (g.id, g.name.clone()));
    let policy = Policy {
        id: 0,
        name: "Default".into(),
        scope: Scope::Default,
        requirements,
        expiry_hours: 24,
        windows: Vec::new(),
        break_glass: engineering,
        version: 1,
    };
    let mut tx = db.begin().await?;
    match repo::save_policy(&mut tx, &policy, Utc::now()).await {
        Err(DbError::Conflict { .. }) => return Ok(()), // another instance seeded it
        other => {
            other?;
        }
    }
    append(&mut tx, &Ctx::system(), NewAuditEvent {
        action: "policy.created",
        entity_type: "policy",
        entity_id: "Default".into(),
        before: serde_json::Value::Null,
        after: json!({"name": "Default", "requirements": policy.requirements.iter().map(|r| format!("{} × {}", r.count, r.group)).collect::<Vec<_>>(), "expiry_hours": 24}),
    })
    .await?;
    tx.commit().await?;
    Ok(())
}

/// A policy as the admin form sends it.
#[derive(Debug, Clone, Default)]
pub struct PolicyInput {
    pub id: i64,
    pub version: i64,
    pub name: String,
    pub scope: String,
    pub scope_value: String,
    pub requirements: String,
    pub expiry_hours: String,
    pub windows: String,
    pub break_glass_group: String,
}

/// Checks and saves a policy (new when `id` is 0) with its audit event.
pub async fn save_policy(db: &Db, ctx: &Ctx, input: PolicyInput) -> Result<i64, PlanError> {
    let mut conn = Conn::Db(db);
    let groups = groups::repo::list_groups(&mut conn).await?;
    let by_name: std::collections::HashMap<String, (i64, String)> = groups
        .iter()
        .map(|g| (g.name.to_lowercase(), (g.id, g.name.clone())))
        .collect();
    let mut errors = Vec::new();
    let name = crate::validate::text("name", &input.name, 80, true, false)
        .map_err(|e| errors.push(e))
        .unwrap_or_default();
    let value = input.scope_value.trim().to_string();
    let scope = match input.scope.as_str() {
        "default" => Scope::Default,
        "tag" | "pipeline" if value.is_empty() => {
            errors.push(FieldError::new(
                "scope_value",
                "Name the tag or pipeline this policy governs.",
            ));
            Scope::Default
        }
        "tag" => Scope::Tag(value),
        "pipeline" => Scope::Pipeline(value),
        _ => {
            errors.push(FieldError::new(
                "scope",
                "Choose what the policy applies to.",
            ));
            Scope::Default
        }
    };
    let requirements = super::policy::parse_requirements(&input.requirements, &by_name)
        .map_err(|e| errors.push(e))
        .unwrap_or_default();
    let expiry_hours = input
        .expiry_hours
        .trim()
        .parse::<i64>()
        .ok()
        .filter(|h| (1..=8760).contains(h))
        .ok_or_else(|| {
            errors.push(FieldError::new(
                "expiry_hours",
                "Give the hours an approval counts, from 1 to 8760.",
            ))
        })
        .unwrap_or(24);
    let windows = super::policy::parse_windows(&input.windows)
        .map_err(|e| errors.push(e))
        .unwrap_or_default();
    let break_glass = match input.break_glass_group.trim() {
        "" => None,
        g => match by_name.get(&g.to_lowercase()) {
            Some(x) => Some(x.clone()),
            None => {
                errors.push(FieldError::new(
                    "break_glass_group",
                    format!("There is no group named `{g}`."),
                ));
                None
            }
        },
    };
    if !errors.is_empty() {
        return Err(PlanError::Invalid(errors));
    }
    let policy = Policy {
        id: input.id,
        name,
        scope,
        requirements,
        expiry_hours,
        windows,
        break_glass,
        version: input.version,
    };
    let before = repo::policies(&mut conn)
        .await?
        .into_iter()
        .find(|p| p.id == input.id);
    let mut tx = db.begin().await?;
    let id = match repo::save_policy(&mut tx, &policy, Utc::now()).await {
        Ok(Some(id)) => id,
        Ok(None) => {
            return Err(PlanError::Refused(
                "Someone saved this policy after you opened it: reload and edit again.".into(),
            ))
        }
        Err(DbError::Conflict { constraint })
            if constraint.starts_with("approval_policies_name") =>
        {
            return Err(PlanError::Invalid(vec![FieldError::new(
                "name",
                "Another policy has this name.",
            )]))
        }
        Err(DbError::Conflict { .. }) => {
            return Err(PlanError::Invalid(vec![FieldError::new(
                "scope_value",
                "Another policy already governs exactly this scope.",
            )]))
        }
        Err(e) => return Err(e.into()),
    };
    let snapshot = |p: &Policy| {
        json!({"name": p.name, "scope": p.scope.describe(), "expiry_hours": p.expiry_hours,
               "requirements": p.requirements.iter().map(|r| format!("{} × {}", r.count, r.group)).collect::<Vec<_>>(),
               "windows": super::policy::format_windows(&p.windows), "break_glass_group": p.break_glass.as_ref().map(|b| b.1.clone())})
    };
    append(
        &mut tx,
        ctx,
        NewAuditEvent {
            action: if before.is_some() {
                "policy.updated"
            } else {
                "policy.created"
            },
            entity_type: "policy",
            entity_id: id.to_string(),
            before: before
                .as_ref()
                .map(snapshot)
                .unwrap_or(serde_json::Value::Null),
            after: snapshot(&policy),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(id)
}
