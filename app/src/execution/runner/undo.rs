//! An aborted job's undo steps: each is saved running with its intent, sent through the
//! approved connector under the lease, and settled with its evidence. A failed undo is recorded
//! and the next one still runs (nothing halts an abort); the job then ends `aborted`, its reason
//! saying what could not be undone.

use chrono::Utc;
use serde_json::json;

use super::{
    super::{
        connector::{Call, Failure},
        http::Http,
        model::{JobStatus, StepState},
        repo::{self, Evidence, StepRow, StepUpdate},
        steps::{row_of, StepKind},
    },
    audit, Job, Runner,
};
use crate::{
    db::Conn,
    plans::{
        model::{Action, Row},
        service::PlanError,
    },
};

impl Runner {
    pub(super) async fn undo_all(&self, job: &mut Job) -> Result<(), PlanError> {
        let steps = repo::steps(&mut Conn::Db(&self.db), job.row.id).await?;
        let open = steps.iter().filter(|s| {
            matches!(s.kind(), StepKind::Undo(_))
                && matches!(s.state(), StepState::Pending | StepState::Running)
        });
        for step in open {
            if !self.undo_one(job, step, &steps).await? {
                return Ok(()); // the lease is gone: its new owner carries on
            }
        }
        self.end_abort(job).await
    }

    /// False when the lease was lost.
    async fn undo_one(
        &self,
        job: &mut Job,
        step: &StepRow,
        steps: &[StepRow],
    ) -> Result<bool, PlanError> {
        let StepKind::Undo(position) = step.kind() else {
            return Ok(true);
        };
        let undone = steps.iter().find(|s| s.position == position);
        let Some((undone, row)) =
            undone.and_then(|u| Some((u, row_of(&job.body, u.stage, u.row_number)?.clone())))
        else {
            let missing = Failure("The step to undo is not part of the plan.".into());
            return self.settle_undo(job, step, Err(missing), Vec::new()).await;
        };
        let call = self.undo_call(job, undone, &row);
        if !self.start_undo(job, step, &call).await? {
            return Ok(false);
        }
        let connector = match self.connector(job, &row).await {
            Ok(c) => c,
            Err(f) => return self.settle_undo(job, step, Err(f), Vec::new()).await,
        };
        let mut http = Http::new(self.settings.retry);
        let work = async {
            match call.action {
                Action::UnpauseDag => connector.start(&mut http, &call).await.map(|_| {
                    format!(
                        "Unpaused `{}`, which step {position} paused.",
                        call.dag_id.clone().unwrap_or_default()
                    )
                }),
                _ => connector.stop(&mut http, &call).await,
            }
        };
        let Some(result) = self.holding(job, work).await? else {
            return Ok(false);
        };
        self.settle_undo(job, step, result, http.take_log()).await
    }

    /// The undoing call: unpause the DAG a pause step paused, or stop the run a step started
    /// (under the key that step used).
    fn undo_call(&self, job: &Job, undone: &StepRow, row: &Row) -> Call {
        let mut call = self.call_for(job, undone, row);
        if let Some(key) = &undone.remote_ref {
            call.key = key.clone();
        }
        if let Action::PauseDag = row.action {
            call.action = Action::UnpauseDag;
        }
        call
    }

    /// Saves the undo step running, with the intent of its call. False when the lease was lost.
    async fn start_undo(&self, job: &Job, step: &StepRow, call: &Call) -> Result<bool, PlanError> {
        let now = Utc::now();
        let mut tx = self.db.begin().await?;
        if !repo::renew(&mut tx, job.row.id, &job.lease, now + self.settings.lease).await? {
            return Ok(false);
        }
        let what = match call.action {
            Action::UnpauseDag => {
                format!("unpausing `{}`", call.dag_id.clone().unwrap_or_default())
            }
            _ => format!("stopping run `{}` if it is still going", call.key),
        };
        if step.state() == StepState::Pending {
            let update = StepUpdate {
                state: StepState::Running,
                message: "",
                remote_ref: None,
                values_json: None,
            };
            repo::set_step(&mut tx, step.id, &update, now).await?;
            audit(
                &mut tx,
                job.row.id,
                "execution.undo_started",
                json!(null),
                json!({"step": step.position, "state": "running", "undoing": what}),
            )
            .await?;
        }
        let intent = Evidence {
            kind: "intent".into(),
            at: now,
            note: format!("Undoing after the abort: {what}."),
            ..Default::default()
        };
        repo::add_evidence(&mut tx, job.row.id, step.id, &[intent]).await?;
        tx.commit().await?;
        Ok(true)
    }

    /// Records how an undo went; never halts. False when the lease was lost.
    async fn settle_undo(
        &self,
        job: &Job,
        step: &StepRow,
        result: Result<String, Failure>,
        evidence: Vec<Evidence>,
    ) -> Result<bool, PlanError> {
        let now = Utc::now();
        let mut tx = self.db.begin().await?;
        if !repo::renew(&mut tx, job.row.id, &job.lease, now + self.settings.lease).await? {
            return Ok(false);
        }
        repo::add_evidence(&mut tx, job.row.id, step.id, &evidence).await?;
        let (state, message, action) = match &result {
            Ok(m) => (StepState::Succeeded, m.clone(), "execution.step_undone"),
            Err(Failure(m)) => (
                StepState::Failed,
                format!("Could not undo: {m} Do it by hand."),
                "execution.undo_failed",
            ),
        };
        let update = StepUpdate {
            state,
            message: &message,
            remote_ref: None,
            values_json: None,
        };
        repo::set_step(&mut tx, step.id, &update, now).await?;
        audit(
            &mut tx,
            job.row.id,
            action,
            json!({"step": step.position, "state": "running"}),
            json!({"step": step.position, "state": state.as_str(), "message": message}),
        )
        .await?;
        repo::touch(&mut tx, job.row.id, now).await?;
        tx.commit().await?;
        Ok(true)
    }

    /// Every undo step has run: the job is aborted, saying what could not be undone.
    async fn end_abort(&self, job: &Job) -> Result<(), PlanError> {
        let now = Utc::now();
        let mut tx = self.db.begin().await?;
        if !repo::renew(&mut tx, job.row.id, &job.lease, now + self.settings.lease).await? {
            return Ok(());
        }
        let steps = repo::steps(&mut Conn::Tx(&mut tx), job.row.id).await?;
        let undos: Vec<&StepRow> = steps
            .iter()
            .filter(|s| matches!(s.kind(), StepKind::Undo(_)))
            .collect();
        let failed: Vec<i32> = undos
            .iter()
            .filter(|s| s.state() == StepState::Failed)
            .map(|s| s.position)
            .collect();
        let outcome = match failed.as_slice() {
            [] => format!("Everything it did was undone ({} steps).", undos.len()),
            f => format!(
                "{} of {} undo steps failed (step {}): do them by hand.",
                f.len(),
                undos.len(),
                f.iter().map(i32::to_string).collect::<Vec<_>>().join(", ")
            ),
        };
        let said = job.row.reason.trim_end();
        let stop = if said.ends_with(['.', '!', '?']) {
            ""
        } else {
            "."
        };
        let reason = format!("{said}{stop} {outcome}");
        repo::set_job(&mut tx, job.row.id, JobStatus::Aborted, None, &reason, now).await?;
        audit(
            &mut tx,
            job.row.id,
            "execution.undone",
            json!({"status": "aborting"}),
            json!({"status": "aborted", "undo_steps": undos.len(), "failed_steps": failed}),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }
}
