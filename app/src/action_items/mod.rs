//! Action items: what a postmortem says must be done, by whom and by when.

pub mod api;
pub mod model;
pub mod ui;
pub mod view;

#[cfg(feature = "ssr")]
pub mod repo;
#[cfg(feature = "ssr")]
pub mod service;
#[cfg(all(test, feature = "ssr"))]
mod tests;
