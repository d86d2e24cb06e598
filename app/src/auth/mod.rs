//! Sign-in, sessions, roles and the server-side authorization guard.

pub mod api;
pub mod model;
pub mod ui;

#[cfg(feature = "ssr")]
pub mod guard;
#[cfg(feature = "ssr")]
pub mod password;
#[cfg(feature = "ssr")]
pub mod repo;
#[cfg(feature = "ssr")]
pub mod service;
#[cfg(feature = "ssr")]
pub mod session;

pub use model::{groups_label, roles_label, CurrentUser, GroupRef, Permission, Role};

#[cfg(all(test, feature = "ssr"))]
mod tests;
