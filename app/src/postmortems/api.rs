//! Server functions for postmortems. Each authorizes first, then calls one service.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use super::{
    model::{PostmortemStatus, Sections, SECTIONS},
    view::{PostmortemView, PublishedVersion, Summary},
};
use crate::error::AppError;

/// The editor's fields, as submitted.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PostmortemForm {
    #[serde(default)]
    pub summary: String,
    #[serde(default)]
    pub impact: String,
    #[serde(default)]
    pub trigger: String,
    #[serde(default)]
    pub detection: String,
    #[serde(default)]
    pub root_cause: String,
    #[serde(default)]
    pub contributing_factors: String,
    #[serde(default)]
    pub resolution: String,
    #[serde(default)]
    pub went_well: String,
    #[serde(default)]
    pub went_wrong: String,
    #[serde(default)]
    pub got_lucky: String,
    #[serde(default)]
    pub lessons: String,
    /// When it was noticed, `YYYY-MM-DDTHH:MM` in UTC; empty: from the timeline's mark.
    #[serde(default)]
    pub detected_at: String,
    #[serde(default)]
    pub no_actions_reason: String,
}

impl PostmortemForm {
    pub fn sections(&self) -> Sections {
        let values = [
            &self.summary,
            &self.impact,
            &self.trigger,
            &self.detection,
            &self.root_cause,
            &self.contributing_factors,
            &self.resolution,
            &self.went_well,
            &self.went_wrong,
            &self.got_lucky,
            &self.lessons,
        ];
        SECTIONS
            .iter()
            .zip(values)
            .map(|(s, v)| (s.field.to_string(), v.clone()))
            .collect()
    }
}

/// A time typed as `YYYY-MM-DDTHH:MM` (what a datetime-local input sends), in UTC.
pub fn parse_utc(
    field: &str,
    raw: &str,
) -> Result<Option<chrono::DateTime<chrono::Utc>>, AppError> {
    let raw = raw.trim();
    if raw.is_empty() {
        return Ok(None);
    }
    ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M"]
        .iter()
        .find_map(|f| chrono::NaiveDateTime::parse_from_str(raw, f).ok())
        .map(|t| Some(t.and_utc()))
        .ok_or_else(|| {
            AppError::field(
                field,
                "must be a date and time such as 2026-12-01T14:30 (UTC)",
            )
        })
}

#[server(endpoint = "postmortems/open")]
pub async fn open_postmortem(change_id: i64) -> Result<i64, AppError> {
    use crate::auth::{guard, Permission};
    crate::error::respond(
        async move {
            let user = guard::require(Permission::WritePostmortems).await?;
            let db = guard::app_state()?.db;
            let now = chrono::Utc::now();
            let id = super::service::open(&db, &guard::ctx(&user), &user.actor(), change_id, now)
                .await
                .map_err(|e| match e {
                    super::service::PostmortemError::NotFound => AppError::not_found("The change"),
                    e => e.into(),
                })?;
            leptos_axum::redirect(&format!("/postmortems/{id}?saved=opened"));
            Ok(id)
        }
        .await,
    )
}

#[server(endpoint = "postmortems/get")]
pub async fn get_postmortem(id: i64) -> Result<PostmortemView, AppError> {
    use crate::auth::{guard, Permission};
    crate::error::respond(
        async move {
            guard::require(Permission::Read).await?;
            let db = guard::app_state()?.db;
            Ok(super::service::view(&db, id).await?)
        }
        .await,
    )
}

