//! Who hears of an audited state change. Runs inside the transaction that records the event, so a
//! notification exists exactly when its cause does; the delivery worker sends it later.

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};
use serde_json::Value;

use super::{
    model::Kind,
    repo::{self, To},
};
use crate::{
    approvals::quorum::Requirement,
    audit::repo::AuditRow,
    db::{DbError, Tx},
    tx_run,
};

/// What one event tells whom.
struct Message {
    kind: Kind,
    to: BTreeSet<i64>,
    subject: String,
    body: String,
    link: String,
    /// The plan and change it concerns: their approval groups' and components' tags' team
    /// channels hear of it too.
    plan_id: Option<i64>,
    change_id: i64,
}

/// Writes the notifications (and their deliveries) an event causes; most events cause none.
pub async fn route(tx: &mut Tx, event: &AuditRow) -> Result<(), DbError> {
    let mut message = match message_for(tx, event).await {
        Ok(Some(m)) => m,
        Ok(None) => return Ok(()),
        // A row the message names is missing: the state change goes on, untold (and logged).
        Err(DbError::NotFound) => {
            tracing::warn!(seq = event.seq, action = %event.action, "no notification: a row it names is missing");
            return Ok(());
        }
        Err(e) => return Err(e),
    };
    // Never to the person who caused the event.
    if let Some(actor) = event.actor_id {
        message.to.remove(&actor);
    }
    let ids: Vec<i64> = message.to.iter().copied().collect();
    let people = repo::reachable(tx, &ids).await?;
    let groups = match message.plan_id {
        Some(plan) => requirements(tx, plan)
            .await?
            .iter()
            .map(|r| r.group_id)
            .collect(),
        None => Vec::new(),
    };
    let tags = repo::change_tags(tx, message.change_id).await?;
    let teams = repo::team_channels_for(tx, &groups, &tags).await?;
    if people.is_empty() && teams.is_empty() {
        return Ok(());
    }
    let at = event.at;
    let new = repo::NewMessage {
        kind: message.kind,
        audit_seq: event.seq,
        entity_type: &event.entity_type,
        entity_id: &event.entity_id,
        subject: &message.subject,
        body: &message.body,
        link: &message.link,
        at,
    };
    let id = repo::insert_message(tx, &new).await?;
    let email = repo::mail_configured(tx).await?;
    for person in &people {
        repo::insert_notification(tx, id, person.id).await?;
        if email {
            let address = person.email.clone().unwrap_or_default();
            repo::insert_delivery(tx, id, To::Person(person.id), "email", &address, at).await?;
        }
    }
    for team in &teams {
        repo::insert_delivery(tx, id, To::Team(team.id), &team.kind, &team.url_origin, at).await?;
    }
    if email || !teams.is_empty() {
        if let Tx::Postgres(t) = tx {
            sqlx::query("SELECT pg_notify($1, '')")
                .bind(super::CHANNEL)
                .execute(&mut **t)
                .await?;
        }
        // This process's worker waits for the commit: SQLite's writer lock, or the LISTEN relay on PostgreSQL.
        super::wake();
    }
    Ok(())
}

/// The approval requirements of the plan's current revision (none before it is submitted).
async fn requirements(tx: &mut Tx, plan_id: i64) -> Result<Vec<Requirement>, DbError> {
    let sql =
        "SELECT r.requirements_json FROM approval_requests r JOIN plans p ON p.id = r.plan_id \
               AND r.revision = p.current_revision WHERE r.plan_id = $1";
    let json: Option<String> = tx_run!(tx, |c| sqlx::query_scalar(sql)
        .bind(plan_id)
        .fetch_optional(c)
        .await)?;
    Ok(json
        .and_then(|j| serde_json::from_str(&j).ok())
        .unwrap_or_default())
}

