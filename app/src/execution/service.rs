//! What operators do to a job: retry or skip a failed step, mark a manual step done, abort. Each
//! checks the job's state inside the transaction that changes it, writes its audit event there,
//! and wakes the worker.

use chrono::{DateTime, Utc};
use serde_json::json;

use super::{
    model::{JobStatus, StepState},
    repo::{self, Evidence, StepRow, StepUpdate},
    steps::StepKind,
    undo::undos,
    wake,
};
use crate::{
    audit::repo::{append, Ctx, NewAuditEvent},
    changes::{self, model::ChangeStatus},
    db::{Conn, Db, Tx},
    error::FieldError,
    plans::{model::PlanStatus, repo as plans_repo, service::PlanError},
};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operation {
    Retry,
    Skip,
    CompleteManual,
    Abort,
}

impl Operation {
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "retry" => Some(Self::Retry),
            "skip" => Some(Self::Skip),
            "complete" => Some(Self::CompleteManual),
            "abort" => Some(Self::Abort),
            _ => None,
        }
    }
}

pub async fn operate(
    db: &Db,
    ctx: &Ctx,
    job_id: i64,
    step_id: Option<i64>,
    op: Operation,
    note: &str,
    now: DateTime<Utc>,
) -> Result<(), PlanError> {
    let note = note.trim();
    if matches!(op, Operation::Skip | Operation::Abort) && note.is_empty() {
        let what = if op == Operation::Skip {
            "skip this step"
        } else {
            "abort the rollback"
        };
        return Err(PlanError::Invalid(vec![FieldError::new(
            "note",
            format!("Say why you {what}: it goes into the audit log."),
        )]));
    }
    if note.chars().count() > 2000 {
        return Err(PlanError::Invalid(vec![FieldError::new(
            "note",
            "must be at most 2000 characters",
        )]));
    }
    let mut tx = db.begin().await?;
    // A refused action releases the row lock at once, so the worker's next claim sees the job.
    match operate_locked(&mut tx, ctx, job_id, step_id, op, note, now).await {
        Ok(()) => {
            tx.commit().await?;
            wake();
            Ok(())
        }
        Err(e) => {
            tx.rollback().await?;
            Err(e)
        }
    }
}

async fn operate_locked(
    tx: &mut Tx,
    ctx: &Ctx,
    job_id: i64,
    step_id: Option<i64>,
    op: Operation,
    note: &str,
    now: DateTime<Utc>,
) -> Result<(), PlanError> {
    let job = repo::lock_job(tx, job_id).await?;
    if job.status().is_final() {
        return Err(PlanError::Refused(format!(
            "This rollback is {}: nothing more can be done.",
            job.status().label().to_lowercase()
        )));
    }
    if job.status() == JobStatus::Aborting {
        return Err(PlanError::Refused(
            "This rollback was aborted and is undoing what it did: nothing more can be done."
                .into(),
        ));
    }
    if op == Operation::Abort {
        return abort(tx, ctx, &job, note, now).await;
    }
    let steps = repo::steps(&mut Conn::Tx(tx), job_id).await?;
    let step = steps
        .iter()
        .find(|s| Some(s.id) == step_id)
        .ok_or_else(|| PlanError::Refused("That step is not part of this rollback.".into()))?;
    let action = match op {
        Operation::Retry => {
            expect(
                &job.status(),
                step,
                JobStatus::Halted,
                StepState::Failed,
                "retried",
            )?;
            repo::retry_step(tx, step.id, now).await?;
            "execution.step_retried"
        }
        Operation::Skip => {
            expect(
                &job.status(),
                step,
                JobStatus::Halted,
                StepState::Failed,
                "skipped",
            )?;
            let update = StepUpdate {
                state: StepState::Skipped,
                message: note,
                remote_ref: None,
                values_json: None,
            };
            repo::set_step(tx, step.id, &update, now).await?;
            "execution.step_skipped"
        }
        Operation::CompleteManual => {
            let waiting = job.status() == JobStatus::Running && job.lease_owner.is_none();
            if !waiting || step.state() != StepState::Running || step.kind != "action" {
                return Err(PlanError::Refused(
                    "This step is not waiting for a person.".into(),
                ));
            }
            let message = if note.is_empty() {
                "Marked done."
            } else {
                note
            };
            let update = StepUpdate {
                state: StepState::Succeeded,
                message,
                remote_ref: None,
                values_json: None,
            };
            repo::set_step(tx, step.id, &update, now).await?;
            "execution.step_completed"
        }
        Operation::Abort => unreachable!("handled above"),
    };
    let evidence = Evidence {
        kind: "operator".into(),
        at: now,
        note: operator_note(ctx, action, note),
        ..Default::default()
    };
    repo::add_evidence(tx, job_id, step.id, &[evidence]).await?;
    // Claimable at once: the worker picks it up where it stopped.
    repo::set_job(tx, job_id, JobStatus::Running, Some(now), "", now).await?;
    if job.status() == JobStatus::Halted {
        plans_repo::set_state(tx, job.plan_id, PlanStatus::Executing, job.revision, now).await?;
    }
    append(
        tx,
        ctx,
        NewAuditEvent {
            action,
            entity_type: "execution",
            entity_id: job_id.to_string(),
            before: json!({"status": job.status, "step": step.position, "state": step.state}),
            after: json!({"status": "running", "step": step.position, "note": note}),
        },
    )
    .await?;
    super::notify_others(tx).await?;
    Ok(())
}

