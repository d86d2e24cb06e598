//! Server functions for plans and decisions. Each authorizes first, then calls one service.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use super::{
    diff::PlanDiff,
    form::PlanForm,
    model::PlanBody,
    page::{InboxItem, PlanPage, RevisionMeta},
};
use crate::error::AppError;

#[cfg(feature = "ssr")]
fn actor(user: &crate::auth::CurrentUser) -> crate::audit::Actor {
    crate::audit::Actor {
        id: user.id,
        username: user.username.clone(),
    }
}

/// Drafts the proposed plan for a change (or opens the existing one).
#[server(endpoint = "plans/draft")]
pub async fn draft_plan(change_id: i64) -> Result<i64, AppError> {
    use crate::auth::{guard, Permission};
    crate::error::respond(
        async move {
            let user = guard::require(Permission::PlanRollbacks).await?;
            let db = guard::app_state()?.db;
            let id =
                super::service::draft(&db, &guard::ctx(&user), &actor(&user), change_id).await?;
            leptos_axum::redirect(&format!("/plans/{id}"));
            Ok(id)
        }
        .await,
    )
}

#[server(endpoint = "plans/get")]
pub async fn get_plan(id: i64) -> Result<PlanPage, AppError> {
    use crate::auth::{guard, Permission};
    crate::error::respond(
        async move {
            let user = guard::require(Permission::Read).await?;
            let db = guard::app_state()?.db;
            Ok(super::load::page(&db, &user, id).await?)
        }
        .await,
    )
}

/// The plans of a change, newest first: at most one open, the others withdrawn or aborted.
#[server(endpoint = "plans/of_change")]
pub async fn plans_of_change(change_id: i64) -> Result<Vec<super::page::PlanOfChange>, AppError> {
    use crate::{
        auth::{guard, Permission},
        db::Conn,
        plans::model::PlanStatus,
    };
    crate::error::respond(
        async move {
            guard::require(Permission::Read).await?;
            let db = guard::app_state()?.db;
            let plans = super::repo::plans_of_change(&mut Conn::Db(&db), change_id).await?;
            Ok(plans
                .into_iter()
                .map(|p| super::page::PlanOfChange {
                    id: p.id,
                    status: PlanStatus::parse(&p.status).unwrap_or(PlanStatus::Draft),
                    created_at: p.created_at,
                    end_reason: p.end_reason,
                })
                .collect())
        }
        .await,
    )
}

/// Saves the editor's form (after applying the button pressed) as a new revision.
#[server(endpoint = "plans/save")]
pub async fn save_plan(
    id: i64,
    base: i32,
    plan: PlanForm,
    #[server(default)] op: String,
) -> Result<i32, AppError> {
    use crate::auth::{guard, Permission};
    crate::error::respond(
        async move {
            let user = guard::require(Permission::PlanRollbacks).await?;
            let body = plan
                .body(super::form::Op::parse(&op))
                .map_err(|fields| AppError::Validation { fields })?;
            let db = guard::app_state()?.db;
            let number =
                super::service::save(&db, &guard::ctx(&user), &actor(&user), id, base, body)
                    .await?;
            let target = if op.is_empty() || op == "save" {
                format!("/plans/{id}?saved={number}")
            } else {
                format!("/plans/{id}/edit")
            };
            leptos_axum::redirect(&target);
            Ok(number)
        }
        .await,
    )
}

/// Adds a row for a catalog component at the end of the plan (a new revision).
#[server(endpoint = "plans/add_row")]
pub async fn add_plan_row(id: i64, base: i32, component: String) -> Result<i32, AppError> {
    use crate::auth::{guard, Permission};
    crate::error::respond(
        async move {
            let user = guard::require(Permission::PlanRollbacks).await?;
            let db = guard::app_state()?.db;
            let number = super::service::add_row(
                &db,
                &guard::ctx(&user),
                &actor(&user),
                id,
                base,
                &component,
            )
            .await?;
            leptos_axum::redirect(&format!("/plans/{id}/edit"));
            Ok(number)
        }
        .await,
    )
}

