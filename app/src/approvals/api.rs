//! Server functions for approval policies (admins).

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use super::policy::Policy;
use crate::error::AppError;

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PolicyForm {
    #[serde(default)]
    pub id: i64,
    #[serde(default)]
    pub version: i64,
    pub name: String,
    pub scope: String,
    #[serde(default)]
    pub scope_value: String,
    pub requirements: String,
    pub expiry_hours: String,
    #[serde(default)]
    pub windows: String,
    #[serde(default)]
    pub break_glass_group: String,
}

/// The policies, and the group names the form offers.
#[server(endpoint = "policies/list")]
pub async fn list_policies() -> Result<(Vec<Policy>, Vec<String>), AppError> {
    use crate::{
        auth::{guard, Permission},
        db::Conn,
    };
    crate::error::respond(
        async move {
            guard::require(Permission::ManagePolicies).await?;
            let db = guard::app_state()?.db;
            let policies = super::repo::policies(&mut Conn::Db(&db)).await?;
            let groups = crate::groups::repo::list_groups(&mut Conn::Db(&db)).await?;
            Ok((policies, groups.into_iter().map(|g| g.name).collect()))
        }
        .await,
    )
}

#[server(endpoint = "policies/save")]
pub async fn save_policy(policy: PolicyForm) -> Result<i64, AppError> {
    use crate::auth::{guard, Permission};
    crate::error::respond(
        async move {
            let user = guard::require(Permission::ManagePolicies).await?;
            let db = guard::app_state()?.db;
            let input = super::service::PolicyInput {
                id: policy.id,
                version: policy.version,
                name: policy.name,
                scope: policy.scope,
                scope_value: policy.scope_value,
                requirements: policy.requirements,
                expiry_hours: policy.expiry_hours,
                windows: policy.windows,
                break_glass_group: policy.break_glass_group,
            };
            let id = super::service::save_policy(&db, &guard::ctx(&user), input).await?;
            leptos_axum::redirect("/admin/policies?saved=1");
            Ok(id)
        }
        .await,
    )
}
