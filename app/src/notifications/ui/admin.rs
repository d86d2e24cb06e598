//! The administrators' notifications page: the e-mail server, and every delivery with its status,
//! attempts and last error (failed ones can be retried).

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

use super::delivery_badge;
use crate::{
    auth::{ui::Authorized, CurrentUser, Permission},
    components::{EmptyState, ErrorNotice, Field, FormErrors, PageHeader, Select, SuccessNotice},
    connectors::model::SecretSource,
    error::AppError,
    error_template::loaded,
    notifications::{
        api::{get_mail_settings, list_deliveries, RetryDelivery, SaveMailSettings},
        mail::{MailSettings, Security},
        model::{Delivery, DeliveryStatus},
    },
};

#[component]
pub fn NotificationSettingsPage() -> impl IntoView {
    view! { <Authorized permission=Permission::ManageNotifications children=|_: CurrentUser| view! { <Settings /> } /> }
}

fn saved_message(code: &str) -> Option<String> {
    Some(
        match code {
            "mail" => "E-mail settings saved. New notifications are e-mailed through this server.",
            "retried" => "The delivery is queued again.",
            "team" => "Team channel saved.",
            _ => return None,
        }
        .to_string(),
    )
}

#[component]
fn Settings() -> impl IntoView {
    let save = ServerAction::<SaveMailSettings>::new();
    let retry = ServerAction::<RetryDelivery>::new();
    let query = use_query_map();
    let status = move || query.with(|q| q.get("status").unwrap_or_default());
    let before = move || query.with(|q| q.get("before").and_then(|b| b.parse::<i64>().ok()));
    let mail = Resource::new(move || save.version().get(), |_| get_mail_settings());
    let list = Resource::new(
        move || (status(), before(), retry.version().get()),
        |(status, before, _)| list_deliveries(status, before),
    );
    let saved = Signal::derive(move || {
        query
            .with(|q| q.get("saved"))
            .and_then(|c| saved_message(&c))
    });
    view! {
        <PageHeader title="Notification delivery".to_string() lead="How Rollgate reaches people who are not looking at it: the e-mail server, and every message it sent or is still trying to send.".to_string() />
        <SuccessNotice message=saved />
        <Transition fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move { loaded(async move {
                let m = mail.await?;
                Ok::<_, AppError>(view! { <MailPanel m save /> })
            }.await) })}
        </Transition>
        <super::teams::TeamChannels />
        <section class="panel" aria-labelledby="deliveries-heading">
            <h2 id="deliveries-heading">"Deliveries"</h2>
            <StatusFilter current=status />
            <ErrorNotice error=FormErrors::of(retry).general() />
            <Transition fallback=|| view! { <p class="loading">"Loading…"</p> }>
                {move || Suspend::new(async move { loaded(async move {
                    let page = list.await?;
                    if page.deliveries.is_empty() {
                        return Ok::<_, AppError>(view! { <EmptyState title="No deliveries"><p>"Once e-mail or a team channel is set up, each message sent is listed here."</p></EmptyState> }.into_any());
                    }
                    let s = status();
                    Ok(view! {
                        <DeliveryTable rows=page.deliveries retry />
                        {page.next.map(|id| view! { <p><a class="button" href=format!("/admin/notifications?status={s}&before={id}")>"Older deliveries"</a></p> })}
                    }.into_any())
                }.await) })}
            </Transition>
        </section>
    }
}

#[component]
fn StatusFilter(current: impl Fn() -> String + Send + Sync + 'static) -> impl IntoView {
    let current = Signal::derive(current);
    let link = move |value: &'static str, label: &'static str| {
        view! { <a class="tabs__tab" href=format!("/admin/notifications?status={value}") aria-current=move || (current.get() == value).then_some("page")>{label}</a> }
    };
    view! {
        <nav class="tabs" aria-label="Deliveries by status">
            {link("", "All")}
            {DeliveryStatus::ALL.into_iter().map(|s| link(s.as_str(), s.label())).collect_view()}
        </nav>
    }
}

