//! The worker loop: claims due jobs and carries them out, up to `concurrency` at once. It wakes
//! at once when this process commits a job (in-process signal) or, on PostgreSQL, when another
//! instance does (LISTEN/NOTIFY), and polls as a fallback.

use std::{sync::Arc, time::Duration};

use app::{
    connectors::secret::SecretKey,
    db::Db,
    execution::{self, runner::Runner},
};
use tokio::sync::Semaphore;

use crate::configuration::WorkerSettings;

pub fn runner(db: Db, key: SecretKey, settings: &WorkerSettings) -> Runner {
    let host = std::env::var("HOSTNAME").unwrap_or_else(|_| "local".into());
    Runner {
        db,
        key,
        owner: format!(
            "{host}:{}:{}",
            std::process::id(),
            uuid::Uuid::new_v4().simple()
        ),
        settings: execution::runner::RunnerSettings {
            lease: chrono::Duration::seconds(settings.lease_seconds.max(5)),
            ..Default::default()
        },
    }
}

/// Runs until the process ends.
pub async fn run(runner: Runner, settings: WorkerSettings) {
    if let Db::Postgres(pool) = &runner.db {
        tokio::spawn(execution::relay_notifications(
            pool.clone(),
            execution::wake,
        ));
    }
    let slots = Arc::new(Semaphore::new(settings.concurrency.max(1)));
    let poll = Duration::from_secs(settings.poll_seconds.max(1));
    tracing::info!(owner = %runner.owner, "worker started");
    loop {
        let Ok(slot) = slots.clone().acquire_owned().await else {
            return;
        };
        match runner.claim_next().await {
            Ok(Some(claim)) => {
                let runner = runner.clone();
                tokio::spawn(async move {
                    if let Err(e) = runner.carry_out(&claim).await {
                        tracing::error!(execution = claim.id, error = ?e, "the job stopped on an internal error; it is taken up again when its lease ends");
                    }
                    drop(slot);
                });
            }
            Ok(None) => {
                drop(slot);
                tokio::select! {
                    _ = execution::woken() => {}
                    _ = tokio::time::sleep(poll) => {}
                }
            }
            Err(e) => {
                drop(slot);
                tracing::error!(error = ?e, "cannot claim jobs");
                tokio::time::sleep(poll).await;
            }
        }
    }
}