/// The change's postmortem (id and status), if it has one.
#[server(endpoint = "postmortems/of_change")]
pub async fn postmortem_of_change(
    change_id: i64,
) -> Result<Option<(i64, PostmortemStatus)>, AppError> {
    use crate::{
        auth::{guard, Permission},
        db::Conn,
    };
    crate::error::respond(
        async move {
            guard::require(Permission::Read).await?;
            let db = guard::app_state()?.db;
            Ok(super::repo::of_change(&mut Conn::Db(&db), change_id).await?)
        }
        .await,
    )
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PostmortemsPage {
    pub postmortems: Vec<Summary>,
    pub next: Option<String>,
}

#[server(endpoint = "postmortems/list")]
pub async fn list_postmortems(
    #[server(default)] status: String,
    #[server(default)] after: String,
) -> Result<PostmortemsPage, AppError> {
    use crate::auth::{guard, Permission};
    crate::error::respond(
        async move {
            guard::require(Permission::Read).await?;
            let status = match status.trim() {
                "" => None,
                s => Some(PostmortemStatus::parse(s).ok_or_else(|| {
                    AppError::field("status", "choose draft, in review or published")
                })?),
            };
            let after = match after.trim() {
                "" => None,
                a => Some(
                    a.split_once('_')
                        .and_then(|(t, id)| {
                            Some((
                                chrono::DateTime::from_timestamp_nanos(t.parse().ok()?),
                                id.parse().ok()?,
                            ))
                        })
                        .ok_or_else(|| {
                            AppError::field(
                                "after",
                                "is not a page of this list; start from the first page",
                            )
                        })?,
                ),
            };
            let db = guard::app_state()?.db;
            let (postmortems, next) = super::service::list(&db, status, after).await?;
            Ok(PostmortemsPage { postmortems, next })
        }
        .await,
    )
}

/// Saves the writer's text on top of `version`.
#[server(endpoint = "postmortems/save")]
pub async fn save_postmortem(
    id: i64,
    version: i64,
    postmortem: PostmortemForm,
) -> Result<(), AppError> {
    use crate::auth::{guard, Permission};
    crate::error::respond(
        async move {
            let user = guard::require(Permission::WritePostmortems).await?;
            let detected_at = parse_utc("detected_at", &postmortem.detected_at);
            let reason =
                crate::validate::optional("no_actions_reason", &postmortem.no_actions_reason, 2000);
            let sections = super::model::check_sections(&postmortem.sections());
            let mut fields = Vec::new();
            if let Err(AppError::Validation { fields: f }) = &detected_at {
                fields.extend(f.clone());
            }
            if let Err(e) = &reason {
                fields.push(e.clone());
            }
            if let Err(AppError::Validation { fields: f }) = &sections {
                fields.extend(f.clone());
            }
            if !fields.is_empty() {
                return Err(AppError::Validation { fields });
            }
            let draft = super::service::Draft {
                sections: sections?,
                detected_at: detected_at?,
                no_actions_reason: reason.unwrap_or_default(),
            };
            let db = guard::app_state()?.db;
            super::service::save(
                &db,
                &guard::ctx(&user),
                id,
                version,
                draft,
                chrono::Utc::now(),
            )
            .await?;
            leptos_axum::redirect(&format!("/postmortems/{id}?saved=saved"));
            Ok(())
        }
        .await,
    )
}

/// One change to the timeline, as its small forms send it: `op` is `add` (at, text, moment),
/// `mark` (seq, starred, moment, text as a note) or `remove` (entry_id).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TimelineForm {
    #[serde(default)]
    pub op: String,
    #[serde(default)]
    pub seq: Option<i64>,
    #[serde(default)]
    pub entry_id: Option<i64>,
    #[serde(default)]
    pub at: String,
    #[serde(default)]
    pub text: String,
    #[serde(default)]
    pub moment: String,
    #[serde(default)]
    pub starred: String,
}

