//! What the server derives for a revision, whatever the form sent: each row's component name
//! from its id, the binding its action uses (connector, DAG ids) from the catalog, and for a
//! restore the version it undoes, the code version before the change and the moment retention
//! counts from, from the change and the component's change history.

use std::collections::HashMap;

use chrono::{DateTime, Utc};

use super::{
    model::{Action, Binding, ConnectorSnapshot, PlanBody, Retention, Row, PREVIOUS},
    page::{Drift, VersionOption},
    repo::{self, BindingRow, VersionRow},
    rules::row_field,
};
use crate::{
    catalog::model::retention_parts,
    changes::model::Change,
    db::{Conn, DbError},
    error::FieldError,
};

/// The catalog and history facts a plan's rows are resolved against.
pub struct Facts {
    components: HashMap<i64, BindingRow>,
    /// The data version the change produced, per component.
    produced: HashMap<i64, String>,
    /// Earlier versions per component, newest first.
    history: HashMap<i64, Vec<VersionRow>>,
    deployed_at: DateTime<Utc>,
    /// The version before the change, per component, where the change recorded it.
    recorded_before: HashMap<i64, String>,
    /// The commit before the change, where recorded.
    git_before: Option<String>,
}

impl Facts {
    pub async fn load(conn: &mut Conn<'_>, change: &Change, ids: &[i64]) -> Result<Self, DbError> {
        let mut ids = ids.to_vec();
        ids.sort_unstable();
        ids.dedup();
        let components = repo::bindings(conn, &ids)
            .await?
            .into_iter()
            .map(|b| (b.id, b))
            .collect();
        let mut history: HashMap<i64, Vec<VersionRow>> = HashMap::new();
        for v in repo::versions_before(conn, &ids, change.deployed_at, change.id).await? {
            history.entry(v.component_id).or_default().push(v);
        }
        let produced = change
            .components
            .iter()
            .filter(|a| !a.data_version.is_empty())
            .map(|a| (a.component.id, a.data_version.clone()))
            .collect();
        let recorded_before = change
            .components
            .iter()
            .filter(|a| !a.data_version_before.is_empty())
            .map(|a| (a.component.id, a.data_version_before.clone()))
            .collect();
        Ok(Self {
            components,
            produced,
            history,
            deployed_at: change.deployed_at,
            recorded_before,
            git_before: change.git_sha_before.clone(),
        })
    }

    pub fn component(&self, id: i64) -> Option<&BindingRow> {
        self.components.get(&id)
    }

    /// The version the change produced on a component, if recorded.
    pub fn produced(&self, id: i64) -> Option<&str> {
        self.produced.get(&id).map(String::as_str)
    }

    /// The version the component had before the change, from its history.
    pub fn before(&self, id: i64) -> Option<&VersionRow> {
        self.history.get(&id).and_then(|h| h.first())
    }

    /// The version to restore by default: the one the change recorded as before it, else the
    /// one the previous change produced.
    pub fn before_version(&self, id: i64) -> Option<String> {
        self.recorded_before
            .get(&id)
            .cloned()
            .or_else(|| self.before(id).map(|v| v.data_version.clone()))
    }

    /// The code version to restore: recorded on the change, else the previous change's.
    pub fn code_before(&self, id: i64) -> Option<String> {
        self.git_before
            .clone()
            .or_else(|| self.before(id).and_then(|v| v.git_sha.clone()))
    }

    /// The component's binding in the catalog now, as far as `action` uses it.
    pub fn binding_now(&self, id: i64, action: &Action) -> Option<Binding> {
        self.components.get(&id).map(|c| binding_of(c, action))
    }

    /// A proposal restores `previous`; where the history knows that version, it is named.
    pub fn default_targets(&self, body: &mut PlanBody) {
        for stage in &mut body.stages {
            for row in &mut stage.rows {
                let before = self.before_version(row.component_id);
                if let (Some(r), Some(v)) = (row.restore.as_mut(), before) {
                    if r.target_version == PREVIOUS {
                        r.target_version = v;
                    }
                }
            }
        }
    }

    /// Fills in every derived field of every row; the problems found, by row field.
    pub fn apply(&self, body: &mut PlanBody) -> Vec<FieldError> {
        let mut errors = Vec::new();
        for (s, stage) in body.stages.iter_mut().enumerate() {
            for (r, row) in stage.rows.iter_mut().enumerate() {
                if let Err(e) = self.apply_row(row) {
                    errors.push(FieldError::new(&row_field(s + 1, r + 1, e.0), e.1));
                }
            }
        }
        errors
    }

