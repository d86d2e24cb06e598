//! Approval groups (product, data governance, engineering, … as data an admin extends).

pub mod api;
pub mod model;
pub mod ui;

#[cfg(feature = "ssr")]
pub mod repo;
#[cfg(feature = "ssr")]
pub mod service;

pub use model::Group;

#[cfg(all(test, feature = "ssr"))]
mod tests;
