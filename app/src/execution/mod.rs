//! Execution: the job a sign-off creates, carried out by a worker against the pipeline's
//! orchestrator, step by step with evidence, verified stage by stage, steered by operators.

pub mod api;
pub mod model;
pub mod ui;

#[cfg(feature = "ssr")]
pub mod airflow;
#[cfg(feature = "ssr")]
pub mod connector;
#[cfg(feature = "ssr")]
pub mod http;
#[cfg(feature = "ssr")]
pub mod load;
#[cfg(feature = "ssr")]
pub mod repo;
#[cfg(feature = "ssr")]
pub mod runner;
#[cfg(feature = "ssr")]
pub mod service;
#[cfg(feature = "ssr")]
pub mod steps;
#[cfg(feature = "ssr")]
pub mod undo;
#[cfg(feature = "ssr")]
pub mod webhook;

/// The Airflow-wire test server: the fault tests' and the crash test's orchestrator.
#[cfg(feature = "ssr")]
pub mod fake_airflow;
#[cfg(all(test, feature = "ssr"))]
mod tests;

#[cfg(feature = "ssr")]
static JOBS: std::sync::LazyLock<tokio::sync::Notify> =
    std::sync::LazyLock::new(tokio::sync::Notify::new);

/// Tells this process's worker that a job may be due (after the commit that made it so).
#[cfg(feature = "ssr")]
pub fn wake() {
    JOBS.notify_one();
}

/// Resolves when `wake` is called (or was called since the last wait).
#[cfg(feature = "ssr")]
pub async fn woken() {
    JOBS.notified().await;
}

/// The PostgreSQL channel other instances' workers listen on; notified inside the committing
/// transaction, so it is delivered only if the job really exists.
#[cfg(feature = "ssr")]
pub const CHANNEL: &str = "rollgate_jobs";

#[cfg(feature = "ssr")]
pub async fn notify_others(tx: &mut crate::db::Tx) -> Result<(), crate::db::DbError> {
    if let crate::db::Tx::Postgres(t) = tx {
        sqlx::query("SELECT pg_notify($1, '')")
            .bind(CHANNEL)
            .execute(&mut **t)
            .await?;
    }
    Ok(())
}

/// Relays notifications on `channel` (work committed by other instances) to `wake_up`, for as
/// long as the process runs; reconnects after a lost connection. Polling covers the gaps.
#[cfg(feature = "ssr")]
pub async fn relay_notifications(pool: sqlx::PgPool, channel: &'static str, wake_up: impl Fn()) {
    loop {
        match sqlx::postgres::PgListener::connect_with(&pool).await {
            Ok(mut listener) => match listener.listen(channel).await {
                Ok(()) => {
                    while listener.recv().await.is_ok() {
                        wake_up();
                    }
                }
                Err(e) => tracing::warn!(error = ?e, "cannot LISTEN for work; polling only"),
            },
            Err(e) => tracing::warn!(error = ?e, "cannot connect to LISTEN for work; polling only"),
        }
        tokio::time::sleep(std::time::Duration::from_secs(5)).await;
    }
}
