//! The component catalog and its lineage: components (datasets, jobs, dashboards), the
//! dependencies between them, imports (YAML/JSON file, dbt manifest) and downstream impact.

pub mod api;
pub mod model;
pub mod retention;
pub mod ui;

#[cfg(feature = "ssr")]
pub mod dbt;
#[cfg(feature = "ssr")]
pub mod graph;
#[cfg(feature = "ssr")]
pub mod import;
#[cfg(feature = "ssr")]
pub mod repo;
#[cfg(feature = "ssr")]
pub mod service;
#[cfg(feature = "ssr")]
pub mod svg;
#[cfg(feature = "ssr")]
mod upload;

#[cfg(all(test, feature = "ssr"))]
pub(crate) mod tests;
