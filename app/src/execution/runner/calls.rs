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
    /// The call a step makes, built only from the approved revision: its DAG ids come from the
    /// row's binding snapshot, never from the catalog as it is now.
    pub(super) fn call_for(&self, job: &Job, step: &StepRow, row: &Row) -> Call {
        let b = row.binding.as_ref();
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
            // The approved restore fields win over parameters of the same name.
            payload.insert("target_version".into(), json!(r.target_version));
            payload.insert("undo_version".into(), json!(r.undo_version));
            if let Some(code) = &r.code_version {
                payload.insert("code_version".into(), json!(code));
            }
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

    /// The connector the approved revision names for a row, built once per job (its Airflow
    /// token is reused). One deleted, or whose kind or address changed since approval, fails
    /// the step with that reason: Rollgate never calls a host approvers did not see.
    pub(super) async fn connector(
        &self,
        job: &mut Job,
        row: &Row,
    ) -> Result<Arc<dyn Connector>, Failure> {
        let name = &row.component;
        let Some(approved) = row.binding.as_ref().and_then(|b| b.connector.clone()) else {
            return Err(Failure(format!(
                "The approved revision binds `{name}` to no connector (it was approved before Rollgate recorded bindings, or without one): revise the plan and have it approved again."
            )));
        };
        if let Some(c) = job.connectors.get(&approved.id) {
            return Ok(c.clone());
        }
        let row = connectors::repo::get(&mut Conn::Db(&self.db), approved.id)
            .await
            .map_err(|_| {
                Failure(format!(
                    "The connector `{}` approved for `{name}` was deleted since approval.",
                    approved.name
                ))
            })?;
        if row.kind != approved.kind || row.base_url != approved.base_url {
            return Err(Failure(format!(
                "The connector `{}` changed since approval ({} {} then, {} {} now): revise the plan and have it approved again.",
                approved.name, approved.kind, approved.base_url, row.kind, row.base_url
            )));
        }
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
        job.connectors.insert(approved.id, built.clone());
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
