//! The rollback matrix: a plan revision's content (plan-level fields and stages of rows) and the
//! plan's life cycle. A revision's body is what its content hash covers: no ids of its own, no
//! timestamps, no author.

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

/// What a row does to its component.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Action {
    /// Pause the component's production DAG.
    PauseDag,
    /// Trigger the component's rollback DAG with these parameters (a JSON object).
    TriggerRollback { params: String },
    /// Clear the production DAG's runs in the scope and run them again.
    ClearRerun,
    /// Unpause the production DAG.
    UnpauseDag,
    /// POST a signed webhook to the component's connector.
    Webhook,
    /// A person does it and marks it done.
    Manual { instructions: String },
}

impl Action {
    pub const KINDS: [(&'static str, &'static str); 6] = [
        ("pause_dag", "Pause the production DAG"),
        ("trigger_rollback", "Trigger the rollback DAG"),
        ("clear_rerun", "Clear and re-run"),
        ("unpause_dag", "Unpause the production DAG"),
        ("webhook", "Call the webhook"),
        ("manual", "Manual step"),
    ];

    pub fn kind(&self) -> &'static str {
        match self {
            Self::PauseDag => "pause_dag",
            Self::TriggerRollback { .. } => "trigger_rollback",
            Self::ClearRerun => "clear_rerun",
            Self::UnpauseDag => "unpause_dag",
            Self::Webhook => "webhook",
            Self::Manual { .. } => "manual",
        }
    }

    pub fn label(&self) -> &'static str {
        let kind = self.kind();
        Self::KINDS
            .iter()
            .find(|(k, _)| *k == kind)
            .map(|(_, l)| *l)
            .unwrap_or(kind)
    }

    /// True when the action goes through a connector (an orchestrator or a webhook).
    pub fn needs_connector(&self) -> bool {
        self.needs_dag() || matches!(self, Self::Webhook)
    }

    /// True when the action talks to an orchestrator (needs a DAG binding).
    pub fn needs_dag(&self) -> bool {
        matches!(
            self,
            Self::PauseDag | Self::TriggerRollback { .. } | Self::ClearRerun | Self::UnpauseDag
        )
    }

    /// The free-text detail of the action: parameters or instructions.
    pub fn detail(&self) -> &str {
        match self {
            Self::TriggerRollback { params } => params,
            Self::Manual { instructions } => instructions,
            _ => "",
        }
    }
}

/// How a stage's result is verified before the next stage starts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Check {
    /// The pipeline run the row started succeeded.
    RunSucceeded,
    /// The reported row count lies in `min..=max`.
    RowCount { min: i64, max: i64 },
    /// The reported row count equals the snapshot's.
    RowCountEqualsSnapshot { snapshot: String, count: i64 },
    /// The reported checksum equals this one.
    Checksum { expected: String },
    /// A named value the pipeline reports equals this one.
    Custom { name: String, expected: String },
}

impl Check {
    pub fn kind(&self) -> &'static str {
        match self {
            Self::RunSucceeded => "run_succeeded",
            Self::RowCount { .. } => "row_count",
            Self::RowCountEqualsSnapshot { .. } => "row_count_snapshot",
            Self::Checksum { .. } => "checksum",
            Self::Custom { .. } => "custom",
        }
    }

    /// One line a non-engineer can read.
    pub fn describe(&self) -> String {
        match self {
            Self::RunSucceeded => "Pipeline run succeeded".into(),
            Self::RowCount { min, max } => format!("Row count between {min} and {max}"),
            Self::RowCountEqualsSnapshot { snapshot, count } => {
                format!("Row count equals snapshot {snapshot} ({count})")
            }
            Self::Checksum { expected } => format!("Checksum equals {expected}"),
            Self::Custom { name, expected } => format!("{name} equals {expected}"),
        }
    }
}

