//! Admin pages for users: the list, the new-user form and a user's page.

mod account;
mod detail;
mod list;
mod new;

pub use account::AccountPage;
pub use detail::UserPage;
pub use list::UsersPage;
pub use new::NewUserPage;

use crate::{auth::Role, groups::Group};

/// Checkbox options for every role, checking `selected`.
fn role_options(selected: &[Role]) -> Vec<(String, String, bool)> {
    Role::ALL
        .iter()
        .map(|r| {
            (
                r.as_str().to_string(),
                r.label().to_string(),
                selected.contains(r),
            )
        })
        .collect()
}

/// Checkbox options for every group, checking those in `selected`.
fn group_options(groups: &[Group], selected: &[i64]) -> Vec<(String, String, bool)> {
    groups
        .iter()
        .map(|g| (g.id.to_string(), g.name.clone(), selected.contains(&g.id)))
        .collect()
}
