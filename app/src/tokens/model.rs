use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::{
    auth::{Permission, Role},
    error::{AppError, FieldError},
    validate::{self, Errors},
};

/// What an API token may do. A token never exceeds its owner's roles.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Scope {
    #[serde(rename = "changes:read")]
    ChangesRead,
    #[serde(rename = "changes:write")]
    ChangesWrite,
    #[serde(rename = "catalog:read")]
    CatalogRead,
    #[serde(rename = "catalog:write")]
    CatalogWrite,
}

impl Scope {
    pub const ALL: [Scope; 4] = [
        Self::ChangesRead,
        Self::ChangesWrite,
        Self::CatalogRead,
        Self::CatalogWrite,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::ChangesRead => "changes:read",
            Self::ChangesWrite => "changes:write",
            Self::CatalogRead => "catalog:read",
            Self::CatalogWrite => "catalog:write",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|x| x.as_str() == s)
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::ChangesRead => "Read changes",
            Self::ChangesWrite => "Record changes",
            Self::CatalogRead => "Read the catalog",
            Self::CatalogWrite => "Declare components and lineage",
        }
    }

    /// The permission the owner must hold for this scope to work.
    pub fn permission(self) -> Permission {
        match self {
            Self::ChangesRead | Self::CatalogRead => Permission::Read,
            Self::ChangesWrite => Permission::RecordChanges,
            Self::CatalogWrite => Permission::EditCatalog,
        }
    }
}

/// Scopes as stored: space-separated.
pub fn scopes_to_string(scopes: &[Scope]) -> String {
    scopes
        .iter()
        .map(|s| s.as_str())
        .collect::<Vec<_>>()
        .join(" ")
}

pub fn scopes_from_string(s: &str) -> Vec<Scope> {
    s.split_whitespace().filter_map(Scope::parse).collect()
}

/// A token as lists show it (never the secret).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiToken {
    pub id: i64,
    pub owner: String,
    pub name: String,
    pub scopes: Vec<Scope>,
    /// The secret's first characters, to tell tokens apart.
    pub prefix: String,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
}

/// A validated new token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewToken {
    pub name: String,
    pub scopes: Vec<Scope>,
}

impl NewToken {
    pub fn parse(name: &str, scopes: &[String]) -> Result<Self, AppError> {
        let mut e = Errors::default();
        let name = e.check(validate::text("name", name, 80, true, false));
        let mut parsed = Vec::new();
        for s in scopes {
            match Scope::parse(s.trim()) {
                Some(x) if !parsed.contains(&x) => parsed.push(x),
                Some(_) => {}
                None => e.push("scopes", format!("`{s}` is not a scope")),
            }
        }
        if parsed.is_empty() && e.0.iter().all(|f: &FieldError| f.field != "scopes") {
            e.push("scopes", "choose at least one thing the token may do");
        }
        parsed.sort();
        e.finish(Self {
            name,
            scopes: parsed,
        })
    }

    /// Every scope must be backed by one of the owner's roles.
    pub fn check_owner(&self, owner: &str, roles: &[Role]) -> Result<(), AppError> {
        for s in &self.scopes {
            if !s.permission().roles().iter().any(|r| roles.contains(r)) {
                return Err(AppError::field(
                    "scopes",
                    format!("{owner} may not “{}”, so their token may not either: change their roles first", s.label().to_lowercase()),
                ));
            }
        }
        Ok(())
    }
}

/// The token a request authenticated with, and the user it acts as.
#[derive(Debug, Clone)]
pub struct TokenPrincipal {
    pub token_id: i64,
    pub token_name: String,
    pub scopes: Vec<Scope>,
    pub user: crate::auth::CurrentUser,
}

/// What the tokens page shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokensPage {
    pub tokens: Vec<ApiToken>,
    /// A token created just now, with its secret: shown on the page that announces it only.
    pub fresh: Option<(i64, String)>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_needs_a_name_and_known_scopes() {
        let err = NewToken::parse(" ", &["changes:write".into(), "root".into()]).unwrap_err();
        assert!(err.field_message("name").is_some());
        assert!(err.field_message("scopes").unwrap().contains("`root`"));
        assert!(NewToken::parse("ci", &[])
            .unwrap_err()
            .field_message("scopes")
            .is_some());
        let t = NewToken::parse(
            "ci",
            &[
                "changes:write".into(),
                "changes:read".into(),
                "changes:write".into(),
            ],
        )
        .unwrap();
        assert_eq!(t.scopes, [Scope::ChangesRead, Scope::ChangesWrite]);
    }

    #[test]
    fn a_scope_needs_a_role_behind_it() {
        let t = NewToken::parse("ci", &["changes:write".into()]).unwrap();
        assert!(t.check_owner("ana", &[Role::Requester]).is_ok());
        assert!(t
            .check_owner("aud", &[Role::Auditor])
            .unwrap_err()
            .field_message("scopes")
            .is_some());
    }
}
