//! Approval policies: which one governs a plan, the default an installation starts with, and
//! saving an admin's policy. Deciding lives in `decide`.

use chrono::Utc;
use serde_json::json;

use super::{
    policy::{choose, Policy, Scope},
    quorum, repo,
};
use crate::{
    audit::repo::{append, Ctx, NewAuditEvent},
    db::{Conn, Db, DbError},
    error::FieldError,
    groups,
    plans::{repo as plans_repo, service::PlanError},
};

pub use super::decide::{decide, Decision, Outcome};

/// The policy governing a plan over these components (the seeded default when none matches).
pub async fn policy_for(conn: &mut Conn<'_>, component_ids: &[i64]) -> Result<Policy, PlanError> {
    let policies = repo::policies(conn).await?;
    let tags = plans_repo::tags_of(conn, component_ids).await?;
    let pipelines: Vec<String> = plans_repo::candidates(conn, component_ids)
        .await?
        .into_iter()
        .filter(|c| c.kind == "job")
        .map(|c| c.name)
        .collect();
    choose(&policies, &tags, &pipelines)
        .cloned()
        .ok_or_else(|| PlanError::Refused("No approval policy applies to this plan: an admin must create a default policy first.".into()))
}

/// Creates the default policy (one approval each from the default groups, 24 h expiry, no
/// windows, engineering for break-glass) in an installation that has none.
pub async fn ensure_default_policy(db: &Db) -> Result<(), PlanError> {
    let mut conn = Conn::Db(db);
    if !repo::policies(&mut conn).await?.is_empty() {
        return Ok(());
    }
    let groups = groups::repo::list_groups(&mut conn).await?;
    let requirements: Vec<quorum::Requirement> = groups::model::DEFAULT_GROUPS
        .iter()
        .filter_map(|(name, _)| groups.iter().find(|g| g.name == *name))
        .map(|g| quorum::Requirement {
            group_id: g.id,
            group: g.name.clone(),
            count: 1,
            break_glass: false,
        })
        .collect();
    if requirements.is_empty() {
        return Ok(());
    }
    let engineering = groups
        .iter()
        .find(|g| g.name == "Engineering")
        .map(|g| (g.id, g.name.clone()));
    let policy = Policy {
        id: 0,
        name: "Default".into(),
        scope: Scope::Default,
        requirements,
        expiry_hours: 24,
        windows: Vec::new(),
        break_glass: engineering,
        version: 1,
    };
    let mut tx = db.begin().await?;
    match repo::save_policy(&mut tx, &policy, Utc::now()).await {
        Err(DbError::Conflict { .. }) => return Ok(()), // another instance seeded it
        other => {
            other?;
        }
    }
    append(&mut tx, &Ctx::system(), NewAuditEvent {
        action: "policy.created",
        entity_type: "policy",
        entity_id: "Default".into(),
        before: serde_json::Value::Null,
        after: json!({"name": "Default", "requirements": policy.requirements.iter().map(|r| format!("{} × {}", r.count, r.group)).collect::<Vec<_>>(), "expiry_hours": 24}),
    })
    .await?;
    tx.commit().await?;
    Ok(())
}

/// A policy as the admin form sends it.
#[derive(Debug, Clone, Default)]
pub struct PolicyInput {
    pub id: i64,
    pub version: i64,
    pub name: String,
    pub scope: String,
    pub scope_value: String,
    pub requirements: String,
    pub expiry_hours: String,
    pub windows: String,
    pub break_glass_group: String,
}

/// Checks and saves a policy (new when `id` is 0) with its audit event.
pub async fn save_policy(db: &Db, ctx: &Ctx, input: PolicyInput) -> Result<i64, PlanError> {
    let mut conn = Conn::Db(db);
    let groups = groups::repo::list_groups(&mut conn).await?;
    let by_name: std::collections::HashMap<String, (i64, String)> = groups
        .iter()
        .map(|g| (g.name.to_lowercase(), (g.id, g.name.clone())))
        .collect();
    let mut errors = Vec::new();
    let name = crate::validate::text("name", &input.name, 80, true, false)
        .map_err(|e| errors.push(e))
        .unwrap_or_default();
    let value = input.scope_value.trim().to_string();
    let scope = match input.scope.as_str() {
        "default" => Scope::Default,
        "tag" | "pipeline" if value.is_empty() => {
            errors.push(FieldError::new(
                "scope_value",
                "Name the tag or pipeline this policy governs.",
            ));
            Scope::Default
        }
        "tag" => Scope::Tag(value),
        "pipeline" => Scope::Pipeline(value),
        _ => {
            errors.push(FieldError::new(
                "scope",
                "Choose what the policy applies to.",
            ));
            Scope::Default
        }
    };
    let requirements = super::policy::parse_requirements(&input.requirements, &by_name)
        .map_err(|e| errors.push(e))
        .unwrap_or_default();
    let expiry_hours = input
        .expiry_hours
        .trim()
        .parse::<i64>()
        .ok()
        .filter(|h| (1..=8760).contains(h))
        .ok_or_else(|| {
            errors.push(FieldError::new(
                "expiry_hours",
                "Give the hours an approval counts, from 1 to 8760.",
            ))
        })
        .unwrap_or(24);
    let windows = super::policy::parse_windows(&input.windows)
        .map_err(|e| errors.push(e))
        .unwrap_or_default();
    let break_glass = match input.break_glass_group.trim() {
        "" => None,
        g => match by_name.get(&g.to_lowercase()) {
            Some(x) => Some(x.clone()),
            None => {
                errors.push(FieldError::new(
                    "break_glass_group",
                    format!("There is no group named `{g}`."),
                ));
                None
            }
        },
    };
    if !errors.is_empty() {
        return Err(PlanError::Invalid(errors));
    }
    let policy = Policy {
        id: input.id,
        name,
        scope,
        requirements,
        expiry_hours,
        windows,
        break_glass,
        version: input.version,
    };
    let before = repo::policies(&mut conn)
        .await?
        .into_iter()
        .find(|p| p.id == input.id);
    let mut tx = db.begin().await?;
    let id = match repo::save_policy(&mut tx, &policy, Utc::now()).await {
        Ok(Some(id)) => id,
        Ok(None) => {
            return Err(PlanError::Refused(
                "Someone saved this policy after you opened it: reload and edit again.".into(),
            ))
        }
        Err(DbError::Conflict { constraint })
            if constraint.starts_with("approval_policies_name") =>
        {
            return Err(PlanError::Invalid(vec![FieldError::new(
                "name",
                "Another policy has this name.",
            )]))
        }
        Err(DbError::Conflict { .. }) => {
            return Err(PlanError::Invalid(vec![FieldError::new(
                "scope_value",
                "Another policy already governs exactly this scope.",
            )]))
        }
        Err(e) => return Err(e.into()),
    };
    let snapshot = |p: &Policy| {
        json!({"name": p.name, "scope": p.scope.describe(), "expiry_hours": p.expiry_hours,
               "requirements": p.requirements.iter().map(|r| format!("{} × {}", r.count, r.group)).collect::<Vec<_>>(),
               "windows": super::policy::format_windows(&p.windows), "break_glass_group": p.break_glass.as_ref().map(|b| b.1.clone())})
    };
    append(
        &mut tx,
        ctx,
        NewAuditEvent {
            action: if before.is_some() {
                "policy.updated"
            } else {
                "policy.created"
            },
            entity_type: "policy",
            entity_id: id.to_string(),
            before: before
                .as_ref()
                .map(snapshot)
                .unwrap_or(serde_json::Value::Null),
            after: snapshot(&policy),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(id)
}
