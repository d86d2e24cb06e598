//! Rollgate's Leptos application: pages, server functions and (with `ssr`) the domain services
//! and SQL behind them. Each domain is a folder with `model`, `api`, `ui` and, server-side, `repo`.

#![recursion_limit = "256"]

pub mod action_items;
pub mod approvals;
pub mod audit;
pub mod auth;
pub mod catalog;
pub mod changes;
pub mod components;
pub mod connectors;
pub mod error;
pub mod error_template;
pub mod execution;
pub mod groups;
pub mod home;
pub mod notifications;
pub mod plans;
pub mod postmortems;
pub mod routes;
pub mod tokens;
pub mod users;
pub mod validate;

#[cfg(feature = "ssr")]
pub mod db;
#[cfg(feature = "ssr")]
pub mod state;

pub use routes::{shell, App};

#[cfg(all(test, feature = "ssr"))]
mod hostile_input_tests;
