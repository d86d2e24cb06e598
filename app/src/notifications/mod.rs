//! Notifications: who hears of a state change (decided in its transaction), the outbox of
//! deliveries a worker sends by e-mail and to team channels (Slack, Teams, signed
//! webhooks) with retries, each person's own list, and the
//! administrators' e-mail settings and delivery list.

pub mod api;
pub mod mail;
pub mod model;
pub mod teams;
pub mod ui;

#[cfg(feature = "ssr")]
pub mod channels;
#[cfg(feature = "ssr")]
pub mod chat;
#[cfg(feature = "ssr")]
pub mod deliver;
#[cfg(feature = "ssr")]
pub mod email;
#[cfg(feature = "ssr")]
pub mod repo;
#[cfg(feature = "ssr")]
pub mod route;
#[cfg(feature = "ssr")]
pub mod service;
#[cfg(feature = "ssr")]
pub mod settings;
#[cfg(all(test, feature = "ssr"))]
mod tests;

#[cfg(feature = "ssr")]
static OUTBOX: std::sync::LazyLock<tokio::sync::Notify> =
    std::sync::LazyLock::new(tokio::sync::Notify::new);

/// The PostgreSQL channel delivery workers listen on; notified inside the transaction that queued
/// deliveries, so it arrives only once they are committed.
#[cfg(feature = "ssr")]
pub const CHANNEL: &str = "rollgate_outbox";

/// Tells this process's delivery worker that deliveries may be due.
#[cfg(feature = "ssr")]
pub fn wake() {
    OUTBOX.notify_one();
}

/// Resolves when `wake` is called (or was called since the last wait).
#[cfg(feature = "ssr")]
pub async fn woken() {
    OUTBOX.notified().await;
}
