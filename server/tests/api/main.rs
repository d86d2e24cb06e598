//! HTTP integration tests: the real server on a random port over a fresh SQLite database.

mod audit_cli;
mod auth;
mod authorization;
mod health;
mod helpers;
mod users;
