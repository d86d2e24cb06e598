//! Pipeline connectors: how Rollgate reaches an orchestrator (Airflow 3 REST, signed webhook),
//! with secrets sealed at rest and a "test connection" probe.

pub mod api;
pub mod model;
pub mod ui;

#[cfg(feature = "ssr")]
pub mod probe;
#[cfg(feature = "ssr")]
pub mod repo;
#[cfg(feature = "ssr")]
pub mod secret;
#[cfg(feature = "ssr")]
pub mod service;

#[cfg(all(test, feature = "ssr"))]
mod tests;
