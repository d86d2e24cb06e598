//! Server functions for action items. Each authorizes first, then calls one service.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use super::{
    model::ItemInput,
    view::{ActionItem, ItemQuery, ItemsPage, Person, Week},
};
use crate::{error::AppError, postmortems::view::PlanRowRef};

/// Which list: the signed-in user's, everyone's, or the late ones.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Scope {
    #[default]
    Mine,
    All,
    Overdue,
}

#[server(endpoint = "action_items/list")]
pub async fn list_items(
    scope: Scope,
    #[server(default)] query: ItemQuery,
) -> Result<ItemsPage, AppError> {
    use crate::auth::{guard, Permission};
    crate::error::respond(
        async move {
            let user = guard::require(Permission::Read).await?;
            let today = chrono::Utc::now().date_naive();
            let mut filter = query.parse(today)?;
            match scope {
                Scope::Mine => {
                    filter.owner = None;
                    filter.owner_id = Some(user.id);
                }
                Scope::Overdue => filter.overdue_on = Some(today),
                Scope::All => {}
            }
            let db = guard::app_state()?.db;
            Ok(super::service::list(&db, filter, today).await?)
        }
        .await,
    )
}

#[server(endpoint = "action_items/chart")]
pub async fn items_chart() -> Result<Vec<Week>, AppError> {
    use crate::auth::{guard, Permission};
    crate::error::respond(
        async move {
            guard::require(Permission::Read).await?;
            let db = guard::app_state()?.db;
            Ok(super::service::chart(&db, chrono::Utc::now().date_naive()).await?)
        }
        .await,
    )
}

/// The people an item may be given to (active, signing-in users).
#[server(endpoint = "action_items/owners")]
pub async fn item_owners() -> Result<Vec<Person>, AppError> {
    use crate::{
        auth::{guard, Permission},
        db::Conn,
    };
    crate::error::respond(
        async move {
            guard::require(Permission::Read).await?;
            let db = guard::app_state()?.db;
            Ok(super::repo::owners(&mut Conn::Db(&db)).await?)
        }
        .await,
    )
}

/// An item's page: the item, who may own it, the plan rows it may point at, and whether the
/// viewer may edit it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ItemPage {
    pub item: ActionItem,
    pub owners: Vec<Person>,
    pub plan_rows: Vec<PlanRowRef>,
    pub editable: bool,
    pub today: chrono::NaiveDate,
}

#[server(endpoint = "action_items/get")]
pub async fn get_item(id: i64) -> Result<ItemPage, AppError> {
    use crate::{
        auth::{guard, Permission},
        db::Conn,
    };
    crate::error::respond(
        async move {
            let user = guard::require(Permission::Read).await?;
            let db = guard::app_state()?.db;
            let item = super::repo::get(&mut Conn::Db(&db), id)
                .await
                .map_err(|e| match e {
                    crate::db::DbError::NotFound => AppError::not_found("The action item"),
                    e => e.into(),
                })?;
            let editable = user.can(Permission::WritePostmortems) || item.owner.id == user.id;
            let plan_rows =
                crate::postmortems::service::plan_rows_of_change(&db, item.change_id).await?;
            Ok(ItemPage {
                owners: super::repo::owners(&mut Conn::Db(&db)).await?,
                plan_rows,
                item,
                editable,
                today: chrono::Utc::now().date_naive(),
            })
        }
        .await,
    )
}

/// Adds an item to a postmortem.
#[server(endpoint = "action_items/create")]
pub async fn create_item(postmortem_id: i64, item: ItemInput) -> Result<i64, AppError> {
    use crate::auth::{guard, Permission};
    crate::error::respond(
        async move {
            let user = guard::require(Permission::WritePostmortems).await?;
            let state = guard::app_state()?;
            let db = state.db;
            let place = crate::postmortems::service::item_place(&db, postmortem_id)
                .await
                .map_err(|e| match e {
                    crate::postmortems::service::PostmortemError::NotFound => {
                        AppError::not_found("The postmortem")
                    }
                    e => e.into(),
                })?;
            let now = chrono::Utc::now();
            let id = super::service::create(
                &db,
                &guard::ctx(&user),
                place,
                &item,
                &state.due_defaults,
                now,
            )
            .await?;
            leptos_axum::redirect(&format!(
                "/postmortems/{postmortem_id}?saved=item#action-items"
            ));
            Ok(id)
        }
        .await,
    )
}

/// Saves an edit made on top of `version`: postmortem writers and the item's owner may.
#[server(endpoint = "action_items/update")]
pub async fn update_item(id: i64, version: i64, item: ItemInput) -> Result<(), AppError> {
    use crate::auth::{guard, Permission};
    crate::error::respond(
        async move {
            let user = guard::require(Permission::Read).await?;
            let state = guard::app_state()?;
            let editor = super::service::Editor {
                user_id: user.id,
                writes_postmortems: user.can(Permission::WritePostmortems),
            };
            let now = chrono::Utc::now();
            super::service::update(
                &state.db,
                &guard::ctx(&user),
                editor,
                (id, version),
                &item,
                &state.due_defaults,
                now,
            )
            .await?;
            leptos_axum::redirect(&format!("/action-items/{id}?saved=1"));
            Ok(())
        }
        .await,
    )
}
