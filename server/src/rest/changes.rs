//! `/api/v1/changes`: record, read and list changes.

use axum::{
    body::Body,
    extract::{Path, Query, RawQuery, State},
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
    dto::{ChangeBody, ChangeKindName, ChangeListBody, ChangeStatusName, NewChangeBody},
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
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes retries safe: 1 to 255 visible ASCII characters (a UUID works well)", pattern = r"^[!-~]{1,255}$")),
    responses(
        (status = 201, description = "Recorded", body = ChangeBody),
        (status = 400, description = "Malformed body or Idempotency-Key", body = ErrorBody),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "The token lacks changes:write", body = ErrorBody),
        (status = 409, description = "A twin request with the same Idempotency-Key is still being processed", body = ErrorBody),
        (status = 413, description = "The body is larger than 1 MiB", body = ErrorBody),
        (status = 422, description = "A field is invalid, a component is not in the catalog or listed twice, `deployed_at` is in the future, or the key was reused with another body", body = ErrorBody),
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
    input.check()?;
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

/// The page's form sends empty fields for "any"; the API states its filters as typed values,
/// so an empty one is refused rather than silently ignored.
fn refuse_empty_filters(raw: &str) -> Result<(), ApiError> {
    const TYPED: [&str; 5] = ["status", "kind", "from", "to", "after"];
    let empty: Vec<AppError> = raw
        .split('&')
        .filter_map(|pair| pair.split_once('=').or(Some((pair, ""))))
        .filter(|(k, v)| v.is_empty() && TYPED.contains(k))
        .map(|(k, _)| AppError::field(k, "is empty: leave the filter out to match everything"))
        .collect();
    match empty.into_iter().next() {
        Some(e) => Err(e.into()),
        None => Ok(()),
    }
}

fn json_response(status: StatusCode, body: String) -> Response {
    (status, [(header::CONTENT_TYPE, "application/json")], body).into_response()
}

/// Get one change.
#[utoipa::path(
    get, path = "/api/v1/changes/{id}", tag = "changes",
    params(("id" = i64, Path, description = "The change id", minimum = 1)),
    responses(
        (status = 200, description = "The change", body = ChangeBody),
        (status = 400, description = "The id is not a whole number in range", body = ErrorBody),
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
        ("status" = Option<ChangeStatusName>, Query), ("kind" = Option<ChangeKindName>, Query),
        ("component" = Option<String>, Query, description = "A component name"),
        ("author" = Option<String>, Query, description = "A username"),
        ("from" = Option<chrono::NaiveDate>, Query, description = "YYYY-MM-DD, deployed on or after"),
        ("to" = Option<chrono::NaiveDate>, Query, description = "YYYY-MM-DD, deployed on or before (not before `from`)"),
        ("after" = Option<String>, Query, description = "`next` of the previous page", pattern = r"^[0-9]{1,12}_[0-9]{1,18}$"),
    ),
    responses(
        (status = 200, description = "A page of changes", body = ChangeListBody),
        (status = 400, description = "The query string is malformed (a filter given twice, say)", body = ErrorBody),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "The token lacks changes:read", body = ErrorBody),
        (status = 422, description = "A filter is invalid, or `to` is before `from`", body = ErrorBody),
    ),
    security(("token" = []))
)]
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    RawQuery(raw): RawQuery,
    Query(query): Query<ChangeQuery>,
) -> Result<Json<ChangeListBody>, ApiError> {
    caller.require(Scope::ChangesRead)?;
    refuse_empty_filters(raw.as_deref().unwrap_or_default())?;
    let filter = query.parse()?;
    let page = service::list(&state.db, &filter)
        .await
        .map_err(AppError::from)?;
    Ok(Json(page.into()))
}
