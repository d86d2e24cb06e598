//! Approval policies and decisions: who must sign off a plan revision, when a rollback may
//! start, and the quorum that turns the last approval into a sign-off.

pub mod api;
pub mod policy;
pub mod quorum;
pub mod ui;
pub mod windows;

#[cfg(feature = "ssr")]
pub mod decide;
#[cfg(feature = "ssr")]
pub mod repo;
#[cfg(feature = "ssr")]
pub mod service;

#[cfg(all(test, feature = "ssr"))]
mod rules_tests;
