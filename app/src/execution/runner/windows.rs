//! Windows at every start: a claimed job whose maintenance windows are closed goes back to wait
//! for the next one (or halts when none opens again), saying which on its page.

use chrono::Utc;
use serde_json::json;

use super::{
    super::{model::JobStatus, repo},
    audit,
};
use crate::{
    approvals::{repo as approvals_repo, windows},
    db::{Conn, Tx},
    plans::{model::PlanStatus, repo as plans_repo, service::PlanError},
};

/// When the job's windows are closed now (and it was not signed off break-glass), puts it back
/// to wait for the next window, or halts it when no window opens again; says which.
pub(super) async fn window_closed(
    tx: &mut Tx,
    id: i64,
    now: chrono::DateTime<Utc>,
) -> Result<Option<String>, PlanError> {
    let job = repo::job(&mut Conn::Tx(tx), id).await?;
    let Some(request) =
        approvals_repo::request(&mut Conn::Tx(tx), job.plan_id, job.revision).await?
    else {
        return Ok(None);
    };
    if request.break_glass_reason.is_some() || windows::is_open(&request.windows, now) {
        return Ok(None);
    }
    let (reason, after) = match windows::next_start(&request.windows, now) {
        Some(at) => {
            let reason = format!(
                "Waits for the window opening {} UTC.",
                at.format("%a %Y-%m-%d %H:%M")
            );
            repo::defer(tx, id, at, &reason, now).await?;
            plans_repo::set_state(tx, job.plan_id, PlanStatus::Scheduled, job.revision, now)
                .await?;
            (
                reason,
                json!({"status": "scheduled", "run_after": at.to_rfc3339(), "reason": "window closed"}),
            )
        }
        None => {
            let reason = "No maintenance window of its policy opens again: an admin adds one, then an operator aborts and a new plan is approved, or the plan is approved break-glass.".to_string();
            repo::set_job(tx, id, JobStatus::Halted, None, &reason, now).await?;
            plans_repo::set_state(tx, job.plan_id, PlanStatus::Halted, job.revision, now).await?;
            (
                reason.clone(),
                json!({"status": "halted", "reason": reason}),
            )
        }
    };
    audit(
        tx,
        id,
        "execution.deferred",
        json!({"status": job.status}),
        after,
    )
    .await?;
    Ok(Some(reason))
}
