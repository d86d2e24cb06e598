//! A row's action (its remote call and, for a run, the polling) and a check's verdict.

use chrono::Utc;
use serde_json::{json, Map, Value};

use super::{
    super::{
        connector::{Call, Connector, Failure, Polled, Started},
        http::Http,
        model::{JobStatus, StepState},
        repo::{self, Evidence, StepRow, StepUpdate},
        steps::{judge, StepKind},
    },
    audit,
    calls::done_message,
    step_json, Flow, Job, Runner,
};
use crate::plans::{
    model::{Action, Row},
    service::PlanError,
};

impl Runner {
    pub(super) async fn action(
        &self,
        job: &mut Job,
        step: &StepRow,
        row: &Row,
    ) -> Result<Flow, PlanError> {
        let now = Utc::now();
        let own = row
            .deadline_minutes
            .map(|m| chrono::Duration::minutes(m.into()));
        if let Action::Manual { .. } = row.action {
            let limit = own.unwrap_or(self.settings.manual_deadline);
            let deadline = step.started_at.unwrap_or(now) + limit;
            if step.state() == StepState::Running && now >= deadline {
                let late = Failure(format!(
                    "No one marked it done within {}: do it, then retry the step to wait again, or abort.",
                    span(limit)
                ));
                return self.settle(job, step, Err(late), None, Vec::new()).await;
            }
            // A person does it: the job waits, unowned, until they mark it done; at the
            // deadline a worker claims it again and fails the step.
            let mut tx = self.db.begin().await?;
            if !repo::renew(&mut tx, job.row.id, &job.lease, now + self.settings.lease).await? {
                return Ok(Flow::Stop);
            }
            if step.state() == StepState::Pending {
                let update = StepUpdate {
                    state: StepState::Running,
                    message: "Waiting for a person to do it and mark it done.",
                    remote_ref: None,
                    values_json: None,
                };
                repo::set_step(&mut tx, step.id, &update, now).await?;
                audit(
                    &mut tx,
                    job.row.id,
                    "execution.step_started",
                    Value::Null,
                    step_json(step, "running"),
                )
                .await?;
            }
            repo::set_job(
                &mut tx,
                job.row.id,
                JobStatus::Running,
                Some(deadline),
                "",
                now,
            )
            .await?;
            tx.commit().await?;
            return Ok(Flow::Stop);
        }
        let call = self.call_for(job, step, row);
        let remote = matches!(
            row.action,
            Action::TriggerRollback { .. } | Action::ClearRerun
        );
        {
            let mut tx = self.db.begin().await?;
            if !repo::renew(&mut tx, job.row.id, &job.lease, now + self.settings.lease).await? {
                return Ok(Flow::Stop);
            }
            if step.state() == StepState::Pending {
                let update = StepUpdate {
                    state: StepState::Running,
                    message: "",
                    remote_ref: remote.then_some(call.key.as_str()),
                    values_json: None,
                };
                repo::set_step(&mut tx, step.id, &update, now).await?;
                audit(
                    &mut tx,
                    job.row.id,
                    "execution.step_started",
                    Value::Null,
                    json!({"step": step.position, "state": "running", "key": call.key}),
                )
                .await?;
            }
            // Intent before the call: a crash between the call and its result leaves this record,
            // and the next owner resolves it through the same idempotency key.
            let intent = Evidence {
                kind: "intent".into(),
                at: now,
                note: intent_note(step, row, &call.key),
                ..Default::default()
            };
            repo::add_evidence(&mut tx, job.row.id, step.id, &[intent]).await?;
            tx.commit().await?;
        }
        let connector = match self.connector(job, row).await {
            Ok(c) => c,
            Err(f) => return self.settle(job, step, Err(f), None, Vec::new()).await,
        };
        let mut http = Http::new(self.settings.retry);
        let started = match self.holding(job, connector.start(&mut http, &call)).await? {
            Some(started) => started,
            None => return Ok(Flow::Stop), // the lease was lost during the call
        };
        let outcome = match started {
            Ok(Started::Done(values)) => Ok(values),
            Ok(Started::Running) => {
                let limit = own.unwrap_or(self.settings.run_deadline);
                match self
                    .wait(job, step, &*connector, &mut http, &call, limit)
                    .await?
                {
                    Some(result) => result,
                    None => return Ok(Flow::Stop), // the lease is gone (aborted or taken over)
                }
            }
            Err(f) => Err(f),
        };
        let (result, values) = match outcome {
            Ok(values) => (Ok(done_message(&row.action, &call)), values),
            Err(f) => (Err(f), None),
        };
        self.settle(job, step, result, values, http.take_log())
            .await
    }

