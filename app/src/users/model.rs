use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::{
    auth::{GroupRef, Role},
    error::{AppError, FieldError},
};

/// A user as the admin pages show them (never with the password hash).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    pub id: i64,
    pub username: String,
    pub display_name: String,
    pub active: bool,
    /// A service account: API tokens only, never a password sign-in.
    pub service: bool,
    /// Sessions begun before this no longer count (deactivation, sign out everywhere).
    pub sessions_revoked_at: Option<DateTime<Utc>>,
    /// Where notifications are e-mailed (none: only the Notifications page).
    pub email: Option<String>,
    pub roles: Vec<Role>,
    pub groups: Vec<GroupRef>,
    pub created_at: DateTime<Utc>,
}

/// A validated username: 3–64 characters of a–z, 0–9, `.`, `_`, `-`, starting with a letter or
/// digit. Stored lowercase, so sign-in is case-insensitive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Username(String);

impl Username {
    pub fn parse(raw: &str) -> Result<Self, String> {
        let name = raw.trim().to_lowercase();
        let len = name.chars().count();
        if len == 0 {
            return Err("is required".into());
        }
        if !(3..=64).contains(&len) {
            return Err(format!("must be 3 to 64 characters (this one has {len})"));
        }
        let allowed = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || "._-".contains(c);
        if let Some(bad) = name.chars().find(|c| !allowed(*c)) {
            return Err(format!(
                "may use only letters a–z, digits and . _ - (not \u{201c}{bad}\u{201d})"
            ));
        }
        if !name.starts_with(|c: char| c.is_ascii_alphanumeric()) {
            return Err("must start with a letter or a digit".into());
        }
        Ok(Self(name))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A validated display name: 1–100 characters, no control characters.
pub fn parse_display_name(raw: &str) -> Result<String, String> {
    let name = raw.trim();
    let len = name.chars().count();
    if len == 0 {
        return Err("is required".into());
    }
    if len > 100 {
        return Err(format!(
            "must be at most 100 characters (this one has {len})"
        ));
    }
    if name.chars().any(char::is_control) {
        return Err("must not contain control characters".into());
    }
    Ok(name.to_string())
}

pub const MIN_PASSWORD: usize = 12;
pub const MAX_PASSWORD: usize = 128;

/// Checks a new password: 12–128 characters and not the username.
pub fn check_password(password: &str, username: &str) -> Result<(), String> {
    let len = password.chars().count();
    if len < MIN_PASSWORD {
        return Err(format!("must be at least {MIN_PASSWORD} characters"));
    }
    if len > MAX_PASSWORD {
        return Err(format!("must be at most {MAX_PASSWORD} characters"));
    }
    if password.trim().eq_ignore_ascii_case(username) {
        return Err("must not be the username".into());
    }
    Ok(())
}

/// Roles and approval groups chosen for a user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Access {
    pub roles: Vec<Role>,
    pub group_ids: Vec<i64>,
}

/// Validates a role/group selection: at least one role, known roles only, and groups only
/// for approvers, who need at least one.
pub fn parse_access(roles: &[String], group_ids: &[i64]) -> Result<Access, FieldError> {
    let mut parsed = Vec::new();
    for raw in roles {
        let role = Role::parse(raw).ok_or_else(|| {
            FieldError::new("roles", format!("\u{201c}{raw}\u{201d} is not a role"))
        })?;
        if !parsed.contains(&role) {
            parsed.push(role);
        }
    }
    parsed.sort();
    if parsed.is_empty() {
        return Err(FieldError::new("roles", "choose at least one role"));
    }
    let mut groups = group_ids.to_vec();
    groups.sort_unstable();
    groups.dedup();
    let approver = parsed.contains(&Role::Approver);
    if approver && groups.is_empty() {
        return Err(FieldError::new(
            "groups",
            "an approver needs at least one approval group",
        ));
    }
    if !approver && !groups.is_empty() {
        return Err(FieldError::new(
            "groups",
            "approval groups apply to approvers only: add the Approver role or clear the groups",
        ));
    }
    Ok(Access {
        roles: parsed,
        group_ids: groups,
    })
}

/// A new user, validated.
#[derive(Debug, Clone)]
pub struct NewUser {
    pub username: Username,
    pub display_name: String,
    /// Empty for a service account, which has no password.
    pub password: String,
    pub access: Access,
    pub service: bool,
}

impl NewUser {
    /// Validates every field at once, so the form can mark all problems together.
    pub fn parse(
        username: &str,
        display_name: &str,
        password: &str,
        roles: &[String],
        groups: &[i64],
    ) -> Result<Self, AppError> {
        let mut errors = Vec::new();
        let username = Username::parse(username)
            .map_err(|m| errors.push(FieldError::new("username", m)))
            .ok();
        let display_name = parse_display_name(display_name)
            .map_err(|m| errors.push(FieldError::new("display_name", m)))
            .ok();
        let name_for_check = username
            .as_ref()
            .map(|u| u.as_str().to_string())
            .unwrap_or_default();
        if let Err(m) = check_password(password, &name_for_check) {
            errors.push(FieldError::new("password", m));
        }
        let access = parse_access(roles, groups).map_err(|e| errors.push(e)).ok();
        match (username, display_name, access) {
            (Some(username), Some(display_name), Some(access)) if errors.is_empty() => Ok(Self {
                username,
                display_name,
                password: password.to_string(),
                access,
                service: false,
            }),
            _ => Err(AppError::Validation { fields: errors }),
        }
    }

