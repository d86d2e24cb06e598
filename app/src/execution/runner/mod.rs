//! Carries out one claimed job: stage by stage, each row's action then the stage's checks. Every
//! step is saved as running before its remote call and with its outcome after it, each in its own
//! short transaction with its audit event; the lease is renewed between calls. A failure halts
//! the job for an operator; the last passing check rolls the change back.

mod actions;
mod calls;
mod undo;
mod windows;

use std::{collections::HashMap, sync::Arc, time::Duration as StdDuration};

use chrono::{Duration, Utc};
use serde_json::{json, Map, Value};

use super::{
    connector::{Connector, Failure},
    http::RetryPolicy,
    model::{JobStatus, StepState},
    repo::{self, Evidence, JobRow, StepRow, StepUpdate},
    steps::{row_of, unroll, StepKind},
};
use crate::{
    audit::repo::{append, Ctx, NewAuditEvent},
    changes::{self, model::ChangeStatus},
    connectors::secret::SecretKey,
    db::{Conn, Db, DbError, Tx},
    plans::{
        model::{PlanBody, PlanStatus},
        repo as plans_repo, rules,
        service::PlanError,
    },
};

#[derive(Debug, Clone)]
pub struct RunnerSettings {
    /// How long a claim lasts without renewal; a dead worker's job is taken over after it.
    pub lease: Duration,
    pub retry: RetryPolicy,
    /// Polling a remote run: first wait, doubling up to the longest.
    pub poll_first: StdDuration,
    pub poll_longest: StdDuration,
    /// How long a remote run may take before its step fails for an operator (a row's own
    /// deadline wins).
    pub run_deadline: Duration,
    /// How long a manual step may wait for its person (a row's own deadline wins).
    pub manual_deadline: Duration,
}

impl Default for RunnerSettings {
    fn default() -> Self {
        Self {
            lease: Duration::seconds(60),
            retry: RetryPolicy::default(),
            poll_first: StdDuration::from_millis(500),
            poll_longest: StdDuration::from_secs(10),
            run_deadline: Duration::hours(2),
            manual_deadline: Duration::hours(24),
        }
    }
}

#[derive(Clone)]
pub struct Runner {
    pub db: Db,
    pub key: SecretKey,
    /// This worker's name in leases.
    pub owner: String,
    pub settings: RunnerSettings,
}

/// Whether the job goes on after a step.
enum Flow {
    Next,
    Stop,
}

/// A claimed job: its id and the lease token every write of this claim proves it still holds
/// (distinct per claim, so two tasks of one process never share a lease).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claim {
    pub id: i64,
    pub lease: String,
}

struct Job {
    row: JobRow,
    body: PlanBody,
    /// This claim's lease token.
    lease: String,
    connectors: HashMap<i64, Arc<dyn Connector>>,
}

impl Runner {
    /// Claims the next due job and carries it out; false when nothing was due.
    pub async fn tick(&self) -> Result<bool, PlanError> {
        let Some(claim) = self.claim_next().await? else {
            return Ok(false);
        };
        self.carry_out(&claim).await?;
        Ok(true)
    }

    /// Carries out a claimed job until it ends, halts, waits for a person or is lost.
    pub async fn carry_out(&self, claim: &Claim) -> Result<(), PlanError> {
        let id = claim.id;
        let mut job = self.load(claim).await?;
        if job.row.status() == JobStatus::Aborting {
            return self.undo_all(&mut job).await;
        }
        let started = repo::steps(&mut Conn::Db(&self.db), id)
            .await?
            .iter()
            .any(|s| s.state() != StepState::Pending);
        if !started {
            // Executing after a restored version's retention ended is refused, like approving.
            if let Err(m) = rules::check_restorable(&job.body, Utc::now()) {
                return self.halt(&job, &m).await;
            }
        }
        while let Flow::Next = self.next_step(&mut job).await? {}
        Ok(())
    }

    async fn halt(&self, job: &Job, reason: &str) -> Result<(), PlanError> {
        let now = Utc::now();
        let mut tx = self.db.begin().await?;
        if repo::renew(&mut tx, job.row.id, &job.lease, now + self.settings.lease).await? {
            halt_in(&mut tx, job, reason, now).await?;
            tx.commit().await?;
        }
        Ok(())
    }

