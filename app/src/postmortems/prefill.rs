//! What a new postmortem starts with: the facts Rollgate already holds, written out so the
//! author edits rather than retypes them.

use super::{model::Sections, repo, timeline};
use crate::{
    changes::model::Change,
    db::{Conn, DbError, Tx},
};

/// The trigger and impact sections from the change, its latest plan and its rollbacks.
pub async fn sections(tx: &mut Tx, change: &Change) -> Result<Sections, DbError> {
    let mut out = Sections::new();
    out.insert("trigger".into(), trigger(change));
    let (plans, executions) = repo::rollbacks_of(&mut Conn::Tx(tx), change.id).await?;
    let plan_ids: Vec<i64> = plans.iter().map(|(id, _)| *id).collect();
    let events = repo::source_events(
        &mut Conn::Tx(tx),
        change.id,
        &plan_ids,
        &executions,
        super::service::TIMELINE_LIMIT,
    )
    .await?;
    let figures = timeline::figures(change.deployed_at, None, &events, &[]);
    let mut impact = Vec::new();
    let names: Vec<&str> = change
        .components
        .iter()
        .map(|a| a.component.name.as_str())
        .collect();
    if !names.is_empty() {
        impact.push(format!("Changed components: {}.", names.join(", ")));
    }
    if let Some((plan, revision)) = plans.last() {
        let body = crate::plans::repo::revision(&mut Conn::Tx(tx), *plan, *revision)
            .await?
            .body()?;
        let mut rolled: Vec<&str> = body.rows().map(|(_, _, r)| r.component.as_str()).collect();
        rolled.dedup();
        if !rolled.is_empty() {
            impact.push(format!("Rolled back by the plan: {}.", rolled.join(", ")));
        }
        for (label, text) in [
            ("Consumers named in the plan", &body.consumers),
            ("Expected impact stated in the plan", &body.expected_impact),
            (
                "Expected duration stated in the plan",
                &body.expected_duration,
            ),
        ] {
            if !text.trim().is_empty() {
                impact.push(format!("{label}: {}", text.trim()));
            }
        }
    }
    let rolled_back = events
        .iter()
        .rev()
        .find(|e| e.action == "execution.succeeded")
        .map(|e| e.at);
    if let (Some(end), Some(minutes)) = (rolled_back, figures.to_rolled_back_minutes) {
        impact.push(format!(
            "Data produced from {} (deployment) to {} (rolled back) was affected: {}.",
            change.deployed_at.format("%Y-%m-%d %H:%M UTC"),
            end.format("%Y-%m-%d %H:%M UTC"),
            timeline::minutes_label(minutes)
        ));
    }
    if !impact.is_empty() {
        out.insert("impact".into(), impact.join("\n"));
    }
    for text in out.values_mut() {
        *text = text.chars().take(super::model::SECTION_MAX).collect();
    }
    Ok(out)
}

fn trigger(change: &Change) -> String {
    format!(
        "Change #{} “{}” ({}), deployed {}: {}",
        change.id,
        change.title,
        change.kind.label(),
        change.deployed_at.format("%Y-%m-%d %H:%M UTC"),
        change.why.trim()
    )
}
