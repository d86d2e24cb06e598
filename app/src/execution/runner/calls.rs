//! What a step sends: the call (idempotency key, payload) and the connector it goes through.

use std::sync::Arc;

use serde_json::{json, Map, Value};

use super::{
    super::{
        airflow::Airflow,
        connector::{Call, Connector, Failure},
        repo::StepRow,
        webhook::Webhook,
    },
    Job, Runner,
};
use crate::{
    connectors::{self, model::ConnectorKind},
    db::Conn,
    plans::model::{Action, Row},
};

impl Runner {
    pub(super) fn call_for(&self, job: &Job, step: &StepRow, row: &Row) -> Call {
        let b = job.bindings.get(&row.component_id);
        let hash = &job.row.content_hash;
        let key = format!(
            "rg-{}-e{}-s{}-r{}",
            job.row.installation, job.row.id, step.position, step.retries
        );
        let mut payload = Map::new();
        if let Action::TriggerRollback { params } = &row.action {
            if let Ok(Value::Object(p)) = serde_json::from_str::<Value>(params) {
                payload.extend(p);
            }
        }
        payload.insert("change_id".into(), json!(job.row.change_id.to_string()));
        payload.insert("scope".into(), json!(row.scope));
        if let Some(r) = &row.restore {
            payload
                .entry("target_version")
                .or_insert(json!(r.data_version));
        }
        payload.insert("rollgate".into(), json!({
            "execution_id": job.row.id, "step": step.position, "retry": step.retries,
            "plan_id": job.row.plan_id, "revision": job.row.revision, "plan_revision_hash": hash,
            "installation": job.row.installation,
            "component": row.component,
        }));
        Call {
            action: row.action.clone(),
            dag_id: b.and_then(|b| b.dag_id.clone()),
            rollback_dag_id: b.and_then(|b| b.rollback_dag_id.clone()),
            key,
            payload: Value::Object(payload),
        }
    }

    /// The connector bound to a component, built once per job (its Airflow token is reused).
    pub(super) async fn connector(
        &self,
        job: &mut Job,
        component: i64,
    ) -> Result<Arc<dyn Connector>, Failure> {
        let binding = job.bindings.get(&component);
        let name = binding.map(|b| b.name.clone()).unwrap_or_default();
        let Some(id) = binding.and_then(|b| b.connector_id) else {
            return Err(Failure(format!(
                "Component `{name}` is bound to no connector: bind it in the catalog, then retry."
            )));
        };
        if let Some(c) = job.connectors.get(&id) {
            return Ok(c.clone());
        }
        let row = connectors::repo::get(&mut Conn::Db(&self.db), id)
            .await
            .map_err(|_| Failure(format!("The connector of `{name}` is gone.")))?;
        let secret = connectors::service::resolve_secret(&row, &self.key)
            .map_err(|m| Failure(format!("The connector's secret is not available: {m}")))?
            .unwrap_or_default();
        let c = row.connector();
        let built: Arc<dyn Connector> = match c.kind {
            ConnectorKind::Airflow3 => Arc::new(Airflow::new(&c.base_url, &c.username, &secret)),
            ConnectorKind::Webhook => Arc::new(Webhook {
                url: c.base_url.clone(),
                secret,
            }),
        };
        job.connectors.insert(id, built.clone());
        Ok(built)
    }
}

pub(super) fn done_message(action: &Action, call: &Call) -> String {
    match action {
        Action::PauseDag => format!("Paused `{}`.", call.dag_id.clone().unwrap_or_default()),
        Action::UnpauseDag => format!("Unpaused `{}`.", call.dag_id.clone().unwrap_or_default()),
        Action::TriggerRollback { .. } | Action::ClearRerun => {
            format!("Run `{}` succeeded.", call.key)
        }
        Action::Webhook => "The webhook accepted the step.".into(),
        Action::Manual { .. } => "Done.".into(),
    }
}
