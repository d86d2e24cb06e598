//! Postmortem and action item data for `make bench`: a postmortem whose timeline holds 2 000
//! audit events, and 100 000 action items over 1 000 postmortems.

use app::{
    action_items::{
        model::{ItemKind, ItemStatus, NewItem, Priority},
        repo as items,
    },
    audit::{
        repo::{append, Ctx, NewAuditEvent},
        Actor,
    },
};
use chrono::{Duration, Utc};
use rollgate::{configuration::DatabaseSettings, startup::connect_and_migrate};
use serde_json::json;

pub const TIMELINE: usize = 2_000;
pub const ITEMS: usize = 100_000;
const POSTMORTEMS: usize = 1_000;

/// Seeds the data into the bench database (changes 1..=1001 exist already); returns the id of
/// the postmortem with the long timeline.
pub async fn seed(url: &str) -> anyhow::Result<i64> {
    let settings = DatabaseSettings {
        url: url.to_string().into(),
        max_connections: 4,
        migrate_on_start: true,
    };
    let db = connect_and_migrate(&settings).await?;
    let author = Actor {
        id: 1,
        username: "bench-auditor".into(),
    };
    let actions = [
        "plan.approved",
        "execution.step_started",
        "execution.step_succeeded",
        "change.status_changed",
    ];
    let mut tx = db.begin().await?;
    for n in 0..TIMELINE {
        let event = NewAuditEvent {
            action: actions[n % actions.len()],
            entity_type: "change",
            entity_id: "1".into(),
            before: json!({}),
            after: json!({"step": n, "message": format!("Call {n} answered 200")}),
        };
        append(&mut tx, &Ctx::user(author.clone(), None), event).await?;
    }
    tx.commit().await?;
    let err = |e: app::postmortems::service::PostmortemError| anyhow::anyhow!("{e}");
    let long = app::postmortems::service::open(&db, &Ctx::system(), &author, 1, Utc::now())
        .await
        .map_err(err)?;
    let mut ids = Vec::with_capacity(POSTMORTEMS);
    for change in 2..2 + POSTMORTEMS as i64 {
        ids.push(
            app::postmortems::service::open(&db, &Ctx::system(), &author, change, Utc::now())
                .await
                .map_err(err)?,
        );
    }
    let other = app::users::service::create_user(
        &db,
        &Ctx::system(),
        app::users::model::NewUser::parse(
            "bench-owner",
            "Bench Owner",
            super::PASSWORD,
            &["approver".into()],
            &[1],
        )
        .map_err(|e| anyhow::anyhow!("{e}"))?,
    )
    .await
    .map_err(|e| anyhow::anyhow!("{e}"))?;
    let today = Utc::now().date_naive();
    let priorities = [
        Priority::Urgent,
        Priority::High,
        Priority::Medium,
        Priority::Low,
    ];
    let statuses = [
        ItemStatus::Open,
        ItemStatus::InProgress,
        ItemStatus::Done,
        ItemStatus::Open,
    ];
    for batch in 0..ITEMS / 1000 {
        let mut tx = db.begin().await?;
        for i in 0..1000 {
            let n = batch * 1000 + i;
            let item = NewItem {
                title: format!("Action item {n}"),
                description: String::new(),
                // A tenth are the bench user's own ("my action items").
                owner_id: if n % 10 == 0 { 1 } else { other },
                due_on: today + Duration::days((n % 400) as i64 - 200),
                priority: priorities[n % 4],
                kind: ItemKind::Prevent,
                status: statuses[(n / 4) % 4],
                wont_do_reason: None,
                ticket_url: None,
                component_id: Some((n % 200) as i64 + 1),
                plan_row: None,
            };
            items::insert(&mut tx, ids[n % POSTMORTEMS], None, &item, Utc::now()).await?;
        }
        tx.commit().await?;
    }
    db.close().await;
    Ok(long)
}