async fn message_for(tx: &mut Tx, e: &AuditRow) -> Result<Option<Message>, DbError> {
    let Ok(id) = e.entity_id.parse::<i64>() else {
        return Ok(None);
    };
    let who = e
        .actor_username
        .clone()
        .unwrap_or_else(|| "Rollgate".into());
    let after: Value = serde_json::from_str(&e.after_json).unwrap_or(Value::Null);
    Ok(match (e.entity_type.as_str(), e.action.as_str()) {
        ("plan", "plan.submitted") => Some(approval_requested(tx, id, &who).await?),
        ("plan", "plan.approved" | "plan.rejected") => {
            Some(plan_decided(tx, id, &who, e.action == "plan.approved", &after).await?)
        }
        ("plan", "plan.revised") => approvals_voided(tx, id, &who).await?,
        ("plan", "plan.signed_off") => Some(signed_off(tx, id).await?),
        ("execution", action) => execution(tx, id, action, &who).await?,
        ("postmortem", "postmortem.submitted" | "postmortem.published") => {
            Some(postmortem(tx, id, &who, e.action == "postmortem.published").await?)
        }
        ("action_item", "action_item.created" | "action_item.updated") => {
            let before: Value = serde_json::from_str(&e.before_json).unwrap_or(Value::Null);
            item_assigned(tx, id, &who, &before, &after).await?
        }
        _ => None,
    })
}

#[derive(sqlx::FromRow)]
struct PlanFacts {
    change_id: i64,
    title: String,
    drafter: i64,
    change_author: i64,
    revision: i32,
}

async fn plan_facts(tx: &mut Tx, plan_id: i64) -> Result<PlanFacts, DbError> {
    let sql = "SELECT p.change_id, c.title, p.author_id AS drafter, c.author_id AS change_author, \
               p.current_revision AS revision FROM plans p JOIN changes c ON c.id = p.change_id WHERE p.id = $1";
    Ok(tx_run!(tx, |c| sqlx::query_as(sql)
        .bind(plan_id)
        .fetch_one(c)
        .await)?)
}

/// The plan's own people: its drafter, the change's author and whoever submitted it.
async fn plan_people(tx: &mut Tx, plan_id: i64, f: &PlanFacts) -> Result<BTreeSet<i64>, DbError> {
    let sql = "SELECT DISTINCT submitted_by FROM approval_requests WHERE plan_id = $1";
    let submitters: Vec<i64> = tx_run!(tx, |c| sqlx::query_scalar(sql)
        .bind(plan_id)
        .fetch_all(c)
        .await)?;
    let mut to: BTreeSet<i64> = submitters.into_iter().collect();
    to.extend([f.drafter, f.change_author]);
    Ok(to)
}

/// Who approved the plan's revision (and has not been voided).
async fn approvers(tx: &mut Tx, plan_id: i64, revision: i32) -> Result<Vec<i64>, DbError> {
    let sql = "SELECT approver_id FROM approval_decisions WHERE plan_id = $1 AND revision = $2 \
               AND decision = 'approve' AND voided_at IS NULL";
    Ok(tx_run!(tx, |c| sqlx::query_scalar(sql)
        .bind(plan_id)
        .bind(revision)
        .fetch_all(c)
        .await)?)
}

async fn approval_requested(tx: &mut Tx, plan_id: i64, who: &str) -> Result<Message, DbError> {
    let f = plan_facts(tx, plan_id).await?;
    let requirements = requirements(tx, plan_id).await?;
    let groups: Vec<i64> = requirements.iter().map(|r| r.group_id).collect();
    let mut to: BTreeSet<i64> = repo::approvers_in(tx, &groups).await?.into_iter().collect();
    // People who shaped the plan cannot decide on it: they are not asked.
    for hand in plan_people(tx, plan_id, &f).await? {
        to.remove(&hand);
    }
    let needs = requirements
        .iter()
        .map(|r| {
            format!(
                "{} ({} approval{})",
                r.group,
                r.count,
                if r.count == 1 { "" } else { "s" }
            )
        })
        .collect::<Vec<_>>()
        .join(", ");
    Ok(Message {
        kind: Kind::ApprovalRequested,
        to,
        subject: format!("Approval needed: rollback plan for “{}”", f.title),
        body: format!(
            "{who} submitted the rollback plan for change #{} “{}” (revision {}). It needs: {needs}. \
             You are in a group that must decide; open the plan to review exactly what will run.",
            f.change_id, f.title, f.revision
        ),
        link: format!("/plans/{plan_id}"),
        plan_id: Some(plan_id),
        change_id: f.change_id,
    })
}

