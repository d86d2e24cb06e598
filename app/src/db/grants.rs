//! The PostgreSQL application role: what the server needs and nothing more.
//!
//! `rollgate migrate --grant-to ROLE` runs as the owner, then grants ROLE reading and writing
//! rows, but no DDL (it owns no table, so it cannot drop a trigger or alter a table), no
//! TRUNCATE anywhere, and on the audit log only SELECT and INSERT. A server running as ROLE
//! with `migrate_on_start = false` cannot rewrite history even if it is compromised.

use super::{Db, DbError};

/// The role name PostgreSQL would accept unquoted: `[a-z_][a-z0-9_]*`, at most 63 bytes.
pub fn check_role_name(role: &str) -> Result<(), String> {
    let ok = !role.is_empty()
        && role.len() <= 63
        && role.starts_with(|c: char| c.is_ascii_lowercase() || c == '_')
        && role
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if ok {
        Ok(())
    } else {
        Err(format!(
            "`{role}` is not a plain role name: lowercase letters, digits and _, starting with a letter"
        ))
    }
}

/// The statements that grant `role` the application's privileges (role already checked).
pub fn grant_statements(role: &str) -> Vec<String> {
    [
        "GRANT USAGE ON SCHEMA public TO {r}",
        "GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {r}",
        "GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {r}",
        "REVOKE UPDATE, DELETE, TRUNCATE ON audit_events FROM {r}",
        "REVOKE DELETE, TRUNCATE ON audit_chain_head FROM {r}",
        "REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON _sqlx_migrations FROM {r}",
        "GRANT USAGE ON SCHEMA tower_sessions TO {r}",
        "GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA tower_sessions TO {r}",
    ]
    .iter()
    .map(|s| s.replace("{r}", role))
    .collect()
}

#[derive(Debug, thiserror::Error)]
pub enum GrantError {
    #[error("{0}")]
    BadRole(String),
    #[error("roles are a PostgreSQL feature: a SQLite database has none to grant")]
    Sqlite,
    #[error("granting failed: {0}")]
    Db(#[from] DbError),
}

pub async fn grant_application_role(db: &Db, role: &str) -> Result<(), GrantError> {
    check_role_name(role).map_err(GrantError::BadRole)?;
    let Db::Postgres(pool) = db else {
        return Err(GrantError::Sqlite);
    };
    let mut tx = pool.begin().await.map_err(DbError::from)?;
    for sql in grant_statements(role) {
        sqlx::query(&sql)
            .execute(&mut *tx)
            .await
            .map_err(DbError::from)?;
    }
    tx.commit().await.map_err(DbError::from)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_plain_role_names_reach_the_sql() {
        assert!(check_role_name("rollgate_app").is_ok());
        for bad in [
            "",
            "App",
            "1app",
            "app; DROP TABLE users",
            "a-b",
            &"a".repeat(64),
        ] {
            assert!(check_role_name(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_audit_log_is_never_granted_more_than_select_and_insert() {
        let sql = grant_statements("app").join("\n");
        assert!(sql.contains("REVOKE UPDATE, DELETE, TRUNCATE ON audit_events FROM app"));
        assert!(!sql.contains("CREATE") && !sql.contains("ALL PRIVILEGES"));
    }
}