    /// Claims the next due job (setting up its steps on first start).
    pub async fn claim_next(&self) -> Result<Option<Claim>, PlanError> {
        let now = Utc::now();
        let lease = format!("{}/{}", self.owner, uuid::Uuid::new_v4().simple());
        let mut tx = self.db.begin().await?;
        let Some((id, was)) =
            repo::claim(&mut tx, self.db.backend(), &lease, now, self.settings.lease).await?
        else {
            return Ok(None);
        };
        if was == JobStatus::Aborting {
            // Undoing an aborted job restores production: it does not wait for a window.
            tx.commit().await?;
            return Ok(Some(Claim { id, lease }));
        }
        let first = was == JobStatus::Scheduled;
        // Every start — first claim, takeover, an operator's retry or resume — meets the windows.
        if let Some(wait) = windows::window_closed(&mut tx, id, now).await? {
            tx.commit().await?;
            tracing::info!(execution = id, "{wait}");
            return Ok(None);
        }
        if repo::steps(&mut Conn::Tx(&mut tx), id).await?.is_empty() {
            let job = repo::job(&mut Conn::Tx(&mut tx), id).await?;
            let body = plans_repo::revision(&mut Conn::Tx(&mut tx), job.plan_id, job.revision)
                .await?
                .body()?;
            repo::insert_steps(&mut tx, id, &unroll(&body), now).await?;
        }
        if first {
            let job = repo::job(&mut Conn::Tx(&mut tx), id).await?;
            plans_repo::set_state(
                &mut tx,
                job.plan_id,
                PlanStatus::Executing,
                job.revision,
                now,
            )
            .await?;
            changes::service::move_status(
                &mut tx,
                &Ctx::system(),
                job.change_id,
                ChangeStatus::RollingBack,
                now,
            )
            .await?;
            audit(
                &mut tx,
                id,
                "execution.started",
                json!({"status": "scheduled"}),
                json!({"status": "running", "worker": lease}),
            )
            .await?;
        }
        tx.commit().await?;
        Ok(Some(Claim { id, lease }))
    }

    async fn load(&self, claim: &Claim) -> Result<Job, PlanError> {
        let mut conn = Conn::Db(&self.db);
        let row = repo::job(&mut conn, claim.id).await?;
        let body = plans_repo::revision(&mut conn, row.plan_id, row.revision)
            .await?
            .body()?;
        Ok(Job {
            row,
            body,
            lease: claim.lease.clone(),
            connectors: HashMap::new(),
        })
    }

    async fn next_step(&self, job: &mut Job) -> Result<Flow, PlanError> {
        let steps = repo::steps(&mut Conn::Db(&self.db), job.row.id).await?;
        let Some(step) = steps.iter().find(|s| !s.state().is_done()).cloned() else {
            self.finish(job).await?;
            return Ok(Flow::Stop);
        };
        if step.state() == StepState::Failed {
            return Ok(Flow::Stop); // halted: an operator decides
        }
        let Some(row) = row_of(&job.body, step.stage, step.row_number).cloned() else {
            return self
                .settle(
                    job,
                    &step,
                    Err(Failure("The plan has no such row.".into())),
                    None,
                    Vec::new(),
                )
                .await;
        };
        match step.kind() {
            StepKind::Action => self.action(job, &step, &row).await,
            StepKind::Check(n) => self.check(job, &step, &row, n, &steps).await,
            StepKind::Undo(_) => Ok(Flow::Stop), // only an aborting job has these: undo_all
        }
    }

