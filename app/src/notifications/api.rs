//! Server functions for notifications: a person's own list, who was told about a thing, and the
//! administrators' e-mail settings and delivery list. Each authorizes first.

use leptos::prelude::*;

use super::{
    mail::MailSettings,
    model::{DeliveryPage, NoticePage, Told},
};
use crate::error::AppError;

#[cfg(feature = "ssr")]
const PAGE: i64 = 50;

#[server(endpoint = "notifications/mine")]
pub async fn my_notifications(
    #[server(default)] before: Option<i64>,
) -> Result<NoticePage, AppError> {
    use crate::{
        auth::{guard, Permission},
        db::Conn,
    };
    crate::error::respond(
        async move {
            let user = guard::require(Permission::Read).await?;
            let db = guard::app_state()?.db;
            let mut notices =
                super::repo::notices(&mut Conn::Db(&db), user.id, before, PAGE + 1).await?;
            let next = (notices.len() as i64 > PAGE).then(|| {
                notices.truncate(PAGE as usize);
                notices.last().map(|n| n.id)
            });
            Ok(NoticePage {
                notices,
                next: next.flatten(),
            })
        }
        .await,
    )
}

/// Who was told about a plan, a rollback or a postmortem (the thing's page shows it).
#[server(endpoint = "notifications/told")]
pub async fn who_was_told(entity_type: String, entity_id: i64) -> Result<Vec<Told>, AppError> {
    use crate::{
        auth::{guard, Permission},
        db::Conn,
    };
    crate::error::respond(
        async move {
            guard::require(Permission::Read).await?;
            if !matches!(
                entity_type.as_str(),
                "plan" | "execution" | "postmortem" | "action_item"
            ) {
                return Err(AppError::field(
                    "entity_type",
                    "must be plan, execution, postmortem or action_item",
                ));
            }
            let db = guard::app_state()?.db;
            Ok(super::repo::told(&mut Conn::Db(&db), &entity_type, &entity_id.to_string()).await?)
        }
        .await,
    )
}

#[server(endpoint = "notifications/deliveries")]
pub async fn list_deliveries(
    #[server(default)] status: String,
    #[server(default)] before: Option<i64>,
) -> Result<DeliveryPage, AppError> {
    use crate::{
        auth::{guard, Permission},
        db::Conn,
    };
    crate::error::respond(
        async move {
            guard::require(Permission::ManageNotifications).await?;
            let status =
                match status.trim() {
                    "" => None,
                    s => Some(super::model::DeliveryStatus::parse(s).ok_or_else(|| {
                        AppError::field("status", "must be pending, sent or failed")
                    })?),
                };
            let db = guard::app_state()?.db;
            let mut deliveries =
                super::repo::deliveries(&mut Conn::Db(&db), status, before, PAGE + 1).await?;
            let next = (deliveries.len() as i64 > PAGE).then(|| {
                deliveries.truncate(PAGE as usize);
                deliveries.last().map(|d| d.id)
            });
            Ok(DeliveryPage {
                deliveries,
                next: next.flatten(),
            })
        }
        .await,
    )
}

/// Queues a failed delivery again, with its audit event.
#[server(endpoint = "notifications/retry")]
pub async fn retry_delivery(id: i64) -> Result<(), AppError> {
    use crate::{
        audit::repo::{append, NewAuditEvent},
        auth::{guard, Permission},
    };
    crate::error::respond(
        async move {
            let admin = guard::require(Permission::ManageNotifications).await?;
            let db = guard::app_state()?.db;
            let mut tx = db.begin().await?;
            if !super::repo::retry(&mut tx, id, chrono::Utc::now()).await? {
                return Err(AppError::conflict(
                    "Only a failed delivery can be retried; this one is pending or sent.",
                ));
            }
            let event = NewAuditEvent {
                action: "delivery.retried",
                entity_type: "delivery",
                entity_id: id.to_string(),
                before: serde_json::json!({ "status": "failed" }),
                after: serde_json::json!({ "status": "pending" }),
            };
            append(&mut tx, &guard::ctx(&admin), event).await?;
            tx.commit().await?;
            super::wake();
            leptos_axum::redirect("/admin/notifications?saved=retried");
            Ok(())
        }
        .await,
    )
}

#[server(endpoint = "notifications/mail")]
pub async fn get_mail_settings() -> Result<Option<MailSettings>, AppError> {
    use crate::{
        auth::{guard, Permission},
        db::Conn,
    };
    crate::error::respond(
        async move {
            guard::require(Permission::ManageNotifications).await?;
            let db = guard::app_state()?.db;
            Ok(super::settings::get(&mut Conn::Db(&db))
                .await?
                .map(|r| r.settings()))
        }
        .await,
    )
}

