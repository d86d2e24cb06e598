//! Reading the uploaded file of a multipart form, with a size limit that answers with a
//! message instead of cutting the connection.

use leptos::server_fn::codec::MultipartData;

use super::import::{too_large, MAX_BYTES};
use crate::error::AppError;

/// Past the limit the rest of the body is still read (and dropped) up to this much, so the
/// browser receives the answer instead of a reset connection.
const DRAIN_LIMIT: usize = 256 * 1024 * 1024;

/// The bytes of the form's `file` field.
pub async fn read_file_field(data: MultipartData) -> Result<Vec<u8>, AppError> {
    let bad = |m: &str| AppError::BadRequest {
        message: m.to_string(),
    };
    let mut parts = data
        .into_inner()
        .ok_or_else(|| bad("expected a file upload form"))?;
    let mut file: Option<Vec<u8>> = None;
    let mut total = 0usize;
    let unreadable = |_| bad("the upload was interrupted; try again");
    while let Some(mut field) = parts.next_field().await.map_err(unreadable)? {
        let is_file = field.name() == Some("file");
        let mut buf = Vec::new();
        while let Some(chunk) = field.chunk().await.map_err(unreadable)? {
            total += chunk.len();
            if total > DRAIN_LIMIT {
                return Err(AppError::Validation {
                    fields: vec![too_large(total)],
                });
            }
            if is_file && total <= MAX_BYTES {
                buf.extend_from_slice(&chunk);
            }
        }
        if is_file {
            file = Some(buf);
        }
    }
    if total > MAX_BYTES {
        return Err(AppError::Validation {
            fields: vec![too_large(total)],
        });
    }
    match file {
        Some(bytes) if !bytes.is_empty() => Ok(bytes),
        _ => Err(AppError::field("file", "choose a file to import")),
    }
}
