//! Reads a plan page and the approver's inbox (a fixed number of queries each, no N+1).

use std::collections::HashSet;

use chrono::{Duration, Utc};

use super::{
    model::PlanStatus,
    page::{
        Approval, DecisionView, GroupStanding, InboxItem, PlanPage, RevisionMeta, Rights, SignOff,
    },
    repo,
    resolve::Facts,
    service::PlanError,
};
use crate::{
    approvals::{
        policy::format_windows,
        quorum::{self, Requirement},
        repo as approvals_repo, windows,
    },
    auth::{CurrentUser, Permission},
    changes,
    db::{Conn, Db},
};

fn meta(r: &repo::RevisionRow) -> RevisionMeta {
    RevisionMeta {
        number: r.number,
        content_hash: r.content_hash.clone(),
        author: r.author.clone(),
        created_at: r.created_at,
    }
}

pub async fn page(db: &Db, viewer: &CurrentUser, id: i64) -> Result<PlanPage, PlanError> {
    let mut conn = Conn::Db(db);
    let plan = repo::get(&mut conn, id).await?;
    let change = changes::repo::get(&mut conn, plan.change_id).await?;
    let revisions = repo::revisions(&mut conn, id).await?;
    let current = revisions
        .iter()
        .find(|r| r.number == plan.current_revision)
        .ok_or(PlanError::NotFound)?;
    let body = current.body()?;
    let ids: Vec<i64> = body.rows().map(|(_, _, r)| r.component_id).collect();
    let facts = Facts::load(&mut conn, &change, &ids).await?;
    let request = approvals_repo::request(&mut conn, id, plan.current_revision).await?;
    let rows = approvals_repo::decisions(&mut conn, id).await?;
    let sign_off = approvals_repo::sign_off(&mut conn, id).await?;
    let now = Utc::now();
    let expiry = Duration::hours(request.as_ref().map(|r| r.expiry_hours).unwrap_or(24));
    let approvers: Vec<i64> = rows.iter().map(|d| d.approver_id).collect();
    let standing: HashSet<(i64, i64)> = approvals_repo::standing_approvers(&mut conn, &approvers)
        .await?
        .into_iter()
        .collect();
    // Before sign-off, an approval by someone who has since left its group, lost the approver
    // role or been deactivated no longer counts (the sign-off freezes the standing).
    let lapsed = |d: &approvals_repo::DecisionRow| {
        sign_off.is_none()
            && d.voided_at.is_none()
            && d.decision == "approve"
            && d.group_id
                .is_some_and(|g| !standing.contains(&(d.approver_id, g)))
    };
    let decisions: Vec<DecisionView> = rows
        .iter()
        .map(|d| {
            let expired = d.voided_at.is_none()
                && d.decision == "approve"
                && d.decided_at + expiry <= now
                && sign_off.is_none();
            DecisionView {
                approver: d.approver.clone(),
                approve: d.decision == "approve",
                group: d.group_name.clone(),
                reason: d.reason.clone(),
                revision: d.revision,
                decided_at: d.decided_at,
                void_reason: d
                    .void_reason
                    .clone()
                    .or_else(|| {
                        lapsed(d).then(|| {
                            format!(
                                "No longer counts: {} is no longer an active approver in {}.",
                                d.approver,
                                d.group_name.clone().unwrap_or_default()
                            )
                        })
                    })
                    .or_else(|| {
                        expired.then(|| {
                            format!(
                                "Expired after {} hours without a sign-off.",
                                expiry.num_hours()
                            )
                        })
                    }),
            }
        })
        .collect();
    let approval = request.as_ref().map(|r| {
        let approvals: Vec<quorum::Approval> = rows
            .iter()
            .filter(|d| d.decision == "approve" && !lapsed(d))
            .filter_map(|d| {
                d.group_id.map(|g| quorum::Approval {
                    approver_id: d.approver_id,
                    group_id: g,
                    content_hash: d.content_hash.clone(),
                    decided_at: d.decided_at,
                    voided: d.voided_at.is_some(),
                })
            })
            .collect();
        // After sign-off the standing is frozen at the sign-off moment.
        let at = sign_off.as_ref().map(|s| s.signed_at).unwrap_or(now);
        let tally = quorum::tally(&r.requirements, &approvals, &r.content_hash, expiry, at);
        let name = |uid: i64| {
            rows.iter()
                .find(|d| d.approver_id == uid)
                .map(|d| d.approver.clone())
                .unwrap_or_default()
        };
        Approval {
            policy: r.policy_name.clone(),
            submitted_at: r.submitted_at,
            expiry_hours: r.expiry_hours,
            break_glass_reason: r.break_glass_reason.clone(),
            groups: tally
                .iter()
                .map(|t| GroupStanding {
                    group: t.requirement.group.clone(),
                    needed: t.requirement.count,
                    approvers: t.approvers.iter().map(|a| name(*a)).collect(),
                    break_glass: t.requirement.break_glass,
                })
                .collect(),
            windows: format_windows(&r.windows),
            next_start: if r.break_glass_reason.is_some() {
                Some(now)
            } else {
                windows::next_start(&r.windows, now)
            },
        }
    });
    let status = plan.status();
    let planner = viewer.can(Permission::PlanRollbacks);
    let mut rights = Rights {
        edit: planner && status.editable(),
        submit: planner && matches!(status, PlanStatus::Draft | PlanStatus::Rejected),
        withdraw: planner && status.editable(),
        ..Default::default()
    };
    if let (Some(r), true, PlanStatus::InReview) =
        (&request, viewer.can(Permission::DecidePlans), status)
    {
        let mine: HashSet<i64> = viewer.groups.iter().map(|g| g.id).collect();
        let hands = approvals_repo::hands(&mut Conn::Db(db), id).await?;
        match quorum::may_decide(viewer.id, &mine, &hands, &r.requirements) {
            Err(refusal) => rights.decide_refusal = Some(refusal.message().into()),
            Ok(()) => match rows.iter().find(|d| {
                d.revision == plan.current_revision
                    && d.approver_id == viewer.id
                    && d.voided_at.is_none()
            }) {
                Some(d) if d.decision == "approve" && d.decided_at + expiry <= now => {
                    rights.decide = true;
                    rights.renew = true;
                }
                Some(d) => {
                    let verb = if d.decision == "approve" {
                        "approved"
                    } else {
                        "rejected"
                    };
                    rights.decide_refusal = Some(format!("You {verb} this revision."));
                }
                None => rights.decide = true,
            },
        }
    }
    Ok(PlanPage {
        id,
        change_id: plan.change_id,
        change_title: change.title,
        status,
        author: revisions
            .last()
            .map(|r| r.author.clone())
            .unwrap_or_default(),
        revision: meta(current),
        revisions: revisions.iter().map(meta).collect(),
        approval,
        decisions,
        sign_off: sign_off.map(|s| SignOff {
            revision: s.revision,
            content_hash: s.content_hash,
            signed_at: s.signed_at,
            break_glass: s.break_glass,
            execution_id: s.execution_id,
            execution_status: s.execution_status,
            run_after: s.run_after,
        }),
        rights,
        request_key: uuid::Uuid::new_v4().to_string(),
        drift: facts.drift(&body),
        end_reason: plan.end_reason.clone(),
        versions: facts.version_options(),
        body,
    })
}

/// Plans waiting for the viewer: in review, not theirs, not yet decided by them, needing a
/// group they are in.
pub async fn inbox(db: &Db, viewer: &CurrentUser) -> Result<Vec<InboxItem>, PlanError> {
    let mine: HashSet<i64> = viewer.groups.iter().map(|g| g.id).collect();
    let rows = approvals_repo::inbox(&mut Conn::Db(db), viewer.id).await?;
    let now = Utc::now();
    Ok(rows
        .into_iter()
        .filter(|row| {
            row.approved_at
                .is_none_or(|t| t + Duration::hours(row.expiry_hours) <= now)
        })
        .filter_map(|row| {
            let reqs: Vec<Requirement> = serde_json::from_str(&row.requirements_json).ok()?;
            let groups: Vec<String> = reqs
                .into_iter()
                .filter(|r| mine.contains(&r.group_id))
                .map(|r| r.group)
                .collect();
            (!groups.is_empty()).then_some(InboxItem {
                plan_id: row.plan_id,
                change_id: row.change_id,
                change_title: row.title,
                revision: row.revision,
                submitted_at: row.submitted_at,
                groups,
                revised: row.revised,
                renew: row.approved_at.is_some(),
            })
        })
        .collect())
}