    fn apply_row(&self, row: &mut Row) -> Result<(), (&'static str, String)> {
        let Some(c) = self.components.get(&row.component_id) else {
            return Err((
                "component",
                format!("`{}` is no longer in the catalog.", row.component),
            ));
        };
        row.component = c.name.clone();
        row.binding = None;
        if row.action.needs_connector() {
            let binding = binding_of(c, &row.action);
            bound_enough(c, &row.action, &binding).map_err(|m| ("action", m))?;
            row.binding = Some(binding);
        }
        if let Some(restore) = row.restore.as_mut() {
            restore.undo_version = self.produced(c.id).unwrap_or_default().to_string();
            restore.since = self.deployed_at;
            let declared = c.retention.as_deref().and_then(retention_parts);
            if let Some((engine, hours)) = declared {
                restore.retention = Retention::Declared { engine, hours };
            }
            restore.code_version = self.code_before(c.id);
            if restore.target_version.trim().is_empty() {
                restore.target_version =
                    self.before_version(c.id).unwrap_or_else(|| PREVIOUS.into());
            }
            restore.target_version = restore.target_version.trim().to_string();
            if restore.target_version == restore.undo_version {
                return Err((
                    "target_version",
                    format!(
                        "{} is the version this change produced: restore the one before it (`{PREVIOUS}` or an earlier id).",
                        restore.undo_version
                    ),
                ));
            }
        }
        Ok(())
    }

    /// Rows whose snapshot differs from the catalog now, as sentences.
    pub fn drift(&self, body: &PlanBody) -> Vec<Drift> {
        body.rows()
            .filter_map(|(s, r, row)| {
                let then = row.binding.as_ref()?;
                let now = self.binding_now(row.component_id, &row.action);
                let what = match now {
                    None => "the component was removed from the catalog".to_string(),
                    Some(now) if now == *then => return None,
                    Some(now) => describe_drift(then, &now),
                };
                Some(Drift {
                    at: format!("stage {s} row {r}"),
                    component: row.component.clone(),
                    what,
                })
            })
            .collect()
    }

    /// The versions the editor offers per component: the one before the change first.
    pub fn version_options(&self) -> Vec<VersionOption> {
        let mut out: Vec<VersionOption> = self
            .history
            .values()
            .flatten()
            .map(|v| VersionOption {
                component_id: v.component_id,
                version: v.data_version.clone(),
                label: format!(
                    "{} — produced {} UTC by change #{} “{}”",
                    v.data_version,
                    v.deployed_at.format("%Y-%m-%d %H:%M"),
                    v.change_id,
                    v.title
                ),
            })
            .collect();
        out.sort_by_key(|o| o.component_id);
        out
    }
}

/// The part of a component's binding an action uses: its DAG (production or rollback) and
/// connector, or the connector alone for a webhook.
fn binding_of(c: &BindingRow, action: &Action) -> Binding {
    let connector = match (
        &c.connector_id,
        &c.connector_kind,
        &c.connector_name,
        &c.connector_url,
    ) {
        (Some(id), Some(kind), Some(name), Some(url)) => Some(ConnectorSnapshot {
            id: *id,
            kind: kind.clone(),
            name: name.clone(),
            base_url: url.clone(),
        }),
        _ => None,
    };
    let (dag_id, rollback_dag_id) = match action {
        Action::TriggerRollback { .. } => (None, c.rollback_dag_id.clone()),
        Action::PauseDag | Action::UnpauseDag | Action::ClearRerun => (c.dag_id.clone(), None),
        Action::Webhook | Action::Manual { .. } => (None, None),
    };
    Binding {
        connector,
        dag_id,
        rollback_dag_id,
    }
}

/// A row that calls an orchestrator needs the DAG and connector it calls.
fn bound_enough(c: &BindingRow, action: &Action, b: &Binding) -> Result<(), String> {
    let Some(connector) = &b.connector else {
        return Err(format!(
            "`{}` is bound to no connector in the catalog: bind it, or make this a manual step.",
            c.name
        ));
    };
    let wants = if action.needs_dag() {
        "airflow3"
    } else {
        "webhook"
    };
    if connector.kind != wants {
        return Err(format!(
            "`{}` runs on the {} connector `{}`, which cannot {}.",
            c.name,
            connector.kind,
            connector.name,
            action.label().to_lowercase()
        ));
    }
    if action.needs_dag() && b.dag_for(action).is_none() {
        let which = match action {
            Action::TriggerRollback { .. } => "rollback DAG",
            _ => "production DAG",
        };
        return Err(format!(
            "`{}` has no {which} in the catalog: bind one, or choose another action.",
            c.name
        ));
    }
    Ok(())
}

fn describe_drift(then: &Binding, now: &Binding) -> String {
    let mut parts = Vec::new();
    let show = |v: &Option<String>| v.clone().unwrap_or_else(|| "none".into());
    if then.dag_id != now.dag_id {
        parts.push(format!(
            "production DAG `{}` → `{}`",
            show(&then.dag_id),
            show(&now.dag_id)
        ));
    }
    if then.rollback_dag_id != now.rollback_dag_id {
        parts.push(format!(
            "rollback DAG `{}` → `{}`",
            show(&then.rollback_dag_id),
            show(&now.rollback_dag_id)
        ));
    }
    let conn = |c: &Option<ConnectorSnapshot>| {
        c.as_ref()
            .map(|c| format!("{} ({})", c.name, c.base_url))
            .unwrap_or_else(|| "none".into())
    };
    if then.connector != now.connector {
        parts.push(format!(
            "connector {} → {}",
            conn(&then.connector),
            conn(&now.connector)
        ));
    }
    parts.join("; ")
}
