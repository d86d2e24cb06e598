//! `Idempotency-Key` for API writes: a repeat with the same key and body returns the first
//! response and creates nothing; the same key with another body is refused (422).

use axum::http::{HeaderMap, StatusCode};
use chrono::Utc;
use sha2::{Digest, Sha256};

use app::{
    db::{DbError, Tx},
    tx_run,
};

use super::error::ApiError;

/// The key from the request, if any (1–255 visible ASCII characters).
pub fn key(headers: &HeaderMap) -> Result<Option<String>, ApiError> {
    let Some(v) = headers.get("idempotency-key") else {
        return Ok(None);
    };
    let k = v.to_str().unwrap_or("").trim();
    if k.is_empty() || k.len() > 255 || !k.chars().all(|c| c.is_ascii_graphic()) {
        return Err(ApiError::bad_request(
            "Idempotency-Key must be 1 to 255 visible ASCII characters (a UUID works well)",
        ));
    }
    Ok(Some(k.to_string()))
}

/// The fingerprint of a request body: SHA-256 of its canonical JSON (so whitespace and key
/// order do not matter).
pub fn fingerprint(body: &serde_json::Value) -> String {
    let bytes = app::audit::canonical::canonical_bytes(body).unwrap_or_default();
    hex::encode(Sha256::digest(bytes))
}

/// A stored response for (user, key): `Some` replays it, or refuses a different body.
pub async fn replay(
    tx: &mut Tx,
    user_id: i64,
    key: &str,
    hash: &str,
) -> Result<Option<(StatusCode, String)>, ApiError> {
    let sql = "SELECT request_hash, status_code, response_body FROM idempotency_keys WHERE user_id = $1 AND idem_key = $2";
    let row: Option<(String, i32, String)> = tx_run!(tx, |c| sqlx::query_as(sql)
        .bind(user_id)
        .bind(key)
        .fetch_optional(c)
        .await)
    .map_err(DbError::from)?;
    match row {
        None => Ok(None),
        Some((stored, status, body)) if stored == hash => Ok(Some((
            StatusCode::from_u16(status as u16).unwrap_or(StatusCode::OK),
            body,
        ))),
        Some(_) => Err(ApiError {
            status: StatusCode::UNPROCESSABLE_ENTITY,
            code: "idempotency_key_reused",
            message: "this Idempotency-Key was already used with a different request body".into(),
            fields: vec![app::error::FieldError::new(
                "Idempotency-Key",
                "was used with a different body",
            )],
        }),
    }
}

/// Stores the response in the same transaction as the effect it describes.
pub async fn store(
    tx: &mut Tx,
    user_id: i64,
    key: &str,
    hash: &str,
    status: StatusCode,
    body: &str,
) -> Result<(), DbError> {
    let sql = "INSERT INTO idempotency_keys (user_id, idem_key, request_hash, status_code, response_body, created_at) \
               VALUES ($1, $2, $3, $4, $5, $6)";
    tx_run!(tx, |c| sqlx::query(sql)
        .bind(user_id)
        .bind(key)
        .bind(hash)
        .bind(status.as_u16() as i32)
        .bind(body)
        .bind(Utc::now())
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
    Ok(())
}
