//! API tokens: named, scoped secrets that let CI call `/api/v1` as their owner. Stored hashed,
//! shown once, revocable.

pub mod api;
pub mod model;
pub mod ui;

#[cfg(feature = "ssr")]
pub mod repo;
#[cfg(feature = "ssr")]
pub mod service;
