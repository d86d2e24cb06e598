//! The home page: what each role can do next.

mod ui;

pub use ui::HomePage;
