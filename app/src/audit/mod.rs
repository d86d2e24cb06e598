//! The append-only, hash-chained audit log (format v1), its page, export and verification.

pub mod api;
pub mod history;
pub mod model;
pub mod ui;

#[cfg(feature = "ssr")]
pub mod canonical;
#[cfg(feature = "ssr")]
pub mod chain;
#[cfg(feature = "ssr")]
pub mod export;
#[cfg(feature = "ssr")]
pub mod repo;

pub use model::{Actor, AuditEntry, AuditPage, AuditQuery};

#[cfg(all(test, feature = "ssr"))]
mod tests;
