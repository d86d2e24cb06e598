/// Errors of the repo layer. Unique and foreign-key violations carry the constraint name, which
/// services map to a user-facing message (both migration sets name constraints identically).
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("row not found")]
    NotFound,
    #[error("constraint {constraint} violated")]
    Conflict { constraint: String },
    #[error(transparent)]
    Other(sqlx::Error),
}

impl From<sqlx::Error> for DbError {
    fn from(e: sqlx::Error) -> Self {
        match &e {
            sqlx::Error::RowNotFound => Self::NotFound,
            sqlx::Error::Database(db)
                if db.is_unique_violation() || db.is_foreign_key_violation() =>
            {
                let constraint = db.constraint().map(str::to_string).unwrap_or_else(|| {
                    // SQLite reports no constraint name, only the columns in its message.
                    sqlite_constraint_from_message(db.message())
                });
                Self::Conflict { constraint }
            }
            // Our triggers (and PostgreSQL's CHECKs named by them) say which rule refused.
            sqlx::Error::Database(db) if db.message().starts_with(TRIGGER_PREFIX) => {
                let constraint = db.message()[TRIGGER_PREFIX.len()..].trim().to_string();
                Self::Conflict { constraint }
            }
            _ => Self::Other(e),
        }
    }
}

/// How a migration's trigger names the rule it enforces: `RAISE(ABORT, 'rollgate constraint X')`.
const TRIGGER_PREFIX: &str = "rollgate constraint ";

/// SQLite says "UNIQUE constraint failed: users.username_lower"; PostgreSQL names that
/// constraint `users_username_lower_key` (its default, kept explicit in our migrations).
fn sqlite_constraint_from_message(message: &str) -> String {
    match message.split_once("constraint failed: ") {
        Some((kind, cols)) if kind.starts_with("UNIQUE") => {
            let first = cols.split(',').next().unwrap_or(cols).trim();
            format!("{}_key", first.replace('.', "_"))
        }
        _ => "foreign_key".to_string(),
    }
}

impl DbError {
    pub fn is_conflict_on(&self, name: &str) -> bool {
        matches!(self, Self::Conflict { constraint } if constraint == name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlite_unique_messages_map_to_postgres_constraint_names() {
        let name = sqlite_constraint_from_message("UNIQUE constraint failed: users.username_lower");
        assert_eq!(name, "users_username_lower_key");
        assert_eq!(
            sqlite_constraint_from_message("UNIQUE constraint failed: approval_groups.name_lower"),
            "approval_groups_name_lower_key"
        );
    }
}
