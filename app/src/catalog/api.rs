//! Server functions for the catalog. Each authorizes first, then calls one service.

use leptos::prelude::*;
use leptos::server_fn::codec::{MultipartData, MultipartFormData};
use serde::{Deserialize, Serialize};

use super::model::{Component, ComponentKind, ComponentRef, Impact};
use crate::error::AppError;

pub const PAGE_SIZE: i64 = 50;

/// One row of the catalog list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ComponentSummary {
    pub id: i64,
    pub name: String,
    pub kind: ComponentKind,
    pub owner: String,
    pub source: String,
    pub upstream: i64,
    pub downstream: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CatalogPage {
    pub items: Vec<ComponentSummary>,
    /// The lower-cased name to continue after, when there are more.
    pub next: Option<String>,
}

#[server(endpoint = "catalog/list")]
pub async fn list_components(
    #[server(default)] q: String,
    #[server(default)] kind: String,
    #[server(default)] after: Option<String>,
) -> Result<CatalogPage, AppError> {
    use crate::{
        auth::{guard, Permission},
        db::Conn,
    };
    crate::error::respond(
        async move {
            guard::require(Permission::Read).await?;
            let kind = match kind.as_str() {
                "" => None,
                k => Some(
                    ComponentKind::parse(k)
                        .ok_or_else(|| AppError::field("kind", "is not a component kind"))?,
                ),
            };
            let filter = super::repo::ListFilter {
                q: Some(q.trim().to_string()).filter(|q| !q.is_empty()),
                kind,
                after,
            };
            let db = guard::app_state()?.db;
            let rows = super::repo::list(&mut Conn::Db(&db), &filter, PAGE_SIZE + 1).await?;
            let next = (rows.len() as i64 > PAGE_SIZE)
                .then(|| rows[PAGE_SIZE as usize - 1].name.to_lowercase());
            let items = rows
                .into_iter()
                .take(PAGE_SIZE as usize)
                .map(|r| ComponentSummary {
                    kind: ComponentKind::parse(&r.kind).unwrap_or(ComponentKind::Other),
                    id: r.id,
                    name: r.name,
                    owner: r.owner,
                    source: r.source,
                    upstream: r.upstream,
                    downstream: r.downstream,
                })
                .collect();
            Ok(CatalogPage { items, next })
        }
        .await,
    )
}

/// Up to 20 components whose name contains `q` (the component picker).
#[server(endpoint = "catalog/search")]
pub async fn search_components(q: String) -> Result<Vec<ComponentRef>, AppError> {
    use crate::{
        auth::{guard, Permission},
        db::Conn,
    };
    crate::error::respond(
        async move {
            guard::require(Permission::Read).await?;
            let filter = super::repo::ListFilter {
                q: Some(q.trim().to_string()),
                ..Default::default()
            };
            let db = guard::app_state()?.db;
            let rows = super::repo::list(&mut Conn::Db(&db), &filter, 20).await?;
            Ok(rows
                .into_iter()
                .map(|r| ComponentRef {
                    kind: ComponentKind::parse(&r.kind).unwrap_or(ComponentKind::Other),
                    id: r.id,
                    name: r.name,
                })
                .collect())
        }
        .await,
    )
}

#[server(endpoint = "catalog/get")]
pub async fn get_component(id: i64) -> Result<Component, AppError> {
    use crate::{
        auth::{guard, Permission},
        db::{Conn, DbError},
    };
    crate::error::respond(
        async move {
            guard::require(Permission::Read).await?;
            let db = guard::app_state()?.db;
            super::repo::get(&mut Conn::Db(&db), id)
                .await
                .map_err(|e| match e {
                    DbError::NotFound => AppError::not_found("The component"),
                    e => e.into(),
                })
        }
        .await,
    )
}

/// The fields of the component form, as submitted.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ComponentForm {
    pub name: String,
    pub kind: String,
    #[serde(default)]
    pub owner: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub tags: String,
    #[serde(default)]
    pub connector: String,
    #[serde(default)]
    pub dag_id: String,
    #[serde(default)]
    pub rollback_dag_id: String,
    /// e.g. `snowflake 30d`; empty clears it.
    #[serde(default)]
    pub retention: String,
}

