//! Building blocks shared by every page: layout, form fields, notices.

mod field;
mod layout;
mod notice;

pub use field::{CheckboxGroup, Field, FormErrors};
pub use layout::{AppShell, PageHeader};
pub use notice::{EmptyState, ErrorNotice, SuccessNotice};
