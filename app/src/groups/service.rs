//! Adding approval groups, audited.

use chrono::Utc;
use serde_json::{json, Value};

use super::{
    model::{NewGroup, DEFAULT_GROUPS},
    repo,
};
use crate::{
    audit::repo::{append, Ctx, NewAuditEvent},
    db::{Conn, Db, DbError},
    error::AppError,
};

#[derive(Debug, thiserror::Error)]
pub enum GroupError {
    #[error("a group with that name exists")]
    NameTaken,
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

impl From<DbError> for GroupError {
    fn from(e: DbError) -> Self {
        if e.is_conflict_on("approval_groups_name_lower_key") {
            Self::NameTaken
        } else {
            Self::Unexpected(e.into())
        }
    }
}

impl From<GroupError> for AppError {
    fn from(e: GroupError) -> Self {
        match e {
            GroupError::NameTaken => {
                AppError::field("name", "a group with this name already exists")
            }
            GroupError::Unexpected(e) => crate::error::internal(e),
        }
    }
}

#[tracing::instrument(skip_all, fields(name = new.name))]
pub async fn create_group(db: &Db, ctx: &Ctx, new: NewGroup) -> Result<i64, GroupError> {
    let mut tx = db.begin().await?;
    let id = repo::insert_group(&mut tx, &new, Utc::now()).await?;
    let after = json!({"name": new.name, "description": new.description});
    let event = NewAuditEvent {
        action: "group.created",
        entity_type: "approval_group",
        entity_id: id.to_string(),
        before: Value::Null,
        after,
    };
    append(&mut tx, ctx, event).await?;
    tx.commit().await?;
    Ok(id)
}

/// Creates the default groups in an installation that has none yet.
pub async fn ensure_default_groups(db: &Db) -> Result<(), GroupError> {
    if repo::count_groups(&mut Conn::Db(db)).await? > 0 {
        return Ok(());
    }
    for (name, description) in DEFAULT_GROUPS {
        let new = NewGroup {
            name: name.into(),
            description: description.into(),
        };
        match create_group(db, &Ctx::system(), new).await {
            Err(GroupError::NameTaken) => {} // another instance seeded it at the same moment
            other => {
                other?;
            }
        }
    }
    Ok(())
}