async fn plan_decided(
    tx: &mut Tx,
    plan_id: i64,
    who: &str,
    approved: bool,
    after: &Value,
) -> Result<Message, DbError> {
    let f = plan_facts(tx, plan_id).await?;
    let mut to = plan_people(tx, plan_id, &f).await?;
    to.extend(approvers(tx, plan_id, f.revision).await?);
    let reason = after
        .get("reason")
        .and_then(Value::as_str)
        .filter(|r| !r.is_empty())
        .map(|r| format!(" Their reason: “{r}”."))
        .unwrap_or_default();
    let (kind, verb) = if approved {
        (Kind::PlanApproved, "approved")
    } else {
        (Kind::PlanRejected, "rejected")
    };
    Ok(Message {
        kind,
        to,
        subject: format!("{who} {verb} the rollback plan for “{}”", f.title),
        body: format!(
            "{who} {verb} revision {} of the rollback plan for change #{} “{}”.{reason}",
            f.revision, f.change_id, f.title
        ),
        link: format!("/plans/{plan_id}"),
        plan_id: Some(plan_id),
        change_id: f.change_id,
    })
}

/// An edit of a submitted plan voids the approvals of the revision before it.
async fn approvals_voided(
    tx: &mut Tx,
    plan_id: i64,
    who: &str,
) -> Result<Option<Message>, DbError> {
    let f = plan_facts(tx, plan_id).await?;
    let sql =
        "SELECT DISTINCT approver_id FROM approval_decisions WHERE plan_id = $1 AND revision = $2 \
               AND voided_at IS NOT NULL";
    let voided: Vec<i64> = tx_run!(tx, |c| sqlx::query_scalar(sql)
        .bind(plan_id)
        .bind(f.revision - 1)
        .fetch_all(c)
        .await)?;
    if voided.is_empty() {
        return Ok(None);
    }
    Ok(Some(Message {
        kind: Kind::ApprovalsVoided,
        to: voided.into_iter().collect(),
        subject: format!("Your decision was voided: the plan for “{}” changed", f.title),
        body: format!(
            "{who} revised the rollback plan for change #{} “{}” (now revision {}), so decisions on the \
             earlier revision no longer count. Compare the revisions and decide again.",
            f.change_id, f.title, f.revision
        ),
        link: format!("/plans/{plan_id}/compare"),
        plan_id: Some(plan_id),
        change_id: f.change_id,
    }))
}

/// The plan's stakeholders learn a rollback is coming, when, and what it costs them.
async fn signed_off(tx: &mut Tx, plan_id: i64) -> Result<Message, DbError> {
    let f = plan_facts(tx, plan_id).await?;
    let mut to = plan_people(tx, plan_id, &f).await?;
    to.extend(approvers(tx, plan_id, f.revision).await?);
    to.extend(repo::component_owners(tx, f.change_id).await?);
    let sql = "SELECT r.body_json, e.run_after FROM plan_revisions r JOIN sign_offs s ON s.plan_id = r.plan_id \
               AND s.revision = r.number JOIN executions e ON e.sign_off_id = s.id \
               WHERE r.plan_id = $1 AND r.number = $2 ORDER BY e.id DESC LIMIT 1";
    let (body, run_after): (String, Option<DateTime<Utc>>) = tx_run!(tx, |c| sqlx::query_as(sql)
        .bind(plan_id)
        .bind(f.revision)
        .fetch_one(c)
        .await)?;
    let body: Value = serde_json::from_str(&body).unwrap_or(Value::Null);
    let field = |k: &str| {
        body.get(k)
            .and_then(Value::as_str)
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .unwrap_or("not stated")
            .to_string()
    };
    let when = match run_after {
        Some(t) if t > Utc::now() => format!(
            "It is scheduled for the window at {} UTC.",
            t.format("%Y-%m-%d %H:%M")
        ),
        _ => "It starts now.".to_string(),
    };
    Ok(Message {
        kind: Kind::SignedOff,
        to,
        subject: format!("Rollback signed off: “{}”", f.title),
        body: format!(
            "The rollback of change #{} “{}” is signed off. {when} Expected duration: {}. \
             Expected impact and data gaps: {}. Data consumers: {}.",
            f.change_id,
            f.title,
            field("expected_duration"),
            field("expected_impact"),
            field("consumers")
        ),
        link: format!("/plans/{plan_id}"),
        plan_id: Some(plan_id),
        change_id: f.change_id,
    })
}

