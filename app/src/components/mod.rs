//! Building blocks shared by every page: layout, form fields, notices.

mod field;
mod layout;
mod notice;
mod picker;

pub use field::{CheckboxGroup, Field, FormErrors, Select, TextArea};
pub use layout::{AppShell, PageHeader};
pub use notice::{EmptyState, ErrorNotice, SuccessNotice};
pub use picker::ComponentPicker;
