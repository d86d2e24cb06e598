//! HTTP integration tests: the real server on a random port over a fresh SQLite database.

mod audit_cli;
mod auth;
mod authorization;
mod database_role;
mod hardening;
mod health;
mod helpers;
mod sessions;
mod tokens;
mod users;
