//! User accounts: admins create them, set roles and groups, and deactivate them.

pub mod api;
pub mod model;
pub mod ui;

#[cfg(feature = "ssr")]
pub mod repo;
#[cfg(feature = "ssr")]
pub mod service;

pub use model::User;

#[cfg(all(test, feature = "ssr"))]
pub(crate) mod tests;
