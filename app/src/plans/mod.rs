//! Rollback plans: the rollback matrix Rollgate proposes from lineage, its revisions (each with
//! a content hash) and how two revisions differ.

pub mod api;
pub mod diff;
pub mod form;
pub mod model;
pub mod page;
#[cfg(feature = "ssr")]
pub mod propose;
#[cfg(feature = "ssr")]
pub mod rules;
pub mod ui;

#[cfg(feature = "ssr")]
pub mod lifecycle;
#[cfg(feature = "ssr")]
pub mod load;
#[cfg(feature = "ssr")]
pub mod repo;
#[cfg(feature = "ssr")]
pub mod resolve;
#[cfg(feature = "ssr")]
pub mod service;

#[cfg(all(test, feature = "ssr"))]
mod rules_tests;
#[cfg(all(test, feature = "ssr"))]
pub(crate) mod tests;
