use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::error::{AppError, FieldError};

/// Who caused an event: a user, or `None` for the system (startup, worker).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Actor {
    pub id: i64,
    pub username: String,
}

/// One audit event as the audit log page shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEntry {
    pub seq: i64,
    pub at: DateTime<Utc>,
    pub actor: Option<Actor>,
    pub action: String,
    pub entity_type: String,
    pub entity_id: String,
    pub request_id: Option<String>,
    pub before: String,
    pub after: String,
    pub chain_hash: String,
}

/// The audit log filters as typed in the page's form (all optional, all text).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditQuery {
    #[serde(default)]
    pub actor: String,
    #[serde(default)]
    pub action: String,
    #[serde(default)]
    pub entity_type: String,
    #[serde(default)]
    pub entity_id: String,
    #[serde(default)]
    pub from: String,
    #[serde(default)]
    pub to: String,
    /// Keyset cursor: show events older than this seq.
    #[serde(default)]
    pub before: Option<i64>,
    /// Keyset cursor: show events newer than this seq.
    #[serde(default)]
    pub after: Option<i64>,
}

/// A validated audit filter.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditFilter {
    pub actor: Option<String>,
    pub action: Option<String>,
    pub entity_type: Option<String>,
    pub entity_id: Option<String>,
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
    pub cursor: Cursor,
}

/// Where a page starts; pages are keyset-paginated on `seq`, newest first.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Cursor {
    #[default]
    Newest,
    Before(i64),
    After(i64),
}

/// One page of the audit log with the cursors of its neighbours.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditPage {
    pub entries: Vec<AuditEntry>,
    pub older: Option<i64>,
    pub newer: Option<i64>,
}

pub const PAGE_SIZE: usize = 50;
const MAX_FILTER_LEN: usize = 200;

impl AuditQuery {
    /// Validates the filters; every problem names its field.
    pub fn parse(&self) -> Result<AuditFilter, AppError> {
        let mut errors = Vec::new();
        let from = parse_date("from", &self.from, &mut errors);
        let to = parse_date("to", &self.to, &mut errors);
        if let (Some(f), Some(t)) = (from, to) {
            if t < f {
                errors.push(FieldError::new("to", "must be on or after the 'from' date"));
            }
        }
        let text = |field: &str, v: &str, errors: &mut Vec<FieldError>| {
            let v = v.trim();
            if v.chars().count() > MAX_FILTER_LEN {
                errors.push(FieldError::new(
                    field,
                    format!("must be at most {MAX_FILTER_LEN} characters"),
                ));
            }
            (!v.is_empty()).then(|| v.to_string())
        };
        let filter = AuditFilter {
            actor: text("actor", &self.actor, &mut errors).map(|a| a.to_lowercase()),
            action: text("action", &self.action, &mut errors),
            entity_type: text("entity_type", &self.entity_type, &mut errors),
            entity_id: text("entity_id", &self.entity_id, &mut errors),
            from,
            to,
            cursor: match (self.before, self.after) {
                (Some(b), _) => Cursor::Before(b),
                (None, Some(a)) => Cursor::After(a),
                _ => Cursor::Newest,
            },
        };
        if errors.is_empty() {
            Ok(filter)
        } else {
            Err(AppError::Validation { fields: errors })
        }
    }

    /// The same filters with another cursor, for the "older"/"newer" links.
    pub fn with_cursor(&self, before: Option<i64>, after: Option<i64>) -> Self {
        Self {
            before,
            after,
            ..self.clone()
        }
    }
}

fn parse_date(field: &str, value: &str, errors: &mut Vec<FieldError>) -> Option<NaiveDate> {
    let value = value.trim();
    if value.is_empty() {
        return None;
    }
    match NaiveDate::parse_from_str(value, "%Y-%m-%d") {
        Ok(d) => Some(d),
        Err(_) => {
            errors.push(FieldError::new(field, "must be a date like 2026-11-23"));
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_empty_query_means_the_newest_events_unfiltered() {
        assert_eq!(
            AuditQuery::default().parse().unwrap(),
            AuditFilter::default()
        );
    }

    #[test]
    fn a_malformed_date_names_its_field() {
        let q = AuditQuery {
            from: "23/11/2026".into(),
            ..Default::default()
        };
        let err = q.parse().unwrap_err();
        assert!(err.field_message("from").unwrap().contains("2026-11-23"));
    }

    #[test]
    fn a_range_that_ends_before_it_starts_is_refused() {
        let q = AuditQuery {
            from: "2026-11-23".into(),
            to: "2026-11-01".into(),
            ..Default::default()
        };
        assert!(q.parse().unwrap_err().field_message("to").is_some());
    }

    #[test]
    fn actor_filters_match_usernames_case_insensitively() {
        let q = AuditQuery {
            actor: "  Ana ".into(),
            before: Some(10),
            ..Default::default()
        };
        let f = q.parse().unwrap();
        assert_eq!(f.actor.as_deref(), Some("ana"));
        assert_eq!(f.cursor, Cursor::Before(10));
    }
}
