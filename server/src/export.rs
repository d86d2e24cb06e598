//! Downloads that are documents rather than pages: a postmortem as Markdown.

use axum::{
    extract::{Path, Query, State},
    http::{header, StatusCode},
    response::{IntoResponse, Redirect, Response},
};
use serde::Deserialize;

#[derive(Deserialize)]
pub struct ExportQuery {
    /// `all`: every timeline entry, not only the starred, marked and own ones.
    #[serde(default)]
    timeline: String,
}

/// `GET /postmortems/{id}/export.md`: any signed-in user may read a postmortem.
pub async fn postmortem_markdown(
    State(state): State<app::state::AppState>,
    session: tower_sessions::Session,
    Path(id): Path<String>,
    Query(q): Query<ExportQuery>,
) -> Response {
    let session = app::auth::session::AuthSession(session);
    let user = match app::auth::guard::session_user(&state.db, &session).await {
        Ok(Some(user)) => user,
        Ok(None) => return Redirect::to(&format!("/login?next=/postmortems/{id}")).into_response(),
        Err(e) => return (e.status_code(), e.to_string()).into_response(),
    };
    if !user.can(app::auth::Permission::Read) {
        return (
            StatusCode::FORBIDDEN,
            "You do not have permission to do this.",
        )
            .into_response();
    }
    let Ok(id) = id.parse::<i64>() else {
        return (StatusCode::NOT_FOUND, "The postmortem was not found.").into_response();
    };
    match app::postmortems::service::view(&state.db, id).await {
        Ok(view) => {
            let body = app::postmortems::markdown::render(&view, q.timeline == "all");
            let file = format!("attachment; filename=\"postmortem-{id}.md\"");
            (
                [
                    (
                        header::CONTENT_TYPE,
                        "text/markdown; charset=utf-8".to_string(),
                    ),
                    (header::CONTENT_DISPOSITION, file),
                ],
                body,
            )
                .into_response()
        }
        Err(e) => {
            let e: app::error::AppError = e.into();
            (e.status_code(), e.to_string()).into_response()
        }
    }
}
