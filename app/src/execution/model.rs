//! An execution (the job a sign-off creates) and its steps, as the execution page shows them.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Where a job is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum JobStatus {
    /// Waiting for its start moment (a maintenance window) or for a worker.
    Scheduled,
    Running,
    /// A step or check failed: an operator retries, skips or aborts.
    Halted,
    Succeeded,
    /// An operator aborted it; the worker is undoing what it did (unpausing the DAGs it paused,
    /// stopping its in-flight runs).
    Aborting,
    /// Stopped for good by an operator.
    Aborted,
}

impl JobStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Scheduled => "scheduled",
            Self::Running => "running",
            Self::Halted => "halted",
            Self::Succeeded => "succeeded",
            Self::Aborting => "aborting",
            Self::Aborted => "aborted",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [
            Self::Scheduled,
            Self::Running,
            Self::Halted,
            Self::Succeeded,
            Self::Aborting,
            Self::Aborted,
        ]
        .into_iter()
        .find(|x| x.as_str() == s)
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::Scheduled => "Scheduled",
            Self::Running => "Running",
            Self::Halted => "Halted: needs an operator",
            Self::Succeeded => "Rolled back",
            Self::Aborting => "Aborting: undoing what it did",
            Self::Aborted => "Aborted",
        }
    }

    pub fn is_final(self) -> bool {
        matches!(self, Self::Succeeded | Self::Aborted)
    }
}

/// A step's state machine: pending → running → succeeded | failed | skipped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StepState {
    Pending,
    Running,
    Succeeded,
    Failed,
    Skipped,
}

impl StepState {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Running => "running",
            Self::Succeeded => "succeeded",
            Self::Failed => "failed",
            Self::Skipped => "skipped",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [
            Self::Pending,
            Self::Running,
            Self::Succeeded,
            Self::Failed,
            Self::Skipped,
        ]
        .into_iter()
        .find(|x| x.as_str() == s)
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::Pending => "Waiting",
            Self::Running => "Running",
            Self::Succeeded => "Done",
            Self::Failed => "Failed",
            Self::Skipped => "Skipped",
        }
    }

    /// The step is behind us: the next one may run.
    pub fn is_done(self) -> bool {
        matches!(self, Self::Succeeded | Self::Skipped)
    }
}

/// One recorded HTTP exchange, check result or operator action.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EvidenceView {
    pub kind: String,
    pub at: DateTime<Utc>,
    pub method: String,
    pub url: String,
    pub status: Option<i32>,
    pub duration_ms: i64,
    pub request_body: String,
    pub response_body: String,
    pub note: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StepView {
    pub id: i64,
    pub position: i32,
    pub stage: i32,
    pub row_number: i32,
    /// "Pause the production DAG of orders", "Check: row count between 1 and 9".
    pub title: String,
    pub component: String,
    pub is_check: bool,
    /// Run after an abort to undo an earlier step.
    pub is_undo: bool,
    pub manual_instructions: Option<String>,
    pub state: StepState,
    pub retries: i32,
    pub remote_ref: Option<String>,
    pub message: String,
    pub started_at: Option<DateTime<Utc>>,
    pub finished_at: Option<DateTime<Utc>>,
    pub evidence: Vec<EvidenceView>,
}

/// What the viewer may do, decided by the server.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Controls {
    /// Retry or skip the failed step, abort the job.
    pub operate: bool,
    /// Mark the waiting manual step done.
    pub complete_manual: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExecutionPage {
    pub id: i64,
    pub plan_id: i64,
    pub change_id: i64,
    pub change_title: String,
    pub revision: i32,
    pub content_hash: String,
    pub status: JobStatus,
    pub run_after: Option<DateTime<Utc>>,
    pub started_at: Option<DateTime<Utc>>,
    pub finished_at: Option<DateTime<Utc>>,
    pub reason: String,
    pub steps: Vec<StepView>,
    pub controls: Controls,
    /// Changes whenever anything on the page does: the live view refetches when it moves.
    pub version: String,
}

/// One row of the rollbacks list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobSummary {
    pub id: i64,
    pub plan_id: i64,
    pub change_id: i64,
    pub change_title: String,
    pub status: JobStatus,
    pub run_after: Option<DateTime<Utc>>,
    pub started_at: Option<DateTime<Utc>>,
    pub finished_at: Option<DateTime<Utc>>,
    pub reason: String,
}

/// A page of the rollbacks list; `older` is the id to continue before.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobsPage {
    pub jobs: Vec<JobSummary>,
    pub older: Option<i64>,
}
