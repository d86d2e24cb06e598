//! Changes people make to how they are reached, each with its audit event.

use chrono::Utc;
use serde_json::json;

use crate::{
    audit::repo::{append, Ctx, NewAuditEvent},
    db::{Db, DbError},
    error::AppError,
    tx_run,
};

/// Sets a user's e-mail address (None removes it). Later notifications go to the new address.
pub async fn set_email(
    db: &Db,
    ctx: &Ctx,
    user_id: i64,
    email: Option<String>,
) -> Result<(), AppError> {
    let mut tx = db.begin().await?;
    let sql = "SELECT email FROM users WHERE id = $1";
    let before: Option<Option<String>> = tx_run!(&mut tx, |c| sqlx::query_scalar(sql)
        .bind(user_id)
        .fetch_optional(c)
        .await)
    .map_err(DbError::from)?;
    let Some(before) = before else {
        return Err(AppError::not_found("The user"));
    };
    if before == email {
        return Ok(());
    }
    let sql = "UPDATE users SET email = $1, updated_at = $2 WHERE id = $3";
    tx_run!(&mut tx, |c| sqlx::query(sql)
        .bind(&email)
        .bind(Utc::now())
        .bind(user_id)
        .execute(c)
        .await
        .map(|_| ()))
    .map_err(DbError::from)?;
    let event = NewAuditEvent {
        action: "user.email_changed",
        entity_type: "user",
        entity_id: user_id.to_string(),
        before: json!({ "email": before }),
        after: json!({ "email": email }),
    };
    append(&mut tx, ctx, event).await?;
    tx.commit().await?;
    Ok(())
}
