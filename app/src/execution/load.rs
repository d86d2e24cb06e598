//! The execution page: the job, its steps in order with their evidence, and what the viewer may do.

use std::collections::HashMap;

use super::{
    model::{
        Controls, EvidenceView, ExecutionPage, JobStatus, JobSummary, JobsPage, StepState, StepView,
    },
    repo,
    steps::{row_of, StepKind},
};
use crate::{
    auth::{CurrentUser, Permission},
    changes,
    db::{Conn, Db},
    plans::{model::Action, repo as plans_repo, service::PlanError},
};

pub async fn page(db: &Db, viewer: &CurrentUser, id: i64) -> Result<ExecutionPage, PlanError> {
    let mut conn = Conn::Db(db);
    let job = repo::job(&mut conn, id).await?;
    let body = plans_repo::revision(&mut conn, job.plan_id, job.revision)
        .await?
        .body()?;
    let change = changes::repo::get(&mut conn, job.change_id).await?;
    let rows = repo::steps(&mut conn, id).await?;
    let mut evidence: HashMap<i64, Vec<EvidenceView>> = HashMap::new();
    for (step, e) in repo::evidence(&mut conn, id).await? {
        evidence.entry(step).or_default().push(EvidenceView {
            kind: e.kind,
            at: e.at,
            method: e.method,
            url: e.url,
            status: e.status,
            duration_ms: e.duration_ms,
            request_body: e.request_body,
            response_body: e.response_body,
            note: e.note,
        });
    }
    let status = job.status();
    let waiting_for_person = status == JobStatus::Running && job.lease_owner.is_none();
    let steps: Vec<StepView> = rows
        .iter()
        .map(|s| {
            let row = row_of(&body, s.stage, s.row_number);
            let (title, manual) = match (s.kind(), row) {
                (StepKind::Action, Some(r)) => (
                    match &r.binding {
                        Some(b) => format!("{}: {}", r.action.label(), b.describe(&r.action)),
                        None => r.action.label().to_string(),
                    },
                    match &r.action {
                        Action::Manual { instructions } => Some(instructions.clone()),
                        _ => None,
                    },
                ),
                (StepKind::Check(n), Some(r)) => (
                    format!(
                        "Check: {}",
                        r.checks
                            .get((n - 1).max(0) as usize)
                            .map(|c| c.describe())
                            .unwrap_or_default()
                    ),
                    None,
                ),
                (StepKind::Undo(p), Some(r)) => (
                    match &r.action {
                        Action::PauseDag => format!(
                            "Undo step {p}: unpause {}",
                            r.binding
                                .as_ref()
                                .map(|b| b.describe(&Action::UnpauseDag))
                                .unwrap_or_else(|| "the production DAG".into())
                        ),
                        _ => format!("Undo step {p}: stop its run if it is still going"),
                    },
                    None,
                ),
                _ => ("Unknown row".to_string(), None),
            };
            StepView {
                id: s.id,
                position: s.position,
                stage: s.stage,
                row_number: s.row_number,
                title,
                component: row.map(|r| r.component.clone()).unwrap_or_default(),
                is_check: matches!(s.kind(), StepKind::Check(_)),
                is_undo: matches!(s.kind(), StepKind::Undo(_)),
                manual_instructions: manual,
                state: s.state(),
                retries: s.retries,
                remote_ref: s.remote_ref.clone(),
                message: s.message.clone(),
                started_at: s.started_at,
                finished_at: s.finished_at,
                evidence: evidence.remove(&s.id).unwrap_or_default(),
            }
        })
        .collect();
    let operate = viewer.can(Permission::OperateRollbacks) && !status.is_final();
    let complete_manual = operate
        && waiting_for_person
        && steps
            .iter()
            .any(|s| s.state == StepState::Running && s.manual_instructions.is_some());
    Ok(ExecutionPage {
        id,
        plan_id: job.plan_id,
        change_id: job.change_id,
        change_title: change.title,
        revision: job.revision,
        content_hash: job.content_hash.clone(),
        status,
        run_after: job.run_after,
        started_at: job.started_at,
        finished_at: job.finished_at,
        reason: job.reason.clone(),
        steps,
        controls: Controls {
            operate,
            complete_manual,
        },
        version: version_of(&job),
    })
}

/// A token that moves whenever the job or any of its steps changes (steps touch the job).
pub fn version_of(job: &repo::JobRow) -> String {
    format!("{}:{}", job.status, job.updated_at.timestamp_micros())
}

/// The version alone, for the live page's cheap check.
pub async fn version(db: &Db, id: i64) -> Result<String, PlanError> {
    Ok(version_of(&repo::job(&mut Conn::Db(db), id).await?))
}

const LIST_PAGE: i64 = 50;

/// A page of the rollbacks list.
pub async fn list(
    db: &Db,
    status: Option<JobStatus>,
    before: Option<i64>,
) -> Result<JobsPage, PlanError> {
    let mut rows = repo::list(&mut Conn::Db(db), status, before, LIST_PAGE + 1).await?;
    let older = (rows.len() as i64 > LIST_PAGE).then(|| {
        rows.truncate(LIST_PAGE as usize);
        rows[rows.len() - 1].id
    });
    let jobs = rows
        .into_iter()
        .map(|r| JobSummary {
            status: JobStatus::parse(&r.status).unwrap_or(JobStatus::Halted),
            id: r.id,
            plan_id: r.plan_id,
            change_id: r.change_id,
            change_title: r.change_title,
            run_after: r.run_after,
            started_at: r.started_at,
            finished_at: r.finished_at,
            reason: r.reason,
        })
        .collect();
    Ok(JobsPage { jobs, older })
}
