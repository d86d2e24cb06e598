//! `/api/v1/catalog`: declare components and dependencies, or import a dbt manifest.

use axum::{body::Body, extract::State, Json};

use app::{
    catalog::{
        dbt,
        service::{self, Source},
    },
    error::AppError,
    state::AppState,
    tokens::model::Scope,
};

use super::{
    auth::Caller,
    dto::{DeclareBody, DeclaredBody},
    error::{parse_json, ApiError, ErrorBody},
};

/// Declare components and their upstream dependencies (idempotent: declaring the same thing
/// again changes nothing). All or nothing.
#[utoipa::path(
    post, path = "/api/v1/catalog/components", tag = "catalog",
    request_body = DeclareBody,
    responses(
        (status = 200, description = "Declared", body = DeclaredBody),
        (status = 400, description = "Malformed body", body = ErrorBody),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "The token lacks catalog:write", body = ErrorBody),
        (status = 413, description = "The body is larger than 1 MiB", body = ErrorBody),
        (status = 422, description = "An entry is invalid, names an unknown component or connector, or forms a cycle", body = ErrorBody),
    ),
    security(("token" = []))
)]
pub async fn declare(
    State(state): State<AppState>,
    caller: Caller,
    body: Body,
) -> Result<Json<DeclaredBody>, ApiError> {
    caller.require(Scope::CatalogWrite)?;
    let body: DeclareBody = parse_json(&super::read_body(body).await?)?;
    let decls = body
        .components
        .into_iter()
        .map(|c| c.declaration())
        .collect();
    let summary = service::declare(&state.db, &caller.ctx(), Source::Api, "api", decls)
        .await
        .map_err(AppError::from)?;
    Ok(Json(summary.into()))
}

/// Import a dbt `manifest.json` (the body, up to 25 MB): models, sources, seeds, snapshots
/// and exposures with their dependencies.
#[utoipa::path(
    post, path = "/api/v1/catalog/dbt", tag = "catalog",
    request_body(content = serde_json::Value, content_type = "application/json", description = "A dbt manifest.json"),
    responses(
        (status = 200, description = "Imported", body = DeclaredBody),
        (status = 400, description = "The body was cut off", body = ErrorBody),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "The token lacks catalog:write", body = ErrorBody),
        (status = 413, description = "Larger than 25 MB", body = ErrorBody),
        (status = 422, description = "Not a valid manifest, or a dangling dependency or a cycle", body = ErrorBody),
    ),
    security(("token" = []))
)]
pub async fn import_dbt(
    State(state): State<AppState>,
    caller: Caller,
    body: Body,
) -> Result<Json<DeclaredBody>, ApiError> {
    caller.require(Scope::CatalogWrite)?;
    let body = super::read_body(body).await?;
    let (project, decls) = dbt::parse(&body).map_err(|fields| AppError::Validation { fields })?;
    let label = format!("dbt project {project}");
    let summary = service::declare(&state.db, &caller.ctx(), Source::Dbt, &label, decls)
        .await
        .map_err(AppError::from)?;
    Ok(Json(summary.into()))
}
