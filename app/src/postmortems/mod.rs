//! Postmortems: written from the tamper-evident record, reviewed by someone else, published
//! with their history.

pub mod api;
pub mod model;
pub mod timeline;
pub mod ui;
pub mod view;

#[cfg(feature = "ssr")]
pub mod markdown;
#[cfg(feature = "ssr")]
mod prefill;
#[cfg(feature = "ssr")]
pub mod repo;
#[cfg(feature = "ssr")]
pub mod service;
#[cfg(all(test, feature = "ssr"))]
mod tests;
