//! The Rollgate server: HTTP application, settings, telemetry and the command line.

pub mod body_limit;
pub mod cli;
pub mod configuration;
pub mod export;
pub mod health;
pub mod http_guard;
pub mod page_pool;
pub mod request_id;
pub mod rest;
pub mod session_store;
pub mod startup;
pub mod telemetry;
pub mod worker;