#[server(endpoint = "postmortems/timeline")]
pub async fn edit_timeline(id: i64, version: i64, entry: TimelineForm) -> Result<(), AppError> {
    use super::{service::EntryChange, timeline::Moment};
    use crate::auth::{guard, Permission};
    crate::error::respond(
        async move {
            let user = guard::require(Permission::WritePostmortems).await?;
            let TimelineForm {
                op,
                seq,
                entry_id,
                at,
                text,
                moment,
                starred,
            } = entry;
            let moment = match moment.trim() {
                "" | "none" => None,
                m => Some(Moment::parse(m).ok_or_else(|| {
                    AppError::field(
                        "moment",
                        "choose detection, diagnosis, repair or key moment",
                    )
                })?),
            };
            let change = match op.as_str() {
                "add" => EntryChange::Add {
                    at: parse_utc("at", &at)?
                        .ok_or_else(|| AppError::field("at", "say when it happened (UTC)"))?,
                    text,
                    moment,
                },
                "mark" => EntryChange::Mark {
                    seq: seq
                        .ok_or_else(|| AppError::field("seq", "name the timeline event to mark"))?,
                    starred: matches!(starred.as_str(), "true" | "on" | "1"),
                    moment,
                    note: text,
                },
                "remove" => EntryChange::Remove {
                    entry_id: entry_id
                        .ok_or_else(|| AppError::field("entry_id", "name the entry to remove"))?,
                },
                _ => return Err(AppError::field("op", "must be add, mark or remove")),
            };
            let db = guard::app_state()?.db;
            let now = chrono::Utc::now();
            super::service::change_timeline(
                &db,
                &guard::ctx(&user),
                &user.actor(),
                id,
                version,
                change,
                now,
            )
            .await?;
            let anchor = seq
                .map(|s| format!("#event-{s}"))
                .unwrap_or_else(|| "#timeline".into());
            leptos_axum::redirect(&format!("/postmortems/{id}?saved=timeline{anchor}"));
            Ok(())
        }
        .await,
    )
}

#[server(endpoint = "postmortems/submit")]
pub async fn submit_postmortem(id: i64, version: i64) -> Result<(), AppError> {
    use crate::auth::{guard, Permission};
    crate::error::respond(
        async move {
            let user = guard::require(Permission::WritePostmortems).await?;
            let db = guard::app_state()?.db;
            super::service::submit(&db, &guard::ctx(&user), id, version, chrono::Utc::now())
                .await?;
            leptos_axum::redirect(&format!("/postmortems/{id}?saved=submitted"));
            Ok(())
        }
        .await,
    )
}

#[server(endpoint = "postmortems/send_back")]
pub async fn send_back_postmortem(
    id: i64,
    version: i64,
    #[server(default)] note: String,
) -> Result<(), AppError> {
    use crate::auth::{guard, Permission};
    crate::error::respond(
        async move {
            let user = guard::require(Permission::ReviewPostmortems).await?;
            let db = guard::app_state()?.db;
            let now = chrono::Utc::now();
            super::service::send_back(
                &db,
                &guard::ctx(&user),
                &user.actor(),
                id,
                version,
                &note,
                now,
            )
            .await?;
            leptos_axum::redirect(&format!("/postmortems/{id}?saved=sent_back"));
            Ok(())
        }
        .await,
    )
}

#[server(endpoint = "postmortems/publish")]
pub async fn publish_postmortem(id: i64, version: i64) -> Result<i64, AppError> {
    use crate::auth::{guard, Permission};
    crate::error::respond(
        async move {
            let user = guard::require(Permission::ReviewPostmortems).await?;
            let db = guard::app_state()?.db;
            let now = chrono::Utc::now();
            let n =
                super::service::publish(&db, &guard::ctx(&user), &user.actor(), id, version, now)
                    .await?;
            leptos_axum::redirect(&format!("/postmortems/{id}?saved=published"));
            Ok(n)
        }
        .await,
    )
}

#[server(endpoint = "postmortems/version")]
pub async fn postmortem_version(id: i64, number: i64) -> Result<PublishedVersion, AppError> {
    use crate::auth::{guard, Permission};
    crate::error::respond(
        async move {
            guard::require(Permission::Read).await?;
            let db = guard::app_state()?.db;
            super::service::published(&db, id, number)
                .await
                .map_err(|e| match e {
                    super::service::PostmortemError::NotFound => {
                        AppError::not_found("That published version")
                    }
                    e => e.into(),
                })
        }
        .await,
    )
}