#[component]
fn DeliveryTable(rows: Vec<Delivery>, retry: ServerAction<RetryDelivery>) -> impl IntoView {
    view! {
        <table class="table">
            <thead><tr><th scope="col">"Queued"</th><th scope="col">"To"</th><th scope="col">"Subject"</th><th scope="col">"Status"</th><th scope="col">"Attempts"</th><th scope="col">"Last error"</th></tr></thead>
            <tbody>{rows.into_iter().map(|d| {
                let failed = d.status == DeliveryStatus::Failed;
                let to = if d.destination.is_empty() { format!("{} (no address)", d.recipient) } else { format!("{} <{}>", d.recipient, d.destination) };
                view! {
                    <tr>
                        <td>{d.created_at.format("%Y-%m-%d %H:%M:%S").to_string()}</td>
                        <td>{d.channel.label()} ": " {to}</td>
                        <td>{d.subject}</td>
                        <td>{delivery_badge(d.status)}
                            {(d.status == DeliveryStatus::Pending && d.attempts > 0).then(|| view! { <br /><span class="muted">{format!("next try {}", d.next_attempt_at.format("%H:%M:%S UTC"))}</span> })}
                            {d.sent_at.map(|t| view! { <br /><span class="muted">{t.format("%H:%M:%S UTC").to_string()}</span> })}</td>
                        <td>{d.attempts}</td>
                        <td>{d.last_error.unwrap_or_default()}
                            {failed.then(|| view! {
                                <ActionForm action=retry attr:class="inline-form">
                                    <input type="hidden" name="id" value=d.id />
                                    <button type="submit" class="button button--small">"Retry"</button>
                                </ActionForm>
                            })}</td>
                    </tr>
                }
            }).collect_view()}</tbody>
        </table>
    }
}

fn secret_label(s: &SecretSource) -> String {
    match s {
        SecretSource::None => "none".into(),
        SecretSource::Env(v) => format!("from environment variable {v}"),
        SecretSource::Stored => "stored encrypted".into(),
    }
}

#[component]
fn MailPanel(m: Option<MailSettings>, save: ServerAction<SaveMailSettings>) -> impl IntoView {
    let form = FormErrors::of(save);
    let securities: Vec<(String, String)> = Security::ALL
        .iter()
        .map(|s| (s.as_str().to_string(), s.label().to_string()))
        .collect();
    let current = m.clone();
    let text = move |f: fn(&MailSettings) -> String| m.as_ref().map(f).unwrap_or_default();
    view! {
        <section class="panel" aria-labelledby="mail-heading">
            <h2 id="mail-heading">"E-mail server"</h2>
            {match &current {
                Some(s) => view! { <p>{format!("Sending through {}:{} as {} · password {} · saved {}.", s.host, s.port, s.from_address, secret_label(&s.secret), s.updated_at.format("%Y-%m-%d %H:%M UTC"))}</p> }.into_any(),
                None => view! { <p class="notice notice--warning">"E-mail is not set up: notifications are only listed on each person's Notifications page."</p> }.into_any(),
            }}
            <ErrorNotice error=form.general() />
            <ActionForm action=save attr:class="form">
                <div class="side-by-side">
                    <Field label="SMTP host" name="host" required=true autocomplete="off" hint="e.g. smtp.example.com" value=text(|s| s.host.clone()) error=form.field("host") />
                    <Field label="Port" name="port" kind="number" required=true value=current.as_ref().map(|s| s.port.to_string()).unwrap_or_else(|| "587".into()) error=form.field("port") />
                </div>
                <Select label="Connection security" name="security" options=securities selected=current.as_ref().map(|s| s.security.as_str().to_string()).unwrap_or_else(|| "starttls".into()) error=form.field("security") />
                <Field label="Sender address" name="from_address" kind="email" required=true hint="The From: of every message, e.g. rollgate@example.com." value=text(|s| s.from_address.clone()) error=form.field("from_address") />
                <Field label="Username" name="username" autocomplete="off" hint="Leave empty if the server takes mail without a login." value=text(|s| s.username.clone()) error=form.field("username") />
                <Field label="Password from environment variable" name="secret_env" autocomplete="off"
                    hint="Recommended: a server environment variable starting with ROLLGATE_CONNECTOR_, e.g. ROLLGATE_CONNECTOR_SMTP_PASSWORD."
                    error=form.field("secret_env") />
                <Field label="Or store the password (encrypted)" name="secret" kind="password" autocomplete="new-password"
                    hint="Leave both password fields empty to keep the current one (not possible when the host or port changes)."
                    error=form.field("secret") />
                <div class="form__actions"><button type="submit" class="button button--primary">"Save e-mail settings"</button></div>
            </ActionForm>
        </section>
    }
}
