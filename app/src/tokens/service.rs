//! Creating, revoking and authenticating API tokens. Creating and revoking are audited; the
//! secret is shown once and never stored or logged.

use chrono::{Duration, Utc};
use rand::RngCore;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use super::{
    model::{scopes_to_string, ApiToken, NewToken, TokenPrincipal},
    repo,
};
use crate::{
    audit::repo::{append, Ctx, NewAuditEvent},
    auth::{CurrentUser, Permission},
    db::{Conn, Db, DbError},
    error::AppError,
    users::repo::{find_credentials, get_user},
};

/// `rg_` and 64 hex digits (256 random bits).
fn new_secret() -> String {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    format!("rg_{}", hex::encode(bytes))
}

pub fn hash_secret(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

fn snapshot(t: &ApiToken) -> Value {
    json!({ "owner": t.owner, "name": t.name, "scopes": scopes_to_string(&t.scopes), "prefix": t.prefix })
}

/// Who minted the token: the signed-in creator, or the server's command line.
fn created_snapshot(t: &ApiToken, ctx: &Ctx) -> Value {
    let mut v = snapshot(t);
    v["created_by"] = match &ctx.actor {
        Some(a) => json!(a.username),
        None => json!("command line"),
    };
    v
}

fn map_db(e: DbError) -> AppError {
    if e.is_conflict_on("api_tokens_user_id_key") {
        AppError::field("name", "this user already has a token with that name")
    } else {
        e.into()
    }
}

/// Creates a token for `owner` (a username; the creator themself unless an admin names a
/// service account). Returns the token and its secret. A token acts as its owner, so nobody
/// may mint one for another person: it would record changes in their name and, by making
/// them the requester, keep them from approving.
pub async fn create(
    db: &Db,
    ctx: &Ctx,
    creator: &CurrentUser,
    owner: &str,
    new: NewToken,
) -> Result<(ApiToken, String), AppError> {
    let owner = owner.trim().to_lowercase();
    let owner = if owner.is_empty() {
        creator.username.clone()
    } else {
        owner
    };
    if owner != creator.username && !creator.can(Permission::ManageAllTokens) {
        return Err(AppError::Forbidden);
    }
    let mut conn = Conn::Db(db);
    let creds = find_credentials(&mut conn, &owner)
        .await?
        .filter(|c| c.active)
        .ok_or_else(|| AppError::field("owner", format!("`{owner}` is not an active user")))?;
    let user = get_user(&mut conn, creds.id).await?;
    if user.id != creator.id && !user.service {
        return Err(AppError::field(
            "owner",
            format!("`{owner}` is a person: tokens for someone else are only for service accounts (people create their own)"),
        ));
    }
    new.check_owner(&user.username, &user.roles)?;
    let secret = new_secret();
    let now = Utc::now();
    let mut tx = db.begin().await?;
    let id = repo::insert(
        &mut tx,
        user.id,
        &new.name,
        &new.scopes,
        &secret[..10],
        &hash_secret(&secret),
        creator.id,
        now,
    )
    .await
    .map_err(map_db)?;
    let (token, _) = repo::get(&mut Conn::Tx(&mut tx), id).await?;
    let event = NewAuditEvent {
        action: "api_token.created",
        entity_type: "api_token",
        entity_id: id.to_string(),
        before: Value::Null,
        after: created_snapshot(&token, ctx),
    };
    append(&mut tx, ctx, event).await?;
    tx.commit().await?;
    Ok((token, secret))
}

/// Revokes a token: its owner or an admin may.
pub async fn revoke(db: &Db, ctx: &Ctx, actor: &CurrentUser, id: i64) -> Result<(), AppError> {
    let mut tx = db.begin().await?;
    let (token, owner_id) = repo::get(&mut Conn::Tx(&mut tx), id)
        .await
        .map_err(|e| match e {
            DbError::NotFound => AppError::not_found("The token"),
            e => e.into(),
        })?;
    if owner_id != actor.id && !actor.can(Permission::ManageAllTokens) {
        return Err(AppError::Forbidden);
    }
    if !repo::revoke(&mut tx, id, Utc::now()).await? {
        return Ok(()); // already revoked
    }
    let event = NewAuditEvent {
        action: "api_token.revoked",
        entity_type: "api_token",
        entity_id: id.to_string(),
        before: snapshot(&token),
        after: Value::Null,
    };
    append(&mut tx, ctx, event).await?;
    tx.commit().await?;
    Ok(())
}

/// Why a bearer token was refused (each answered 401 with its own message).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenRefusal {
    Unknown,
    Revoked,
    OwnerInactive,
}

/// The token and user behind a bearer secret; records when it was last used (at most once a
/// minute, so reads stay cheap).
pub async fn authenticate(
    db: &Db,
    secret: &str,
) -> Result<Result<TokenPrincipal, TokenRefusal>, AppError> {
    let mut conn = Conn::Db(db);
    let Some((id, user_id, name, scopes, revoked, last_used)) =
        repo::find_by_hash(&mut conn, &hash_secret(secret.trim())).await?
    else {
        return Ok(Err(TokenRefusal::Unknown));
    };
    if revoked.is_some() {
        return Ok(Err(TokenRefusal::Revoked));
    }
    let user = get_user(&mut conn, user_id).await?;
    if !user.active {
        return Ok(Err(TokenRefusal::OwnerInactive));
    }
    let now = Utc::now();
    if last_used.is_none_or(|t| now - t > Duration::minutes(1)) {
        repo::touch(&mut conn, id, now).await?;
    }
    Ok(Ok(TokenPrincipal {
        token_id: id,
        token_name: name,
        scopes: super::model::scopes_from_string(&scopes),
        user: CurrentUser {
            id: user.id,
            username: user.username,
            display_name: user.display_name,
            roles: user.roles,
            groups: user.groups,
        },
    }))
}