#[server(endpoint = "notifications/mail/save")]
pub async fn save_mail_settings(
    host: String,
    port: String,
    security: String,
    #[server(default)] username: String,
    #[server(default)] secret_env: String,
    #[server(default)] secret: String,
    from_address: String,
) -> Result<(), AppError> {
    use crate::auth::{guard, Permission};
    crate::error::respond(
        async move {
            let admin = guard::require(Permission::ManageNotifications).await?;
            let input = super::mail::MailInput::parse(
                &host,
                &port,
                &security,
                &username,
                &secret_env,
                &secret,
                &from_address,
            )?;
            let state = guard::app_state()?;
            super::settings::save(&state.db, &guard::ctx(&admin), &state.secret_key, input).await?;
            leptos_axum::redirect("/admin/notifications?saved=mail");
            Ok(())
        }
        .await,
    )
}

/// Sets (or, empty, removes) an e-mail address: one's own, or anyone's for user administrators.
/// Returns the address now on file.
#[server(endpoint = "notifications/email")]
pub async fn set_email(
    #[server(default)] user_id: Option<i64>,
    #[server(default)] email: String,
) -> Result<Option<String>, AppError> {
    use crate::auth::{guard, Permission};
    crate::error::respond(
        async move {
            let me = guard::require(Permission::Read).await?;
            let target = user_id.unwrap_or(me.id);
            if target != me.id && !me.can(Permission::ManageUsers) {
                return Err(AppError::Forbidden);
            }
            let email = match email.trim() {
                "" => None,
                e => Some(
                    crate::validate::email("email", e)
                        .map_err(|f| AppError::Validation { fields: vec![f] })?,
                ),
            };
            let db = guard::app_state()?.db;
            super::service::set_email(&db, &guard::ctx(&me), target, email.clone()).await?;
            let back = if target == me.id && user_id.is_none() {
                "/account?saved=email".to_string()
            } else {
                format!("/admin/users/{target}?saved=email")
            };
            leptos_axum::redirect(&back);
            Ok(email)
        }
        .await,
    )
}

/// The signed-in person's e-mail address.
#[server(endpoint = "notifications/my_email")]
pub async fn my_email() -> Result<Option<String>, AppError> {
    use crate::{
        auth::{guard, Permission},
        db::Conn,
    };
    crate::error::respond(
        async move {
            let me = guard::require(Permission::Read).await?;
            let db = guard::app_state()?.db;
            Ok(crate::users::repo::get_user(&mut Conn::Db(&db), me.id)
                .await?
                .email)
        }
        .await,
    )
}

#[server(endpoint = "notifications/teams")]
pub async fn list_team_channels() -> Result<Vec<super::teams::TeamChannel>, AppError> {
    use crate::{
        auth::{guard, Permission},
        db::Conn,
    };
    crate::error::respond(
        async move {
            guard::require(Permission::ManageNotifications).await?;
            let db = guard::app_state()?.db;
            Ok(super::channels::list(&mut Conn::Db(&db)).await?)
        }
        .await,
    )
}

/// Adds a team channel; its address is sealed and never shown again.
#[server(endpoint = "notifications/teams/add")]
pub async fn add_team_channel(
    name: String,
    kind: String,
    url: String,
    #[server(default)] secret_env: String,
    #[server(default)] secret: String,
    #[server(default)] group_id: String,
    #[server(default)] tag: String,
) -> Result<i64, AppError> {
    use crate::auth::{guard, Permission};
    crate::error::respond(
        async move {
            let admin = guard::require(Permission::ManageNotifications).await?;
            let input = super::teams::TeamInput::parse(
                &name,
                &kind,
                &url,
                &secret_env,
                &secret,
                &group_id,
                &tag,
            )?;
            let state = guard::app_state()?;
            let id =
                super::channels::create(&state.db, &guard::ctx(&admin), &state.secret_key, input)
                    .await?;
            leptos_axum::redirect("/admin/notifications?saved=team");
            Ok(id)
        }
        .await,
    )
}

/// Turns a team channel off (nothing more is sent to it) or on again.
#[server(endpoint = "notifications/teams/active")]
pub async fn set_team_channel_active(id: i64, active: bool) -> Result<(), AppError> {
    use crate::auth::{guard, Permission};
    crate::error::respond(
        async move {
            let admin = guard::require(Permission::ManageNotifications).await?;
            let db = guard::app_state()?.db;
            super::channels::set_active(&db, &guard::ctx(&admin), id, active).await?;
            leptos_axum::redirect("/admin/notifications?saved=team");
            Ok(())
        }
        .await,
    )
}
