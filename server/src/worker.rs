//! The worker loop: claims due jobs and carries them out, up to `concurrency` at once. It wakes
//! at once when this process commits a job (in-process signal) or, on PostgreSQL, when another
//! instance does (LISTEN/NOTIFY), and polls as a fallback. Beside it, the delivery loops send
//! the notification outbox.

use std::{sync::Arc, time::Duration};

use app::{
    connectors::secret::SecretKey,
    db::Db,
    execution::{self, runner::Runner},
    notifications::{
        self,
        deliver::{Deliverer, DeliverySettings},
    },
};
use tokio::sync::Semaphore;

use crate::configuration::{NotificationSettings, WorkerSettings};

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
            execution::CHANNEL,
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

pub fn deliverer(db: Db, key: SecretKey, settings: &NotificationSettings) -> Deliverer {
    let host = std::env::var("HOSTNAME").unwrap_or_else(|_| "local".into());
    Deliverer {
        db,
        key,
        owner: format!("{host}:{}:deliveries", std::process::id()),
        settings: DeliverySettings {
            max_attempts: settings.max_attempts.max(1),
            first_backoff: chrono::Duration::seconds(settings.first_backoff_seconds.max(1)),
            base_url: settings.public_url.trim_end_matches('/').to_string(),
            ..Default::default()
        },
    }
}

/// Sends due deliveries with `senders` loops until the process ends. Each wakes when this
/// process queues deliveries (or, on PostgreSQL, another instance does) and polls as a fallback.
pub async fn run_deliveries(deliverer: Deliverer, senders: usize, poll: Duration) {
    if let Db::Postgres(pool) = &deliverer.db {
        tokio::spawn(execution::relay_notifications(
            pool.clone(),
            notifications::CHANNEL,
            notifications::wake,
        ));
    }
    let mut loops = tokio::task::JoinSet::new();
    for _ in 0..senders.max(1) {
        let d = deliverer.clone();
        loops.spawn(async move {
            loop {
                match d.tick().await {
                    Ok(true) => continue,
                    Ok(false) => {}
                    Err(e) => tracing::error!(error = ?e, "cannot take deliveries"),
                }
                tokio::select! {
                    _ = notifications::woken() => {}
                    _ = tokio::time::sleep(poll) => {}
                }
            }
        });
    }
    while loops.join_next().await.is_some() {}
}
