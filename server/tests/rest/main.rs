//! The REST API for CI (`/api/v1`), over the real server on a random port. Its own test binary:
//! these tests run in a process of their own, apart from the page and server-function tests.

#[path = "../api/helpers.rs"]
#[allow(dead_code)]
mod helpers;

mod api_v1;
