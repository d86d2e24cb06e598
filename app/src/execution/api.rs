//! Server functions of the execution page. Each authorizes first, then calls one service.

use leptos::prelude::*;

use super::model::{ExecutionPage, JobsPage};
use crate::error::AppError;

#[server(endpoint = "executions/get")]
pub async fn get_execution(id: i64) -> Result<ExecutionPage, AppError> {
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

/// A token that changes whenever the page would: the live view polls it and refetches the page
/// only when it moved.
#[server(endpoint = "executions/version")]
pub async fn execution_version(id: i64) -> Result<String, AppError> {
    use crate::auth::{guard, Permission};
    crate::error::respond(
        async move {
            guard::require(Permission::Read).await?;
            let db = guard::app_state()?.db;
            Ok(super::load::version(&db, id).await?)
        }
        .await,
    )
}

/// Retry or skip a failed step, mark a manual step done, or abort the rollback.
#[server(endpoint = "executions/operate")]
pub async fn operate_execution(
    id: i64,
    #[server(default)] step_id: Option<i64>,
    operation: String,
    #[server(default)] note: String,
) -> Result<(), AppError> {
    use super::service::{operate, Operation};
    use crate::auth::{guard, Permission};
    crate::error::respond(
        async move {
            let user = guard::require(Permission::OperateRollbacks).await?;
            let op = Operation::parse(&operation).ok_or_else(|| {
                AppError::field("operation", "Choose retry, skip, done or abort.")
            })?;
            let db = guard::app_state()?.db;
            operate(
                &db,
                &guard::ctx(&user),
                id,
                step_id,
                op,
                &note,
                chrono::Utc::now(),
            )
            .await?;
            leptos_axum::redirect(&format!("/executions/{id}"));
            Ok(())
        }
        .await,
    )
}

/// Rollbacks newest first, optionally of one status; `before` continues an earlier page.
#[server(endpoint = "executions/list")]
pub async fn list_executions(
    #[server(default)] status: String,
    #[server(default)] before: String,
) -> Result<JobsPage, AppError> {
    use crate::auth::{guard, Permission};
    crate::error::respond(
        async move {
            guard::require(Permission::Read).await?;
            let status = match status.trim() {
                "" => None,
                s => Some(super::model::JobStatus::parse(s).ok_or_else(|| {
                    AppError::field("status", format!("`{s}` is not a rollback status"))
                })?),
            };
            let before = match before.trim() {
                "" => None,
                b => Some(b.parse::<i64>().map_err(|_| {
                    AppError::field("before", "is not a page position from this list")
                })?),
            };
            let db = guard::app_state()?.db;
            Ok(super::load::list(&db, status, before).await?)
        }
        .await,
    )
}