    /// Saves a step's outcome with its evidence; a failure halts the job.
    async fn settle(
        &self,
        job: &Job,
        step: &StepRow,
        result: Result<String, Failure>,
        values: Option<Map<String, Value>>,
        evidence: Vec<Evidence>,
    ) -> Result<Flow, PlanError> {
        let now = Utc::now();
        let mut tx = self.db.begin().await?;
        if !repo::renew(&mut tx, job.row.id, &job.lease, now + self.settings.lease).await? {
            // The lease is gone (taken over, or the job was aborted): this claim writes nothing
            // more, its result included; the owner now resolves the step by its idempotency key.
            return Ok(Flow::Stop);
        }
        repo::add_evidence(&mut tx, job.row.id, step.id, &evidence).await?;
        let values_json = values.map(|v| Value::Object(v).to_string());
        let (state, message) = match &result {
            Ok(m) => (StepState::Succeeded, m.as_str()),
            Err(Failure(m)) => (StepState::Failed, m.as_str()),
        };
        let update = StepUpdate {
            state,
            message,
            remote_ref: None,
            values_json: values_json.as_deref(),
        };
        repo::set_step(&mut tx, step.id, &update, now).await?;
        let action = match state {
            StepState::Succeeded => "execution.step_succeeded",
            _ => "execution.step_failed",
        };
        audit(
            &mut tx,
            job.row.id,
            action,
            step_json(step, "running"),
            json!({"step": step.position, "state": state.as_str(), "message": message}),
        )
        .await?;
        let flow = match &result {
            Ok(_) => Flow::Next,
            Err(Failure(m)) => {
                let reason = format!("Step {} failed: {m}", step.position);
                halt_in(&mut tx, job, &reason, now).await?;
                Flow::Stop
            }
        };
        repo::touch(&mut tx, job.row.id, now).await?;
        tx.commit().await?;
        Ok(flow)
    }

    /// Runs a remote call while renewing the lease every third of it, so a slow orchestrator
    /// never lets the lease lapse under a live call. None when the lease was lost meanwhile:
    /// the call is dropped and nothing of it is written.
    async fn holding<T>(
        &self,
        job: &Job,
        work: impl std::future::Future<Output = T>,
    ) -> Result<Option<T>, PlanError> {
        tokio::pin!(work);
        let every = (self.settings.lease / 3)
            .to_std()
            .unwrap_or(StdDuration::from_secs(20))
            .max(StdDuration::from_millis(10));
        loop {
            tokio::select! {
                out = &mut work => return Ok(Some(out)),
                _ = tokio::time::sleep(every) => {
                    let mut tx = self.db.begin().await?;
                    let until = Utc::now() + self.settings.lease;
                    if !repo::renew(&mut tx, job.row.id, &job.lease, until).await? {
                        return Ok(None);
                    }
                    tx.commit().await?;
                }
            }
        }
    }

    async fn finish(&self, job: &Job) -> Result<(), PlanError> {
        let now = Utc::now();
        let mut tx = self.db.begin().await?;
        if !repo::renew(&mut tx, job.row.id, &job.lease, now + self.settings.lease).await? {
            return Ok(());
        }
        repo::set_job(&mut tx, job.row.id, JobStatus::Succeeded, None, "", now).await?;
        plans_repo::set_state(
            &mut tx,
            job.row.plan_id,
            PlanStatus::RolledBack,
            job.row.revision,
            now,
        )
        .await?;
        changes::service::move_status(
            &mut tx,
            &Ctx::system(),
            job.row.change_id,
            ChangeStatus::RolledBack,
            now,
        )
        .await?;
        audit(
            &mut tx,
            job.row.id,
            "execution.succeeded",
            json!({"status": "running"}),
            json!({"status": "succeeded", "change_status": "rolled_back"}),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }
}

async fn halt_in(
    tx: &mut Tx,
    job: &Job,
    reason: &str,
    now: chrono::DateTime<Utc>,
) -> Result<(), PlanError> {
    repo::set_job(tx, job.row.id, JobStatus::Halted, None, reason, now).await?;
    plans_repo::set_state(
        tx,
        job.row.plan_id,
        PlanStatus::Halted,
        job.row.revision,
        now,
    )
    .await?;
    audit(
        tx,
        job.row.id,
        "execution.halted",
        json!({"status": "running"}),
        json!({"status": "halted", "reason": reason}),
    )
    .await?;
    Ok(())
}

fn step_json(step: &StepRow, state: &str) -> Value {
    json!({"step": step.position, "stage": step.stage, "row": step.row_number, "state": state})
}

pub(super) async fn audit(
    tx: &mut Tx,
    job: i64,
    action: &'static str,
    before: Value,
    after: Value,
) -> Result<(), DbError> {
    let event = NewAuditEvent {
        action,
        entity_type: "execution",
        entity_id: job.to_string(),
        before,
        after,
    };
    append(tx, &Ctx::system(), event).await.map(|_| ())
}