fn expect(
    job: &JobStatus,
    step: &StepRow,
    job_is: JobStatus,
    step_is: StepState,
    verb: &str,
) -> Result<(), PlanError> {
    if *job != job_is || step.state() != step_is {
        // Read under the row lock: another operator's action just committed is seen here.
        let now = match (job, step.state()) {
            (JobStatus::Running, _) | (_, StepState::Pending | StepState::Skipped) => format!(
                " Someone else just did this: the rollback is {} now. Reload to see it.",
                job.label().to_lowercase()
            ),
            _ => String::new(),
        };
        return Err(PlanError::Refused(format!(
            "Only a failed step of a halted rollback can be {verb}.{now}"
        )));
    }
    Ok(())
}

/// Stops the job for good. What it did that an abort should undo (DAGs it paused, runs still
/// going) becomes undo steps the worker carries out while the job is `aborting`.
async fn abort(
    tx: &mut Tx,
    ctx: &Ctx,
    job: &repo::JobRow,
    note: &str,
    now: DateTime<Utc>,
) -> Result<(), PlanError> {
    let steps = repo::steps(&mut Conn::Tx(tx), job.id).await?;
    let body = plans_repo::revision(&mut Conn::Tx(tx), job.plan_id, job.revision)
        .await?
        .body()?;
    let undo = undos(&steps, &body);
    repo::stop_running(tx, job.id, "Stopped: the rollback was aborted.", now).await?;
    let status = match undo.is_empty() {
        true => JobStatus::Aborted,
        false => {
            repo::insert_steps(tx, job.id, &undo, now).await?;
            JobStatus::Aborting
        }
    };
    let reason = format!("Aborted: {note}");
    repo::set_job(tx, job.id, status, None, &reason, now).await?;
    plans_repo::set_state(tx, job.plan_id, PlanStatus::Aborted, job.revision, now).await?;
    changes::service::move_status(tx, ctx, job.change_id, ChangeStatus::RollbackFailed, now)
        .await?;
    let undoes: Vec<i32> = undo
        .iter()
        .filter_map(|s| match s.kind {
            StepKind::Undo(p) => Some(p),
            _ => None,
        })
        .collect();
    append(
        tx,
        ctx,
        NewAuditEvent {
            action: "execution.aborted",
            entity_type: "execution",
            entity_id: job.id.to_string(),
            before: json!({"status": job.status}),
            after: json!({"status": status.as_str(), "reason": note, "undo_steps": undoes}),
        },
    )
    .await?;
    if !undo.is_empty() {
        super::notify_others(tx).await?;
    }
    Ok(())
}

fn operator_note(ctx: &Ctx, action: &str, note: &str) -> String {
    let who = ctx
        .actor
        .as_ref()
        .map(|a| a.username.as_str())
        .unwrap_or("system");
    let what = match action {
        "execution.step_retried" => "retried the step",
        "execution.step_skipped" => "skipped the step",
        _ => "marked the step done",
    };
    match note.is_empty() {
        true => format!("{who} {what}."),
        false => format!("{who} {what}: {note}"),
    }
}
