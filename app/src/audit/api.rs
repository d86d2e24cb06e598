//! Server function for the audit log page.

use leptos::prelude::*;

use super::{AuditPage, AuditQuery};
use crate::error::AppError;

/// A page of audit events matching the query, newest first (auditors and admins).
#[server(endpoint = "audit/list")]
pub async fn list_audit_events(
    #[server(default)] query: AuditQuery,
) -> Result<AuditPage, AppError> {
    use crate::auth::{guard, Permission};
    crate::error::respond(
        async move {
            guard::require(Permission::ViewAudit).await?;
            let filter = query.parse()?;
            let db = guard::app_state()?.db;
            Ok(super::repo::list(&db, &filter).await?)
        }
        .await,
    )
}

/// The history of one change or component (newest first), for everyone who can read it.
#[server(endpoint = "audit/history")]
pub async fn entity_history(
    entity_type: String,
    entity_id: String,
) -> Result<Vec<super::AuditEntry>, AppError> {
    use crate::auth::{guard, Permission};
    crate::error::respond(
        async move {
            guard::require(Permission::Read).await?;
            if !super::history::READABLE.contains(&entity_type.as_str()) {
                return Err(AppError::Forbidden);
            }
            let query = AuditQuery {
                entity_type,
                entity_id,
                ..Default::default()
            };
            let db = guard::app_state()?.db;
            Ok(super::repo::list(&db, &query.parse()?).await?.entries)
        }
        .await,
    )
}
