//! Pages render on a pool of single-threaded runtimes, one request per task, so everything a
//! page spawns while rendering (its resources, its Suspense bookkeeping) runs on the thread that
//! renders it.
//!
//! Why: Leptos' reactive graph takes its locks in an order that can invert when two threads work
//! on the same page at once (a resource registering with its Suspense while the Suspense's effect
//! re-subscribes). On the multi-threaded runtime that deadlocked both workers under about twenty
//! concurrent page loads. Confining each page to one thread removes the second thread; requests
//! still spread over every core. Server functions and the REST API keep the multi-threaded
//! runtime: they do not render.

use axum::{
    extract::{Request, State},
    http::StatusCode,
    middleware::Next,
    response::{IntoResponse, Response},
};
use tokio_util::task::LocalPoolHandle;

/// One worker per core.
pub fn new_pool() -> LocalPoolHandle {
    let workers = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(2);
    LocalPoolHandle::new(workers)
}

/// Middleware: runs the rest of the page's handling on a pool worker.
pub async fn render_pinned(
    State(pool): State<LocalPoolHandle>,
    req: Request,
    next: Next,
) -> Response {
    match pool.spawn_pinned(move || next.run(req)).await {
        Ok(response) => response,
        Err(e) => {
            tracing::error!(error = %e, "page rendering task failed");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}
