//! The one interface between the worker and an orchestrator. A connector starts a row's action
//! and, when the action is a remote run, reports on it until it ends. Airflow 3 and signed
//! webhooks implement it; Dagster or Prefect would too, without touching the worker.

use serde_json::{Map, Value};

use super::http::Http;
use crate::plans::model::Action;

/// One row's action, as the connector needs it.
#[derive(Debug, Clone)]
pub struct Call {
    pub action: Action,
    /// The component's production DAG (pause, unpause, re-run).
    pub dag_id: Option<String>,
    /// The component's rollback DAG (trigger).
    pub rollback_dag_id: Option<String>,
    /// Stable across crashes and automatic retries, new for each operator retry: Airflow's
    /// `dag_run_id`, a webhook's `webhook-id`.
    pub key: String,
    /// What the pipeline is told: change, plan revision hash, step, scope, target versions and
    /// the row's own parameters. `conf["rollgate"]` identifies the step.
    pub payload: Value,
}

/// What starting an action came to.
#[derive(Debug, Clone, PartialEq)]
pub enum Started {
    /// Done already, with any values the far side reported.
    Done(Option<Map<String, Value>>),
    /// A remote run is under way: poll it.
    Running,
}

/// What a poll found.
#[derive(Debug, Clone, PartialEq)]
pub enum Polled {
    /// Still going; the remote state, for people.
    Waiting(String),
    Done(Option<Map<String, Value>>),
}

/// The action failed; the message says why in words an operator can act on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure(pub String);

impl<T: Into<String>> From<T> for Failure {
    fn from(s: T) -> Self {
        Self(s.into())
    }
}

#[async_trait::async_trait]
pub trait Connector: Send + Sync {
    async fn start(&self, http: &mut Http, call: &Call) -> Result<Started, Failure>;
    async fn poll(&self, http: &mut Http, call: &Call) -> Result<Polled, Failure>;

    /// After an abort: stops the remote run a step started, if it is still going. `Ok` says
    /// what was done (or that nothing needed doing); `Err` why it could not be stopped.
    async fn stop(&self, _http: &mut Http, _call: &Call) -> Result<String, Failure> {
        Err(Failure(
            "This connector cannot stop a run: stop it on the far side by hand.".into(),
        ))
    }
}
