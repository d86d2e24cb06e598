//! Server functions for connector administration (admins only).

use leptos::prelude::*;

use super::model::{Connector, ProbeReport};
use crate::error::AppError;

#[server(endpoint = "connectors/list")]
pub async fn list_connectors() -> Result<Vec<Connector>, AppError> {
    use crate::{
        auth::{guard, Permission},
        db::Conn,
    };
    crate::error::respond(
        async move {
            guard::require(Permission::ManageConnectors).await?;
            let db = guard::app_state()?.db;
            Ok(super::repo::list(&mut Conn::Db(&db))
                .await?
                .iter()
                .map(|r| r.connector())
                .collect())
        }
        .await,
    )
}

/// Creates (no `id`) or updates a connector. A blank secret keeps the stored one.
#[server(endpoint = "connectors/save")]
pub async fn save_connector(
    #[server(default)] id: Option<i64>,
    name: String,
    kind: String,
    base_url: String,
    #[server(default)] username: String,
    #[server(default)] secret_env: String,
    #[server(default)] secret: String,
) -> Result<i64, AppError> {
    use crate::auth::{guard, Permission};
    crate::error::respond(
        async move {
            let admin = guard::require(Permission::ManageConnectors).await?;
            let new = super::model::NewConnector::parse(
                &name,
                &kind,
                &base_url,
                &username,
                &secret_env,
                &secret,
            )?;
            let state = guard::app_state()?;
            let id =
                super::service::save(&state.db, &guard::ctx(&admin), &state.secret_key, id, new)
                    .await?;
            leptos_axum::redirect(&format!("/admin/connectors?saved={id}"));
            Ok(id)
        }
        .await,
    )
}

/// Calls the connector's real API, records what it found (shown on the connector's card) and
/// returns it.
#[server(endpoint = "connectors/test")]
pub async fn test_connector(id: i64) -> Result<ProbeReport, AppError> {
    use crate::{
        auth::{guard, Permission},
        db::{Conn, DbError},
    };
    crate::error::respond(
        async move {
            let admin = guard::require(Permission::ManageConnectors).await?;
            let state = guard::app_state()?;
            let mut conn = Conn::Db(&state.db);
            let row = super::repo::get(&mut conn, id).await.map_err(|e| match e {
                DbError::NotFound => AppError::not_found("The connector"),
                e => e.into(),
            })?;
            let bound = super::repo::bound_dags(&mut conn, id).await?;
            let connector = row.connector();
            let report = match super::service::resolve_secret(&row, &state.secret_key) {
                Err(why) => ProbeReport {
                    ok: false,
                    findings: vec![why],
                },
                Ok(secret) => {
                    let target = super::probe::Target {
                        kind: connector.kind,
                        base_url: &connector.base_url,
                        username: &connector.username,
                        secret,
                        bound,
                    };
                    super::probe::probe(target).await
                }
            };
            super::service::record_test(&state.db, &guard::ctx(&admin), id, &report).await?;
            leptos_axum::redirect(&format!("/admin/connectors?tested={id}"));
            Ok(report)
        }
        .await,
    )
}
