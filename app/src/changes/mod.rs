//! The change log: what was deployed, why, by whom, which components it touched and which data
//! versions it produced. The starting point of every rollback.

pub mod api;
pub mod model;
pub mod ui;

#[cfg(feature = "ssr")]
pub mod repo;
#[cfg(feature = "ssr")]
pub mod service;

#[cfg(all(test, feature = "ssr"))]
mod tests;