/// How long the storage keeps the data version a row restores.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Retention {
    /// Snowflake time travel, 1 day by default.
    SnowflakeTimeTravel,
    /// Delta Lake's default `VACUUM` retention, 7 days.
    DeltaVacuum,
    /// Iceberg snapshot expiry, 5 days by default.
    IcebergSnapshotExpiry,
    Custom {
        hours: i64,
    },
    /// What the catalog declares for the component (`snowflake 30d`): it wins over the row's.
    Declared {
        engine: String,
        hours: i64,
    },
}

impl Retention {
    pub const KINDS: [(&'static str, &'static str); 4] = [
        ("snowflake_time_travel", "Snowflake time travel (1 day)"),
        ("delta_vacuum", "Delta Lake VACUUM (7 days)"),
        (
            "iceberg_snapshot_expiry",
            "Iceberg snapshot expiry (5 days)",
        ),
        ("custom", "Custom period"),
    ];

    pub fn kind(&self) -> &'static str {
        match self {
            Self::SnowflakeTimeTravel => "snowflake_time_travel",
            Self::DeltaVacuum => "delta_vacuum",
            Self::IcebergSnapshotExpiry => "iceberg_snapshot_expiry",
            Self::Custom { .. } => "custom",
            Self::Declared { .. } => "declared",
        }
    }

    pub fn period(&self) -> Duration {
        match self {
            Self::SnowflakeTimeTravel => Duration::days(1),
            Self::DeltaVacuum => Duration::days(7),
            Self::IcebergSnapshotExpiry => Duration::days(5),
            Self::Custom { hours } | Self::Declared { hours, .. } => Duration::hours(*hours),
        }
    }
}

/// The data version a row restores, the one it undoes, and until when the storage keeps them.
/// Everything but the target is derived on the server from the change and its history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Restore {
    /// The version to restore: a snapshot or time-travel id, or `previous` (the pipeline takes
    /// the version right before `undo_version`). Defaults to the component's version before the
    /// change, from its change history.
    #[serde(default)]
    pub target_version: String,
    /// The version the change produced, which this row undoes (empty when the change recorded
    /// none for this component).
    #[serde(default, alias = "data_version")]
    pub undo_version: String,
    /// The code version (git SHA) before the change, when Rollgate knows it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code_version: Option<String>,
    /// When the version to restore was superseded (the change's deployment); retention counts
    /// from here.
    pub since: DateTime<Utc>,
    pub retention: Retention,
}

impl Restore {
    pub fn restorable_until(&self) -> DateTime<Utc> {
        self.since + self.retention.period()
    }

    /// The target as people read it.
    pub fn target_label(&self) -> String {
        match (self.target_version.as_str(), self.undo_version.as_str()) {
            ("" | PREVIOUS, "") => "the version before the change".into(),
            ("" | PREVIOUS, undo) => format!("the version before {undo}"),
            (target, _) => target.to_string(),
        }
    }
}

/// The restore target that lets the pipeline take the version right before the undone one.
pub const PREVIOUS: &str = "previous";

/// The connector a row's step goes through, as it was when the revision was saved.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConnectorSnapshot {
    pub id: i64,
    /// `airflow3` or `webhook`.
    pub kind: String,
    pub name: String,
    pub base_url: String,
}

/// What a row's action acts on, read from the catalog on the server when the revision is saved.
/// Inside the content hash: execution uses exactly this, whatever the catalog says later.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Binding {
    pub connector: Option<ConnectorSnapshot>,
    pub dag_id: Option<String>,
    pub rollback_dag_id: Option<String>,
}

impl Binding {
    /// The DAG the action triggers, pauses or unpauses.
    pub fn dag_for(&self, action: &Action) -> Option<&str> {
        match action {
            Action::TriggerRollback { .. } => self.rollback_dag_id.as_deref(),
            Action::PauseDag | Action::UnpauseDag | Action::ClearRerun => self.dag_id.as_deref(),
            Action::Webhook | Action::Manual { .. } => None,
        }
    }

