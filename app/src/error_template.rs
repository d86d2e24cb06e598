//! Error pages and the error boundary fallback; each sets the HTTP status during SSR.

use leptos::prelude::*;

use crate::{components::PageHeader, error::AppError};

fn set_status(status: http::StatusCode) {
    #[cfg(feature = "ssr")]
    if let Some(res) = use_context::<leptos_axum::ResponseOptions>() {
        res.set_status(status);
    }
    #[cfg(not(feature = "ssr"))]
    let _ = status;
}

#[component]
pub fn NotFound() -> impl IntoView {
    set_status(http::StatusCode::NOT_FOUND);
    view! {
        <PageHeader title="Page not found".to_string() />
        <p>"There is no page at this address. Check the link, or go back to the "<a href="/">"home page"</a>"."</p>
    }
}

#[component]
pub fn Forbidden() -> impl IntoView {
    set_status(http::StatusCode::FORBIDDEN);
    view! {
        <PageHeader title="Not allowed".to_string() />
        <p>"Your roles do not include this page. If you need it, ask an administrator to change your roles."</p>
        <p><a href="/">"Back to the home page"</a></p>
    }
}

/// Shows an `AppError` raised while loading a page, with its status.
#[component]
pub fn ErrorPage(error: AppError) -> impl IntoView {
    set_status(error.status_code());
    let title = match &error {
        AppError::NotFound { .. } => "Not found",
        AppError::Forbidden => "Not allowed",
        AppError::Validation { .. } | AppError::BadRequest { .. } => "Please check the address",
        _ => "Something went wrong",
    };
    let details = match &error {
        AppError::Validation { fields } => fields
            .iter()
            .map(|f| format!("{}: {}", f.field.replace('_', " "), f.message))
            .collect(),
        _ => vec![error.to_string()],
    };
    view! {
        <PageHeader title=title.to_string() />
        <div class="notice notice--error" role="alert">
            <ul class="plain-list">{details.into_iter().map(|d| view! { <li>{d}</li> }).collect_view()}</ul>
        </div>
        <p><a href="/">"Back to the home page"</a></p>
    }
}

/// A section's loaded view, or the error page (with its HTTP status) when loading failed.
/// Pages handle their `Result`s here rather than in an `<ErrorBoundary>`, whose fallback can
/// render outside the page's reactive owner during server rendering.
pub fn loaded<V: IntoView + 'static>(result: Result<V, AppError>) -> AnyView {
    match result {
        Ok(view) => view.into_any(),
        Err(error) => view! { <ErrorPage error /> }.into_any(),
    }
}