impl ComponentForm {
    pub fn declaration(&self) -> super::model::Declaration {
        let opt = |s: &str| Some(s.trim().to_string()).filter(|s| !s.is_empty());
        super::model::Declaration {
            name: self.name.clone(),
            kind: ComponentKind::parse(&self.kind),
            owner: self.owner.clone(),
            description: self.description.clone(),
            tags: vec![self.tags.clone()],
            upstream: None,
            connector: opt(&self.connector),
            dag_id: opt(&self.dag_id),
            rollback_dag_id: opt(&self.rollback_dag_id),
            retention: Some(self.retention.trim().to_string()),
        }
    }
}

#[server(endpoint = "catalog/create")]
pub async fn create_component(component: ComponentForm) -> Result<i64, AppError> {
    use crate::auth::{guard, Permission};
    crate::error::respond(
        async move {
            let user = guard::require(Permission::EditCatalog).await?;
            let db = guard::app_state()?.db;
            let id =
                super::service::create(&db, &guard::ctx(&user), component.declaration()).await?;
            leptos_axum::redirect(&format!("/catalog/{id}?saved=created"));
            Ok(id)
        }
        .await,
    )
}

#[server(endpoint = "catalog/update")]
pub async fn update_component(id: i64, component: ComponentForm) -> Result<(), AppError> {
    use crate::auth::{guard, Permission};
    crate::error::respond(
        async move {
            let user = guard::require(Permission::EditCatalog).await?;
            let db = guard::app_state()?.db;
            super::service::update(&db, &guard::ctx(&user), id, component.declaration()).await?;
            leptos_axum::redirect(&format!("/catalog/{id}?saved=updated"));
            Ok(())
        }
        .await,
    )
}

/// Declares that `upstream` (a component name) feeds component `id`.
#[server(endpoint = "catalog/add_dependency")]
pub async fn add_dependency(id: i64, upstream: String) -> Result<(), AppError> {
    use crate::auth::{guard, Permission};
    crate::error::respond(
        async move {
            let user = guard::require(Permission::EditCatalog).await?;
            let db = guard::app_state()?.db;
            super::service::add_dependency(&db, &guard::ctx(&user), id, &upstream).await?;
            leptos_axum::redirect(&format!("/catalog/{id}?saved=dependency"));
            Ok(())
        }
        .await,
    )
}

#[server(endpoint = "catalog/remove_dependency")]
pub async fn remove_dependency(id: i64, upstream_id: i64) -> Result<(), AppError> {
    use crate::auth::{guard, Permission};
    crate::error::respond(
        async move {
            let user = guard::require(Permission::EditCatalog).await?;
            let db = guard::app_state()?.db;
            super::service::remove_dependency(&db, &guard::ctx(&user), id, upstream_id).await?;
            leptos_axum::redirect(&format!("/catalog/{id}?saved=removed"));
            Ok(())
        }
        .await,
    )
}

#[server(endpoint = "catalog/impact")]
pub async fn component_impact(id: i64) -> Result<Impact, AppError> {
    use crate::auth::{guard, Permission};
    crate::error::respond(
        async move {
            guard::require(Permission::Read).await?;
            let db = guard::app_state()?.db;
            Ok(super::service::impact(&db, id).await?)
        }
        .await,
    )
}

/// Imports an uploaded YAML/JSON catalog file or dbt `manifest.json` (a plain multipart form,
/// so it works without JavaScript), then shows what changed.
#[server(endpoint = "catalog/import", input = MultipartFormData)]
pub async fn import_catalog(data: MultipartData) -> Result<(), AppError> {
    use crate::auth::{guard, Permission};
    crate::error::respond(
        async move {
            let user = guard::require(Permission::EditCatalog).await?;
            let bytes = super::upload::read_file_field(data).await?;
            let db = guard::app_state()?.db;
            let summary = super::service::import(&db, &guard::ctx(&user), &bytes).await?;
            leptos_axum::redirect(&format!("/catalog/import?{}", summary.query()));
            Ok(())
        }
        .await,
    )
}