    /// "DAG `x` on airflow-prod (https://…)", what approvers read.
    pub fn describe(&self, action: &Action) -> String {
        let on = self
            .connector
            .as_ref()
            .map(|c| format!("{} ({})", c.name, c.base_url))
            .unwrap_or_else(|| "no connector".into());
        match self.dag_for(action) {
            Some(dag) => format!("DAG `{dag}` on {on}"),
            None => on,
        }
    }
}

/// One row of the matrix.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Row {
    pub component_id: i64,
    /// The component's name when the row was written (the hash covers what people saw).
    pub component: String,
    /// Tables, partitions, a date range, or `all`.
    pub scope: String,
    pub action: Action,
    pub checks: Vec<Check>,
    /// How consumers can tell reconciled data (a flag column, a banner, a note).
    pub flagging: String,
    pub owner: String,
    pub restore: Option<Restore>,
    /// The connector and DAG ids the action uses, for rows that call an orchestrator.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub binding: Option<Binding>,
    /// How long the row's action may take, in minutes, before its step fails for an operator;
    /// None: 2 h for a run, 24 h for a manual step. Absent from older revisions' hashes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deadline_minutes: Option<u32>,
}

/// Rows verified together before the next stage starts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Stage {
    pub rows: Vec<Row>,
}

/// The content of a plan revision.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct PlanBody {
    /// Why roll back.
    pub reason: String,
    /// Why roll back rather than fix forward.
    pub criteria: String,
    pub expected_impact: String,
    pub expected_duration: String,
    /// Data consumers to notify.
    pub consumers: String,
    pub communication: String,
    pub stages: Vec<Stage>,
}

impl PlanBody {
    /// Every row with its stage and position, both counted from 1.
    pub fn rows(&self) -> impl Iterator<Item = (usize, usize, &Row)> {
        self.stages.iter().enumerate().flat_map(|(s, st)| {
            st.rows
                .iter()
                .enumerate()
                .map(move |(r, row)| (s + 1, r + 1, row))
        })
    }

    pub fn row_count(&self) -> usize {
        self.stages.iter().map(|s| s.rows.len()).sum()
    }

    /// The earliest moment a restored version expires, with the row that expires then.
    pub fn restorable_until(&self) -> Option<(DateTime<Utc>, usize, usize, &Row)> {
        self.rows()
            .filter_map(|(s, r, row)| {
                row.restore
                    .as_ref()
                    .map(|x| (x.restorable_until(), s, r, row))
            })
            .min_by_key(|(at, ..)| *at)
    }
}

/// Where a plan is in its life cycle.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PlanStatus {
    Draft,
    InReview,
    Rejected,
    SignedOff,
    Scheduled,
    Executing,
    Halted,
    RolledBack,
    Aborted,
    Withdrawn,
}

impl PlanStatus {
    pub const ALL: [PlanStatus; 10] = [
        Self::Draft,
        Self::InReview,
        Self::Rejected,
        Self::SignedOff,
        Self::Scheduled,
        Self::Executing,
        Self::Halted,
        Self::RolledBack,
        Self::Aborted,
        Self::Withdrawn,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Draft => "draft",
            Self::InReview => "in_review",
            Self::Rejected => "rejected",
            Self::SignedOff => "signed_off",
            Self::Scheduled => "scheduled",
            Self::Executing => "executing",
            Self::Halted => "halted",
            Self::RolledBack => "rolled_back",
            Self::Aborted => "aborted",
            Self::Withdrawn => "withdrawn",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::Draft => "Draft",
            Self::InReview => "Waiting for approval",
            Self::Rejected => "Rejected",
            Self::SignedOff => "Signed off",
            Self::Scheduled => "Signed off, scheduled",
            Self::Executing => "Executing",
            Self::Halted => "Halted",
            Self::RolledBack => "Rolled back",
            Self::Aborted => "Aborted",
            Self::Withdrawn => "Withdrawn",
        }
    }

    /// The plan can still be edited (a new revision).
    pub fn editable(self) -> bool {
        matches!(self, Self::Draft | Self::InReview | Self::Rejected)
    }
}