#[server(endpoint = "plans/submit")]
pub async fn submit_plan(
    id: i64,
    revision: i32,
    #[server(default)] break_glass_reason: String,
) -> Result<(), AppError> {
    use crate::auth::{guard, Permission};
    crate::error::respond(
        async move {
            let user = guard::require(Permission::PlanRollbacks).await?;
            let reason = crate::validate::optional("break_glass_reason", &break_glass_reason, 2000)
                .map_err(|e| AppError::Validation { fields: vec![e] })?;
            let db = guard::app_state()?.db;
            super::service::submit(
                &db,
                &guard::ctx(&user),
                &actor(&user),
                id,
                revision,
                reason,
                chrono::Utc::now(),
            )
            .await?;
            leptos_axum::redirect(&format!("/plans/{id}?saved=submitted"));
            Ok(())
        }
        .await,
    )
}

/// Withdraws a plan that is not signed off (a reason is required).
#[server(endpoint = "plans/withdraw")]
pub async fn withdraw_plan(id: i64, #[server(default)] reason: String) -> Result<(), AppError> {
    use crate::auth::{guard, Permission};
    crate::error::respond(
        async move {
            let user = guard::require(Permission::PlanRollbacks).await?;
            let db = guard::app_state()?.db;
            let (ctx, who) = (guard::ctx(&user), actor(&user));
            super::lifecycle::withdraw(&db, &ctx, &who, id, &reason, chrono::Utc::now()).await?;
            leptos_axum::redirect(&format!("/plans/{id}?saved=withdrawn"));
            Ok(())
        }
        .await,
    )
}

/// Approves or rejects the revision the approver reviewed (named by number and hash).
#[server(endpoint = "plans/decide")]
pub async fn decide_plan(
    id: i64,
    revision: i32,
    content_hash: String,
    decision: String,
    #[server(default)] reason: String,
    request_key: String,
) -> Result<(), AppError> {
    use crate::{
        approvals::service::{decide, Decision, Outcome},
        auth::{guard, Permission},
    };
    crate::error::respond(
        async move {
            let user = guard::require(Permission::DecidePlans).await?;
            let approve = match decision.as_str() {
                "approve" => true,
                "reject" => false,
                _ => return Err(AppError::field("decision", "Choose approve or reject.")),
            };
            let db = guard::app_state()?.db;
            let d = Decision {
                plan_id: id,
                revision,
                content_hash,
                approve,
                reason,
                request_key,
            };
            let outcome = decide(
                &db,
                &guard::ctx(&user),
                &actor(&user),
                d,
                chrono::Utc::now(),
            )
            .await?;
            let saved = match outcome {
                Outcome::Recorded => "approved",
                Outcome::Rejected => "rejected",
                Outcome::SignedOff { .. } => "signed_off",
            };
            leptos_axum::redirect(&format!("/plans/{id}?saved={saved}"));
            Ok(())
        }
        .await,
    )
}

/// Two revisions side by side.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Comparison {
    pub change_title: String,
    pub older: RevisionMeta,
    pub newer: RevisionMeta,
    pub older_body: PlanBody,
    pub newer_body: PlanBody,
    pub diff: PlanDiff,
    pub revisions: Vec<RevisionMeta>,
}

#[server(endpoint = "plans/compare")]
pub async fn compare_revisions(id: i64, a: i32, b: i32) -> Result<Comparison, AppError> {
    use crate::auth::{guard, Permission};
    crate::error::respond(
        async move {
            guard::require(Permission::Read).await?;
            let db = guard::app_state()?.db;
            Ok(super::service::compare(&db, id, a, b).await?)
        }
        .await,
    )
}

/// Plans waiting for the signed-in approver.
#[server(endpoint = "plans/inbox")]
pub async fn inbox() -> Result<Vec<InboxItem>, AppError> {
    use crate::auth::{guard, Permission};
    crate::error::respond(
        async move {
            let user = guard::require(Permission::Read).await?;
            let db = guard::app_state()?.db;
            Ok(super::load::inbox(&db, &user).await?)
        }
        .await,
    )
}
