//! The plan Rollgate proposes for a change: its components and everything downstream, paused
//! first, then restored or recomputed layer by layer (upstream before downstream, one layer per
//! stage so each is verified before the next), then unpaused.

use std::collections::{HashMap, HashSet, VecDeque};

use chrono::{DateTime, Utc};

use super::model::{Action, Check, PlanBody, Restore, Retention, Row, Stage};
use crate::catalog::{graph::Graph, model::ComponentKind};

/// What the proposal needs to know about one component.
#[derive(Debug, Clone)]
pub struct Candidate {
    pub id: i64,
    pub name: String,
    pub kind: ComponentKind,
    pub owner: String,
    pub dag_id: Option<String>,
    pub rollback_dag_id: Option<String>,
    /// The data version the change produced, for components the change touched.
    pub data_version: Option<String>,
}

pub struct Proposal<'a> {
    pub title: &'a str,
    pub deployed_at: DateTime<Utc>,
    pub requester: &'a str,
    /// The change's components (in the change's order) followed by their downstream ones.
    pub candidates: Vec<Candidate>,
    pub lineage: &'a Graph,
}

impl Proposal<'_> {
    pub fn body(&self) -> PlanBody {
        let layers = layers(&self.candidates, self.lineage);
        let depth = layers.values().copied().max().unwrap_or(0);
        // Jobs restored by their rollback DAG are paused meanwhile; a job re-run by clear and
        // re-run is not (Airflow keeps a paused DAG's runs queued: the re-run would never start).
        let jobs: Vec<&Candidate> = self
            .candidates
            .iter()
            .filter(|c| c.dag_id.is_some() && c.rollback_dag_id.is_some())
            .collect();
        let mut stages = Vec::new();
        if !jobs.is_empty() {
            stages.push(Stage {
                rows: jobs.iter().map(|c| self.row(c, Action::PauseDag)).collect(),
            });
        }
        for layer in 0..=depth {
            let rows: Vec<Row> = self
                .candidates
                .iter()
                .filter(|c| layers.get(&c.id) == Some(&layer))
                .map(|c| self.row(c, self.restore_action(c)))
                .collect();
            if !rows.is_empty() {
                stages.push(Stage { rows });
            }
        }
        if !jobs.is_empty() {
            stages.push(Stage {
                rows: jobs
                    .iter()
                    .map(|c| self.row(c, Action::UnpauseDag))
                    .collect(),
            });
        }
        PlanBody {
            reason: format!("Roll back the change “{}”.", self.title),
            criteria: String::new(),
            expected_impact: String::new(),
            expected_duration: String::new(),
            consumers: String::new(),
            communication: String::new(),
            stages,
        }
    }

    fn restore_action(&self, c: &Candidate) -> Action {
        match (&c.rollback_dag_id, &c.dag_id, c.kind) {
            (Some(_), _, _) => Action::TriggerRollback {
                params: "{}".into(),
            },
            (None, Some(_), _) => Action::ClearRerun,
            (None, None, ComponentKind::Dashboard) => Action::Manual {
                instructions: format!(
                    "Refresh “{}” once its sources are restored and tell its viewers.",
                    c.name
                ),
            },
            (None, None, _) => match &c.data_version {
                Some(v) if !v.is_empty() => Action::Manual {
                    instructions: format!("Restore “{}” to the version before {v}.", c.name),
                },
                _ => Action::Manual {
                    instructions: format!("Rebuild “{}” from its restored upstream data.", c.name),
                },
            },
        }
    }

    fn row(&self, c: &Candidate, action: Action) -> Row {
        let checks = match action {
            Action::TriggerRollback { .. } | Action::ClearRerun => vec![Check::RunSucceeded],
            _ => Vec::new(),
        };
        let restores = !matches!(action, Action::PauseDag | Action::UnpauseDag);
        Row {
            component_id: c.id,
            component: c.name.clone(),
            scope: "all".into(),
            checks,
            flagging: String::new(),
            owner: if c.owner.is_empty() {
                self.requester.to_string()
            } else {
                c.owner.clone()
            },
            restore: c
                .data_version
                .as_ref()
                .filter(|v| restores && !v.is_empty())
                .map(|v| Restore {
                    // Drafting replaces it with the version before the change, when known.
                    target_version: super::model::PREVIOUS.into(),
                    undo_version: v.clone(),
                    code_version: None,
                    since: self.deployed_at,
                    retention: Retention::SnowflakeTimeTravel,
                }),
            binding: None,
            deadline_minutes: None,
            action,
        }
    }
}

/// Longest-path layer of each candidate within the candidates' induced lineage, so every edge
/// between two candidates goes to a later layer.
fn layers(candidates: &[Candidate], lineage: &Graph) -> HashMap<i64, u32> {
    let members: HashSet<i64> = candidates.iter().map(|c| c.id).collect();
    let mut indegree: HashMap<i64, usize> = members.iter().map(|&id| (id, 0)).collect();
    for &id in &members {
        for child in lineage.children(id) {
            if let Some(d) = indegree.get_mut(child) {
                *d += 1;
            }
        }
    }
    // Candidates in their given order, so the proposal is deterministic.
    let mut ready: VecDeque<i64> = candidates
        .iter()
        .map(|c| c.id)
        .filter(|id| indegree.get(id) == Some(&0))
        .collect();
    let mut layer: HashMap<i64, u32> = HashMap::new();
    while let Some(id) = ready.pop_front() {
        let here = *layer.entry(id).or_insert(0);
        for child in lineage.children(id) {
            if let Some(d) = indegree.get_mut(child) {
                let l = layer.entry(*child).or_insert(0);
                *l = (*l).max(here + 1);
                *d -= 1;
                if *d == 0 {
                    ready.push_back(*child);
                }
            }
        }
    }
    layer
}
