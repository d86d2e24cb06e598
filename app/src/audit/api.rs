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
