//! `/api/v1/changes`: record, read and list changes.

use axum::{
    body::Body,
    extract::{Path, Query, State},
    http::{header, HeaderMap, StatusCode},
    response::{IntoResponse, Response},
    Json,
};

use app::{
    changes::{
        model::{ChangeQuery, NewChange},
        repo, service,
    },
    db::{Conn, DbError},
    error::AppError,
    state::AppState,
    tokens::model::Scope,
};

use super::{
    auth::Caller,
    dto::{ChangeBody, ChangeListBody, NewChangeBody},
    error::{parse_json, ApiError, ErrorBody},
    idempotency,
};

/// Record a change.
///
/// Send `Idempotency-Key` to make retries safe: a repeat with the same key and body returns the
/// first response and records nothing new.
#[utoipa::path(
    post, path = "/api/v1/changes", tag = "changes",
    request_body = NewChangeBody,
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes retries safe")),
    responses(
        (status = 201, description = "Recorded", body = ChangeBody),
        (status = 400, description = "Malformed body", body = ErrorBody),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "The token lacks changes:write", body = ErrorBody),
        (status = 422, description = "A field is invalid, or the key was reused with another body", body = ErrorBody),
    ),
    security(("token" = []))
)]
pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    caller.require(Scope::ChangesWrite)?;
    let key = idempotency::key(&headers)?;
    let body = super::read_body(body).await?;
    let raw: serde_json::Value = parse_json(&body)?;
    let input: NewChangeBody = parse_json(&body)?;
    let new = NewChange::parse(&input.input(), chrono::Utc::now())?;
    let user_id = caller.0.user.id;
    let hash = idempotency::fingerprint(&raw);
    // A concurrent twin with the same key loses on the unique key: it then replays the winner.
    for _ in 0..2 {
        let mut tx = state.db.begin().await?;
        if let Some(key) = &key {
            if let Some((status, body)) = idempotency::replay(&mut tx, user_id, key, &hash).await? {
                return Ok(json_response(status, body));
            }
        }
        let id = service::create_in(
            &mut tx,
            &caller.ctx(),
            user_id,
            &new,
            Some(&caller.0.token_name),
        )
        .await
        .map_err(AppError::from)?;
        let change = repo::get(&mut Conn::Tx(&mut tx), id).await?;
        let body = serde_json::to_string(&ChangeBody::from(change)).unwrap_or_default();
        if let Some(key) = &key {
            match idempotency::store(&mut tx, user_id, key, &hash, StatusCode::CREATED, &body).await
            {
                Err(DbError::Conflict { .. }) => continue,
                other => other?,
            }
        }
        match tx.commit().await {
            Err(DbError::Conflict { .. }) => continue,
            other => other?,
        }
        let mut response = json_response(StatusCode::CREATED, body);
        if let Ok(location) = format!("/api/v1/changes/{id}").parse() {
            response.headers_mut().insert(header::LOCATION, location);
        }
        return Ok(response);
    }
    Err(AppError::conflict(
        "this request is being processed by a twin with the same Idempotency-Key; retry",
    )
    .into())
}

fn json_response(status: StatusCode, body: String) -> Response {
    (status, [(header::CONTENT_TYPE, "application/json")], body).into_response()
}

/// Get one change.
#[utoipa::path(
    get, path = "/api/v1/changes/{id}", tag = "changes",
    params(("id" = i64, Path, description = "The change id")),
    responses(
        (status = 200, description = "The change", body = ChangeBody),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "The token lacks changes:read", body = ErrorBody),
        (status = 404, description = "No such change", body = ErrorBody),
    ),
    security(("token" = []))
)]
pub async fn get(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> Result<Json<ChangeBody>, ApiError> {
    caller.require(Scope::ChangesRead)?;
    let change = repo::get(&mut Conn::Db(&state.db), id)
        .await
        .map_err(|e| match e {
            DbError::NotFound => AppError::not_found("The change"),
            e => e.into(),
        })?;
    Ok(Json(change.into()))
}

/// List changes, newest deployment first, with the same filters as the change log page.
#[utoipa::path(
    get, path = "/api/v1/changes", tag = "changes",
    params(
        ("q" = Option<String>, Query, description = "Text in the title"),
        ("status" = Option<String>, Query), ("kind" = Option<String>, Query),
        ("component" = Option<String>, Query, description = "A component name"),
        ("author" = Option<String>, Query, description = "A username"),
        ("from" = Option<String>, Query, description = "YYYY-MM-DD, deployed on or after"),
        ("to" = Option<String>, Query, description = "YYYY-MM-DD, deployed on or before"),
        ("after" = Option<String>, Query, description = "`next` of the previous page"),
    ),
    responses(
        (status = 200, description = "A page of changes", body = ChangeListBody),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "The token lacks changes:read", body = ErrorBody),
        (status = 422, description = "A filter is invalid", body = ErrorBody),
    ),
    security(("token" = []))
)]
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    Query(query): Query<ChangeQuery>,
) -> Result<Json<ChangeListBody>, ApiError> {
    caller.require(Scope::ChangesRead)?;
    let filter = query.parse()?;
    let page = service::list(&state.db, &filter)
        .await
        .map_err(AppError::from)?;
    Ok(Json(page.into()))
}