    /// A service account (for CI's API tokens): no password, and it never signs in.
    pub fn service(
        username: &str,
        display_name: &str,
        roles: &[String],
        groups: &[i64],
    ) -> Result<Self, AppError> {
        let mut errors = Vec::new();
        let username = Username::parse(username)
            .map_err(|m| errors.push(FieldError::new("username", m)))
            .ok();
        let display_name = parse_display_name(display_name)
            .map_err(|m| errors.push(FieldError::new("display_name", m)))
            .ok();
        let access = parse_access(roles, groups).map_err(|e| errors.push(e)).ok();
        if access
            .as_ref()
            .is_some_and(|a| a.roles.contains(&Role::Admin))
        {
            errors.push(FieldError::new(
                "roles",
                "a service account cannot be an administrator",
            ));
        }
        match (username, display_name, access) {
            (Some(username), Some(display_name), Some(access)) if errors.is_empty() => Ok(Self {
                username,
                display_name,
                password: String::new(),
                access,
                service: true,
            }),
            _ => Err(AppError::Validation { fields: errors }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usernames_are_lowercased_and_trimmed() {
        assert_eq!(Username::parse("  Ana.Lima ").unwrap().as_str(), "ana.lima");
    }

    #[test]
    fn usernames_with_spaces_unicode_or_bad_lengths_are_refused() {
        assert!(Username::parse("").unwrap_err().contains("required"));
        assert!(Username::parse("ab").unwrap_err().contains("3 to 64"));
        assert!(Username::parse(&"a".repeat(10_000))
            .unwrap_err()
            .contains("10000"));
        assert!(Username::parse("zoë").unwrap_err().contains("ë"));
        assert!(Username::parse("a b c").is_err());
        assert!(Username::parse("-abc").unwrap_err().contains("start"));
    }

    #[test]
    fn display_names_accept_unicode_but_not_control_characters() {
        assert_eq!(parse_display_name(" Zoë Ōtani ").unwrap(), "Zoë Ōtani");
        assert!(parse_display_name("a\u{0007}b").is_err());
        assert!(parse_display_name(&"é".repeat(101)).is_err());
    }

    #[test]
    fn short_passwords_and_the_username_as_password_are_refused() {
        assert!(check_password("short", "ana").is_err());
        assert!(check_password("ana.lima.1234", "ana.lima.1234").is_err());
        assert!(check_password("correct horse battery", "ana").is_ok());
    }

    #[test]
    fn an_approver_needs_a_group_and_others_have_none() {
        let approver = vec!["approver".to_string()];
        assert_eq!(parse_access(&approver, &[]).unwrap_err().field, "groups");
        assert!(parse_access(&approver, &[2, 2]).unwrap().group_ids == vec![2]);
        assert!(parse_access(&["auditor".to_string()], &[1]).is_err());
        assert_eq!(parse_access(&[], &[]).unwrap_err().field, "roles");
        assert!(parse_access(&["wizard".to_string()], &[]).is_err());
    }

    #[test]
    fn a_new_user_reports_every_bad_field_together() {
        let err = NewUser::parse("", "", "x", &[], &[]).unwrap_err();
        for field in ["username", "display_name", "password", "roles"] {
            assert!(err.field_message(field).is_some(), "{field}");
        }
    }
}
