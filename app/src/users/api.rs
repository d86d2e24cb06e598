//! Server functions for user administration. Each authorizes first, then calls one service.

use leptos::prelude::*;

use super::User;
use crate::error::AppError;

/// A page of users, by username.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct UsersPage {
    pub users: Vec<User>,
    /// The username to continue after, when there are more.
    pub next: Option<String>,
}

pub const USERS_PAGE_SIZE: i64 = 50;

#[server(endpoint = "users/list")]
pub async fn list_users(#[server(default)] after: Option<String>) -> Result<UsersPage, AppError> {
    use crate::{
        auth::{guard, Permission},
        db::Conn,
    };
    crate::error::respond(
        async move {
            guard::require(Permission::ViewUsers).await?;
            let db = guard::app_state()?.db;
            let mut users =
                super::repo::list_users(&mut Conn::Db(&db), after.as_deref(), USERS_PAGE_SIZE + 1)
                    .await?;
            let next = (users.len() as i64 > USERS_PAGE_SIZE)
                .then(|| {
                    users.truncate(USERS_PAGE_SIZE as usize);
                    users.last().map(|u| u.username.clone())
                })
                .flatten();
            Ok(UsersPage { users, next })
        }
        .await,
    )
}

#[server(endpoint = "users/get")]
pub async fn get_user(id: i64) -> Result<User, AppError> {
    use crate::{
        auth::{guard, Permission},
        db::{Conn, DbError},
    };
    crate::error::respond(
        async move {
            guard::require(Permission::ViewUsers).await?;
            let db = guard::app_state()?.db;
            super::repo::get_user(&mut Conn::Db(&db), id)
                .await
                .map_err(|e| match e {
                    DbError::NotFound => AppError::not_found("The user"),
                    e => e.into(),
                })
        }
        .await,
    )
}

/// Creates a user and opens their page.
#[server(endpoint = "users/create")]
pub async fn create_user(
    username: String,
    display_name: String,
    #[server(default)] password: String,
    #[server(default)] roles: Vec<String>,
    #[server(default)] groups: Vec<i64>,
    #[server(default)] service: bool,
) -> Result<i64, AppError> {
    use super::model::NewUser;
    use crate::auth::{guard, Permission};
    crate::error::respond(
        async move {
            let admin = guard::require(Permission::ManageUsers).await?;
            let new = if service {
                NewUser::service(&username, &display_name, &roles, &groups)?
            } else {
                NewUser::parse(&username, &display_name, &password, &roles, &groups)?
            };
            let db = guard::app_state()?.db;
            let id = super::service::create_user(&db, &guard::ctx(&admin), new).await?;
            leptos_axum::redirect(&format!("/admin/users/{id}?saved=created"));
            Ok(id)
        }
        .await,
    )
}

/// Replaces a user's roles and approval groups.
#[server(endpoint = "users/update_access")]
pub async fn update_user_access(
    id: i64,
    #[server(default)] roles: Vec<String>,
    #[server(default)] groups: Vec<i64>,
) -> Result<(), AppError> {
    use crate::auth::{guard, Permission};
    crate::error::respond(
        async move {
            let admin = guard::require(Permission::ManageUsers).await?;
            let access = super::model::parse_access(&roles, &groups)
                .map_err(|f| AppError::Validation { fields: vec![f] })?;
            let db = guard::app_state()?.db;
            super::service::update_access(&db, &guard::ctx(&admin), id, access).await?;
            leptos_axum::redirect(&format!("/admin/users/{id}?saved=access"));
            Ok(())
        }
        .await,
    )
}

/// Deactivates (`active = false`) or reactivates a user.
#[server(endpoint = "users/set_active")]
pub async fn set_user_active(id: i64, active: bool) -> Result<(), AppError> {
    use crate::auth::{guard, Permission};
    crate::error::respond(
        async move {
            let admin = guard::require(Permission::ManageUsers).await?;
            if admin.id == id && !active {
                return Err(AppError::conflict(
                    "You cannot deactivate your own account.",
                ));
            }
            let db = guard::app_state()?.db;
            super::service::set_active(&db, &guard::ctx(&admin), id, active).await?;
            let saved = if active { "reactivated" } else { "deactivated" };
            leptos_axum::redirect(&format!("/admin/users/{id}?saved={saved}"));
            Ok(())
        }
        .await,
    )
}

/// Ends every session of a user at once (their API tokens stay): an administrator may for
/// anyone; the page for oneself is the account page.
#[server(endpoint = "users/sign_out_everywhere")]
pub async fn sign_out_user_everywhere(id: i64) -> Result<(), AppError> {
    use crate::auth::{guard, Permission};
    crate::error::respond(
        async move {
            let admin = guard::require(Permission::ManageUsers).await?;
            let db = guard::app_state()?.db;
            super::service::sign_out_everywhere(&db, &guard::ctx(&admin), id).await?;
            leptos_axum::redirect(&format!("/admin/users/{id}?saved=signed_out"));
            Ok(())
        }
        .await,
    )
}
