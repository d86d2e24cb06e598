//! Creating users, changing their access and deactivating them; each change is audited in the
//! same transaction.

use chrono::Utc;
use serde_json::{json, Value};

use super::{
    model::{Access, NewUser, User},
    repo,
};
use crate::{
    audit::repo::{append, Ctx, NewAuditEvent},
    auth::{password::hash_password, Role},
    db::{Conn, Db, DbError},
    error::AppError,
};

#[derive(Debug, thiserror::Error)]
pub enum UserError {
    #[error("that username is already taken")]
    UsernameTaken,
    #[error("an approval group does not exist")]
    UnknownGroup,
    #[error("user not found")]
    NotFound,
    #[error("at least one active administrator must remain")]
    LastAdmin,
    #[error("the server is too busy to hash a password")]
    Busy,
    #[error("a service account cannot be an administrator")]
    ServiceAdmin,
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

impl From<crate::auth::password::PasswordError> for UserError {
    fn from(e: crate::auth::password::PasswordError) -> Self {
        match e {
            crate::auth::password::PasswordError::Busy => Self::Busy,
            crate::auth::password::PasswordError::Failed(e) => Self::Unexpected(e),
        }
    }
}

impl From<DbError> for UserError {
    fn from(e: DbError) -> Self {
        match e {
            DbError::NotFound => Self::NotFound,
            e if e.is_conflict_on("users_username_lower_key") => Self::UsernameTaken,
            DbError::Conflict { .. } => Self::UnknownGroup,
            e => Self::Unexpected(e.into()),
        }
    }
}

impl From<UserError> for AppError {
    fn from(e: UserError) -> Self {
        match e {
            UserError::UsernameTaken => AppError::field("username", "is already taken; choose another"),
            UserError::UnknownGroup => AppError::field("groups", "one of the chosen groups no longer exists; reload the page"),
            UserError::NotFound => AppError::not_found("The user"),
            UserError::LastAdmin => AppError::conflict("At least one active administrator must remain: make someone else an administrator first."),
            UserError::ServiceAdmin => AppError::field("roles", "a service account cannot be an administrator"),
            UserError::Busy => AppError::Busy {
                seconds: crate::auth::service::BUSY_RETRY_SECONDS,
            },
            UserError::Unexpected(e) => crate::error::internal(e),
        }
    }
}

/// Stored as a service account's password hash.
pub const SERVICE_ACCOUNT_HASH: &str = "!service-account";

/// The state of a user as audit events record it (never the password hash).
pub fn snapshot(user: &User) -> Value {
    json!({
        "username": user.username,
        "display_name": user.display_name,
        "active": user.active,
        "kind": if user.service { "service" } else { "person" },
        "roles": user.roles.iter().map(|r| r.as_str()).collect::<Vec<_>>(),
        "groups": user.groups.iter().map(|g| g.name.clone()).collect::<Vec<_>>(),
    })
}

#[tracing::instrument(skip_all, fields(username = new.username.as_str()))]
pub async fn create_user(db: &Db, ctx: &Ctx, new: NewUser) -> Result<i64, UserError> {
    // A service account's hash is no valid hash: nothing can ever match it.
    let hash = if new.service {
        SERVICE_ACCOUNT_HASH.to_string()
    } else {
        hash_password(new.password.clone()).await?
    };
    let now = Utc::now();
    let mut tx = db.begin().await?;
    let id = repo::insert_user(&mut tx, &new, &hash, now).await?;
    repo::set_roles(&mut tx, id, &new.access.roles, now).await?;
    repo::set_groups(&mut tx, id, &new.access.group_ids, now).await?;
    let user = repo::get_user(&mut Conn::Tx(&mut tx), id).await?;
    let event = NewAuditEvent {
        action: "user.created",
        entity_type: "user",
        entity_id: id.to_string(),
        before: Value::Null,
        after: snapshot(&user),
    };
    append(&mut tx, ctx, event).await?;
    tx.commit().await?;
    Ok(id)
}

/// Replaces a user's roles and groups.
#[tracing::instrument(skip_all, fields(user_id))]
pub async fn update_access(
    db: &Db,
    ctx: &Ctx,
    user_id: i64,
    access: Access,
) -> Result<(), UserError> {
    let now = Utc::now();
    let mut tx = db.begin().await?;
    let before = repo::get_user(&mut Conn::Tx(&mut tx), user_id).await?;
    if before.service && access.roles.contains(&Role::Admin) {
        return Err(UserError::ServiceAdmin);
    }
    if before.roles.contains(&Role::Admin) && !access.roles.contains(&Role::Admin) {
        ensure_another_admin(&mut Conn::Tx(&mut tx), user_id).await?;
    }
    repo::set_roles(&mut tx, user_id, &access.roles, now).await?;
    repo::set_groups(&mut tx, user_id, &access.group_ids, now).await?;
    let after = repo::get_user(&mut Conn::Tx(&mut tx), user_id).await?;
    if after.roles == before.roles && after.groups == before.groups {
        return Ok(()); // nothing changed: nothing to record
    }
    let event = NewAuditEvent {
        action: "user.access_changed",
        entity_type: "user",
        entity_id: user_id.to_string(),
        before: snapshot(&before),
        after: snapshot(&after),
    };
    append(&mut tx, ctx, event).await?;
    tx.commit().await?;
    Ok(())
}

/// Deactivates (or reactivates) a user. Deactivated users cannot sign in; history stays.
#[tracing::instrument(skip_all, fields(user_id, active))]
pub async fn set_active(db: &Db, ctx: &Ctx, user_id: i64, active: bool) -> Result<(), UserError> {
    let mut tx = db.begin().await?;
    let before = repo::get_user(&mut Conn::Tx(&mut tx), user_id).await?;
    if before.active == active {
        return Ok(());
    }
    if !active && before.roles.contains(&Role::Admin) {
        ensure_another_admin(&mut Conn::Tx(&mut tx), user_id).await?;
    }
    repo::set_active(&mut tx, user_id, active, Utc::now()).await?;
    let after = User {
        active,
        ..before.clone()
    };
    let action = if active {
        "user.reactivated"
    } else {
        "user.deactivated"
    };
    let event = NewAuditEvent {
        action,
        entity_type: "user",
        entity_id: user_id.to_string(),
        before: snapshot(&before),
        after: snapshot(&after),
    };
    append(&mut tx, ctx, event).await?;
    tx.commit().await?;
    Ok(())
}

/// Ends every session of the user at once ("sign out everywhere"); their API tokens stay.
#[tracing::instrument(skip_all, fields(user_id))]
pub async fn sign_out_everywhere(db: &Db, ctx: &Ctx, user_id: i64) -> Result<(), UserError> {
    let mut tx = db.begin().await?;
    let user = repo::get_user(&mut Conn::Tx(&mut tx), user_id).await?;
    let now = Utc::now();
    repo::revoke_sessions(&mut tx, user_id, now).await?;
    let event = NewAuditEvent {
        action: "user.sessions_ended",
        entity_type: "user",
        entity_id: user_id.to_string(),
        before: Value::Null,
        after: json!({ "username": user.username, "sessions_ended_at": now.to_rfc3339() }),
    };
    append(&mut tx, ctx, event).await?;
    tx.commit().await?;
    Ok(())
}

async fn ensure_another_admin(conn: &mut Conn<'_>, user_id: i64) -> Result<(), UserError> {
    if repo::count_other_active_admins(conn, user_id).await? == 0 {
        return Err(UserError::LastAdmin);
    }
    Ok(())
}