    /// Polls a remote run until it ends, saving evidence whenever its state moves. None when the
    /// job is no longer ours.
    pub(super) async fn wait(
        &self,
        job: &Job,
        step: &StepRow,
        connector: &dyn Connector,
        http: &mut Http,
        call: &Call,
        limit: chrono::Duration,
    ) -> Result<Option<Result<Option<Map<String, Value>>, Failure>>, PlanError> {
        let mut delay = self.settings.poll_first;
        let mut last = String::new();
        let deadline = step.started_at.unwrap_or_else(Utc::now) + limit;
        loop {
            if Utc::now() >= deadline {
                return Ok(Some(Err(Failure(format!(
                    "No result within {}: Airflow run `{}` is still {}. Look at it in Airflow, then retry (a new run) or abort.",
                    span(limit),
                    call.key,
                    if last.is_empty() { "starting" } else { &last }
                )))));
            }
            if !self
                .save_progress(job, step, http.take_log(), &last)
                .await?
            {
                return Ok(None);
            }
            tokio::time::sleep(delay).await;
            delay = (delay * 2).min(self.settings.poll_longest);
            let before = http.log.len();
            let Some(polled) = self.holding(job, connector.poll(http, call)).await? else {
                return Ok(None);
            };
            match polled {
                Ok(Polled::Waiting(state)) => {
                    if state == last {
                        http.log.truncate(before); // nothing new: keep the evidence short
                    }
                    last = state;
                }
                Ok(Polled::Done(values)) => return Ok(Some(Ok(values))),
                Err(f) => return Ok(Some(Err(f))),
            }
        }
    }

    pub(super) async fn save_progress(
        &self,
        job: &Job,
        step: &StepRow,
        log: Vec<Evidence>,
        state: &str,
    ) -> Result<bool, PlanError> {
        let now = Utc::now();
        let mut tx = self.db.begin().await?;
        if !repo::renew(&mut tx, job.row.id, &job.lease, now + self.settings.lease).await? {
            return Ok(false);
        }
        if !log.is_empty() {
            repo::add_evidence(&mut tx, job.row.id, step.id, &log).await?;
            let message = match state {
                "" => "The run was started.".to_string(),
                s => format!("The run is {s}."),
            };
            let update = StepUpdate {
                state: StepState::Running,
                message: &message,
                remote_ref: None,
                values_json: None,
            };
            repo::set_step(&mut tx, step.id, &update, now).await?;
            repo::touch(&mut tx, job.row.id, now).await?;
        }
        tx.commit().await?;
        Ok(true)
    }

    pub(super) async fn check(
        &self,
        job: &mut Job,
        step: &StepRow,
        row: &Row,
        number: i32,
        steps: &[StepRow],
    ) -> Result<Flow, PlanError> {
        let action = steps.iter().find(|s| {
            s.stage == step.stage && s.row_number == step.row_number && s.kind() == StepKind::Action
        });
        let values: Option<Map<String, Value>> = action
            .and_then(|a| a.values_json.as_deref())
            .and_then(|v| serde_json::from_str(v).ok());
        let ran = action.is_some_and(|a| a.state() == StepState::Succeeded);
        let check = usize::try_from(number - 1)
            .ok()
            .and_then(|i| row.checks.get(i));
        let verdict = match check {
            Some(c) => judge(c, ran, values.as_ref()).map_err(Failure),
            None => Err(Failure("The row has no such check.".into())),
        };
        let note = match &verdict {
            Ok(m) | Err(Failure(m)) => m.clone(),
        };
        let evidence = Evidence {
            kind: "check".into(),
            at: Utc::now(),
            note: format!(
                "{}: {note}",
                check.map(|c| c.describe()).unwrap_or_default()
            ),
            ..Default::default()
        };
        self.settle(job, step, verdict, None, vec![evidence]).await
    }
}

/// What is about to be sent, as the intent evidence records it.
fn intent_note(step: &StepRow, row: &Row, key: &str) -> String {
    let target = row
        .binding
        .as_ref()
        .map(|b| format!(" ({})", b.describe(&row.action)))
        .unwrap_or_default();
    let again = match step.state() {
        StepState::Running => "Sending again after an interruption; a run that already exists under this key is adopted, never started twice: ",
        _ => "Sending: ",
    };
    format!(
        "{again}{}{target}, idempotency key `{key}`.",
        row.action.label()
    )
}

/// "2 h", "90 s": a deadline as people read it.
fn span(d: chrono::Duration) -> String {
    match d.num_seconds() {
        s if s % 3600 == 0 => format!("{} h", s / 3600),
        s if s % 60 == 0 => format!("{} min", s / 60),
        s => format!("{s} s"),
    }
}