async fn execution(
    tx: &mut Tx,
    id: i64,
    action: &str,
    who: &str,
) -> Result<Option<Message>, DbError> {
    let (kind, what) = match action {
        "execution.started" => (Kind::ExecutionStarted, "started"),
        "execution.halted" => (Kind::ExecutionHalted, "halted and needs an operator"),
        "execution.succeeded" => (Kind::RolledBack, "finished: the change is rolled back"),
        "execution.aborted" => (Kind::ExecutionAborted, "was aborted"),
        _ => return Ok(None),
    };
    let sql = "SELECT plan_id, reason FROM executions WHERE id = $1";
    let (plan_id, reason): (i64, String) =
        tx_run!(tx, |c| sqlx::query_as(sql).bind(id).fetch_one(c).await)?;
    let f = plan_facts(tx, plan_id).await?;
    let mut to = plan_people(tx, plan_id, &f).await?;
    if kind != Kind::ExecutionHalted {
        to.extend(approvers(tx, plan_id, f.revision).await?);
    }
    let detail = match kind {
        Kind::ExecutionHalted if !reason.is_empty() => format!(" Why: {reason}"),
        Kind::ExecutionAborted => format!(" Aborted by {who}."),
        _ => String::new(),
    };
    Ok(Some(Message {
        kind,
        to,
        subject: format!(
            "Rollback #{id} {}: “{}”",
            kind.label().to_lowercase().replace("rollback ", ""),
            f.title
        ),
        body: format!(
            "The rollback of change #{} “{}” {what}.{detail}",
            f.change_id, f.title
        ),
        link: format!("/executions/{id}"),
        plan_id: Some(plan_id),
        change_id: f.change_id,
    }))
}

async fn postmortem(tx: &mut Tx, id: i64, who: &str, published: bool) -> Result<Message, DbError> {
    let sql = "SELECT p.author_id, p.change_id, c.title, c.author_id FROM postmortems p \
               JOIN changes c ON c.id = p.change_id WHERE p.id = $1";
    let (author, change_id, title, change_author): (i64, i64, String, i64) =
        tx_run!(tx, |c| sqlx::query_as(sql).bind(id).fetch_one(c).await)?;
    let (kind, to, subject, body) = if published {
        let mut to: BTreeSet<i64> = repo::item_owners(tx, id).await?.into_iter().collect();
        to.extend([author, change_author]);
        (
            Kind::PostmortemPublished,
            to,
            format!("Postmortem published: “{title}”"),
            format!("{who} published the postmortem of change #{change_id} “{title}”."),
        )
    } else {
        let mut to: BTreeSet<i64> = repo::postmortem_reviewers(tx).await?.into_iter().collect();
        to.remove(&author);
        (
            Kind::PostmortemInReview,
            to,
            format!("Postmortem to review: “{title}”"),
            format!(
                "{who} sent the postmortem of change #{change_id} “{title}” for review. A postmortem \
                 author or administrator other than its author publishes it."
            ),
        )
    };
    Ok(Message {
        kind,
        to,
        subject,
        body,
        link: format!("/postmortems/{id}"),
        plan_id: None,
        change_id,
    })
}

/// A new item, or one given to someone else, tells its (new) owner.
async fn item_assigned(
    tx: &mut Tx,
    id: i64,
    who: &str,
    before: &Value,
    after: &Value,
) -> Result<Option<Message>, DbError> {
    if !before.is_null() && before.get("owner") == after.get("owner") {
        return Ok(None);
    }
    let sql = "SELECT i.owner_id, i.title, i.due_on, c.title, c.id FROM action_items i \
               JOIN postmortems p ON p.id = i.postmortem_id JOIN changes c ON c.id = p.change_id WHERE i.id = $1";
    let (owner, title, due, change, change_id): (i64, String, chrono::NaiveDate, String, i64) =
        tx_run!(tx, |c| sqlx::query_as(sql).bind(id).fetch_one(c).await)?;
    Ok(Some(Message {
        kind: Kind::ItemAssigned,
        to: BTreeSet::from([owner]),
        subject: format!("Action item for you: {title}"),
        body: format!(
            "{who} gave you an action item from the postmortem of “{change}”: “{title}”, due {due}."
        ),
        link: format!("/action-items/{id}"),
        plan_id: None,
        change_id,
    }))
}
