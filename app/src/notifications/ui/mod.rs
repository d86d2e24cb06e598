//! Notification pages: a person's own list, the administrators' e-mail settings and deliveries,
//! the e-mail address form, and the "notified" line on the pages of things that told people.

mod admin;
mod mine;
mod teams;

pub use admin::NotificationSettingsPage;
pub use mine::{EmailForm, NotificationsPage, ToldLine};

use super::model::DeliveryStatus;

pub fn delivery_badge(s: DeliveryStatus) -> impl leptos::IntoView {
    use leptos::prelude::*;
    let class = match s {
        DeliveryStatus::Sent => "badge badge--ok",
        DeliveryStatus::Failed => "badge badge--danger",
        DeliveryStatus::Pending => "badge badge--warning",
    };
    view! { <span class=class>{s.label()}</span> }
}
