//! Server functions for the change log. Each authorizes first, then calls one service.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use super::model::{Change, ChangeInput, ChangeQuery, ChangesPage, Link};
use crate::error::AppError;

/// The change form's fields, as submitted.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChangeForm {
    pub title: String,
    pub kind: String,
    pub why: String,
    #[serde(default)]
    pub deployed_at: String,
    #[serde(default)]
    pub git_sha: String,
    /// The commit the change replaced.
    #[serde(default)]
    pub git_sha_before: String,
    #[serde(default)]
    pub artifact_ref: String,
    #[serde(default)]
    pub pr_url: String,
    #[serde(default)]
    pub ticket_url: String,
    /// One component per line, optionally `name | data version`.
    #[serde(default)]
    pub components: String,
}

impl ChangeForm {
    pub fn input(&self) -> ChangeInput {
        let link = |kind: &str, url: &str| Link {
            kind: kind.into(),
            url: url.into(),
        };
        ChangeInput {
            title: self.title.clone(),
            kind: self.kind.clone(),
            why: self.why.clone(),
            deployed_at: self.deployed_at.clone(),
            git_sha: self.git_sha.clone(),
            artifact_ref: self.artifact_ref.clone(),
            links: vec![link("pr", &self.pr_url), link("ticket", &self.ticket_url)],
            components: super::model::parse_component_lines(&self.components).0,
            versions_before: super::model::parse_component_lines(&self.components).1,
            git_sha_before: self.git_sha_before.clone(),
        }
    }
}

#[server(endpoint = "changes/list")]
pub async fn list_changes(#[server(default)] query: ChangeQuery) -> Result<ChangesPage, AppError> {
    use crate::auth::{guard, Permission};
    crate::error::respond(
        async move {
            guard::require(Permission::Read).await?;
            let filter = query.parse()?;
            let db = guard::app_state()?.db;
            Ok(super::service::list(&db, &filter).await?)
        }
        .await,
    )
}

#[server(endpoint = "changes/get")]
pub async fn get_change(id: i64) -> Result<Change, AppError> {
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
                    DbError::NotFound => AppError::not_found("The change"),
                    e => e.into(),
                })
        }
        .await,
    )
}

/// Records a change and opens its page.
#[server(endpoint = "changes/create")]
pub async fn create_change(change: ChangeForm) -> Result<i64, AppError> {
    use crate::auth::{guard, Permission};
    crate::error::respond(
        async move {
            let user = guard::require(Permission::RecordChanges).await?;
            let new = super::model::NewChange::parse(&change.input(), chrono::Utc::now())?;
            let db = guard::app_state()?.db;
            let id = super::service::create(&db, &guard::ctx(&user), user.id, &new, None).await?;
            leptos_axum::redirect(&format!("/changes/{id}?saved=recorded"));
            Ok(id)
        }
        .await,
    )
}

/// Saves an edit made on top of `version`.
#[server(endpoint = "changes/update")]
pub async fn update_change(id: i64, version: i64, change: ChangeForm) -> Result<(), AppError> {
    use crate::auth::{guard, Permission};
    crate::error::respond(
        async move {
            let user = guard::require(Permission::RecordChanges).await?;
            let new = super::model::NewChange::parse(&change.input(), chrono::Utc::now())?;
            let db = guard::app_state()?.db;
            super::service::update(&db, &guard::ctx(&user), id, version, &new).await?;
            leptos_axum::redirect(&format!("/changes/{id}?saved=edited"));
            Ok(())
        }
        .await,
    )
}

/// Closes a change without a rollback: fixed forward, with why and a link to the fix.
#[server(endpoint = "changes/fix_forward")]
pub async fn fix_forward(
    id: i64,
    #[server(default)] reason: String,
    #[server(default)] link: String,
) -> Result<(), AppError> {
    use crate::auth::{guard, Permission};
    crate::error::respond(
        async move {
            let user = guard::require(Permission::RecordChanges).await?;
            let db = guard::app_state()?.db;
            let who = crate::audit::Actor {
                id: user.id,
                username: user.username.clone(),
            };
            let now = chrono::Utc::now();
            crate::plans::lifecycle::fix_forward(
                &db,
                &guard::ctx(&user),
                &who,
                id,
                &reason,
                &link,
                now,
            )
            .await?;
            leptos_axum::redirect(&format!("/changes/{id}?saved=closed"));
            Ok(())
        }
        .await,
    )
}
