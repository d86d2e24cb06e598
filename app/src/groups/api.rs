//! Server functions for approval groups.

use leptos::prelude::*;

use super::Group;
use crate::error::AppError;

#[server(endpoint = "groups/list")]
pub async fn list_groups() -> Result<Vec<Group>, AppError> {
    use crate::{
        auth::{guard, Permission},
        db::Conn,
    };
    crate::error::respond(
        async move {
            guard::require(Permission::ViewUsers).await?;
            let db = guard::app_state()?.db;
            Ok(super::repo::list_groups(&mut Conn::Db(&db)).await?)
        }
        .await,
    )
}

#[server(endpoint = "groups/create")]
pub async fn create_group(
    name: String,
    #[server(default)] description: String,
) -> Result<i64, AppError> {
    use crate::auth::{guard, Permission};
    crate::error::respond(
        async move {
            let admin = guard::require(Permission::ManageUsers).await?;
            let new = super::model::NewGroup::parse(&name, &description)?;
            let db = guard::app_state()?.db;
            Ok(super::service::create_group(&db, &guard::ctx(&admin), new).await?)
        }
        .await,
    )
}
