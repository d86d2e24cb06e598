use serde::{Deserialize, Serialize};

use crate::error::{AppError, FieldError};

/// An approval group with how many users are in it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Group {
    pub id: i64,
    pub name: String,
    pub description: String,
    pub members: i64,
}

/// The groups every new installation starts with (product, governance, engineering sign-off).
pub const DEFAULT_GROUPS: [(&str, &str); 3] = [
    (
        "Product",
        "Signs off on what a rollback means for users and data consumers.",
    ),
    (
        "Data governance",
        "Signs off on data quality, retention and compliance.",
    ),
    (
        "Engineering",
        "Signs off on the technical plan and its order.",
    ),
];

/// A validated new group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewGroup {
    pub name: String,
    pub description: String,
}

impl NewGroup {
    pub fn parse(name: &str, description: &str) -> Result<Self, AppError> {
        let mut errors = Vec::new();
        let name = name.trim();
        let n = name.chars().count();
        if n == 0 {
            errors.push(FieldError::new("name", "is required"));
        } else if n > 60 {
            errors.push(FieldError::new(
                "name",
                format!("must be at most 60 characters (this one has {n})"),
            ));
        } else if name.chars().any(char::is_control) {
            errors.push(FieldError::new(
                "name",
                "must not contain control characters",
            ));
        }
        let description = description.trim();
        if description.chars().count() > 500 {
            errors.push(FieldError::new(
                "description",
                "must be at most 500 characters",
            ));
        }
        if errors.is_empty() {
            Ok(Self {
                name: name.to_string(),
                description: description.to_string(),
            })
        } else {
            Err(AppError::Validation { fields: errors })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_group_needs_a_short_name() {
        assert!(NewGroup::parse("  ", "")
            .unwrap_err()
            .field_message("name")
            .is_some());
        assert!(NewGroup::parse(&"x".repeat(61), "").is_err());
        assert_eq!(
            NewGroup::parse(" Finance ", " money ").unwrap().name,
            "Finance"
        );
    }
}
