//! The connectors page: list, add/edit (secrets never shown back), and "test connection".

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

use super::{
    api::{list_connectors, SaveConnector, TestConnector},
    model::{Connector, ConnectorKind, SecretSource},
};
use crate::{
    auth::{ui::Authorized, CurrentUser, Permission},
    components::{EmptyState, ErrorNotice, Field, FormErrors, PageHeader, Select, SuccessNotice},
    error::AppError,
    error_template::loaded,
};

#[component]
pub fn ConnectorsPage() -> impl IntoView {
    view! { <Authorized permission=Permission::ManageConnectors children=|_: CurrentUser| view! { <Connectors /> } /> }
}

#[component]
fn Connectors() -> impl IntoView {
    let save = ServerAction::<SaveConnector>::new();
    let test = ServerAction::<TestConnector>::new();
    let list = Resource::new(
        move || (save.version().get(), test.version().get()),
        |_| list_connectors(),
    );
    let query = use_query_map();
    let saved = Signal::derive(move || {
        query
            .with(|q| q.get("saved"))
            .map(|_| "Connector saved.".to_string())
    });
    let editing = move || query.with(|q| q.get("edit").and_then(|v| v.parse::<i64>().ok()));
    view! {
        <PageHeader title="Connectors".to_string() lead="How Rollgate reaches your orchestrators. Secrets are read from an environment variable or stored encrypted; they are never shown again.".to_string() />
        <SuccessNotice message=saved />
        <TestResult action=test />
        <Transition fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move { loaded(async move {
                let list = list.await?;
                let edited = editing().and_then(|id| list.iter().find(|c| c.id == id).cloned());
                let cards = if list.is_empty() {
                    view! { <EmptyState title="No connectors yet"><p>"Add your Airflow 3 API server or a webhook below."</p></EmptyState> }.into_any()
                } else {
                    view! { <div class="cards">{list.into_iter().map(|c| view! { <ConnectorCard c test /> }).collect_view()}</div> }.into_any()
                };
                // One form at a time, so every field keeps a unique id and label.
                let form = match edited {
                    Some(c) => view! {
                        <section class="panel">
                            <h2>{format!("Edit {}", c.name)}</h2>
                            <ConnectorForm action=save c=Some(c) />
                            <p><a href="/admin/connectors">"Cancel"</a></p>
                        </section>
                    }.into_any(),
                    None => view! {
                        <section class="panel">
                            <h2>"Add a connector"</h2>
                            <ConnectorForm action=save c=None />
                        </section>
                    }.into_any(),
                };
                Ok::<_, AppError>(view! { {cards} {form} })
            }.await) })}
        </Transition>
    }
}

#[component]
fn TestResult(action: ServerAction<TestConnector>) -> impl IntoView {
    view! { <ErrorNotice error=FormErrors::of(action).0 /> }
}

/// What the last "test connection" found, on the connector's card.
#[component]
fn LastTest(
    report: Option<(chrono::DateTime<chrono::Utc>, super::model::ProbeReport)>,
) -> impl IntoView {
    match report {
        None => view! { <p class="muted">"Not tested yet."</p> }.into_any(),
        Some((at, r)) => {
            let class = if r.ok {
                "notice notice--success"
            } else {
                "notice notice--error"
            };
            let title = if r.ok {
                "Connection works"
            } else {
                "Connection problem"
            };
            view! {
                <div class=class role="status">
                    <p><strong>{title}</strong> " · tested " {at.format("%Y-%m-%d %H:%M:%S UTC").to_string()}</p>
                    <ul class="plain">{r.findings.into_iter().map(|f| view! { <li>{f}</li> }).collect_view()}</ul>
                </div>
            }
            .into_any()
        }
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
fn ConnectorCard(c: Connector, test: ServerAction<TestConnector>) -> impl IntoView {
    let id = c.id;
    view! {
        <article class="card">
            <h2 class="card__title">{c.name.clone()}</h2>
            <dl class="facts">
                <dt>"Kind"</dt><dd>{c.kind.label()}</dd>
                <dt>"Address"</dt><dd><code>{c.base_url.clone()}</code></dd>
                {(c.kind == ConnectorKind::Airflow3).then(|| view! { <dt>"User"</dt><dd>{c.username.clone()}</dd> })}
                <dt>"Secret"</dt><dd>{secret_label(&c.secret)}</dd>
            </dl>
            <LastTest report=c.last_test.clone() />
            <ActionForm action=test attr:class="inline-form">
                <input type="hidden" name="id" value=id />
                <button type="submit" class="button">"Test connection"</button>
            </ActionForm>
            <a class="button button--quiet" href=format!("/admin/connectors?edit={id}")
                aria-label=format!("Edit connector {}", c.name)>"Edit"</a>
        </article>
    }
}

#[component]
fn ConnectorForm(action: ServerAction<SaveConnector>, c: Option<Connector>) -> impl IntoView {
    let form = FormErrors::of(action);
    let kinds: Vec<(String, String)> = ConnectorKind::ALL
        .iter()
        .map(|k| (k.as_str().to_string(), k.label().to_string()))
        .collect();
    let editing = c.is_some();
    let text = |f: fn(&Connector) -> String| c.as_ref().map(f).unwrap_or_default();
    let (name, kind, base_url, username) = (
        text(|c| c.name.clone()),
        text(|c| c.kind.as_str().to_string()),
        text(|c| c.base_url.clone()),
        text(|c| c.username.clone()),
    );
    let id = c.as_ref().map(|c| c.id);
    view! {
        <ErrorNotice error=form.general() />
        <ActionForm action attr:class="form">
            {id.map(|id| view! { <input type="hidden" name="id" value=id /> })}
            <Field label="Name" name="name" required=true autocomplete="off" hint="How job components refer to it, e.g. airflow-prod."
                value=name error=form.field("name") />
            <Select label="Kind" name="kind" options=kinds selected=kind error=form.field("kind") />
            <Field label="Base URL" name="base_url" kind="url" required=true
                hint="Airflow: the API server, e.g. https://airflow.example.com. Webhook: the URL that receives the POST."
                value=base_url error=form.field("base_url") />
            <Field label="Username (Airflow)" name="username" autocomplete="off" value=username error=form.field("username") />
            <Field label="Secret from environment variable" name="secret_env" autocomplete="off"
                hint="Recommended: the name of a server environment variable holding the password or signing secret. It must start with ROLLGATE_CONNECTOR_, e.g. ROLLGATE_CONNECTOR_AIRFLOW_PASSWORD."
                error=form.field("secret_env") />
            <Field label="Or store the secret (encrypted)" name="secret" kind="password" autocomplete="new-password"
                hint=if editing { "Leave both secret fields empty to keep the current secret (not possible when the address moves to another host)." } else { "Encrypted with the server's secret key; never shown again." }
                error=form.field("secret") />
            <div class="form__actions">
                <button type="submit" class="button button--primary">{if editing { "Save connector" } else { "Add connector" }}</button>
            </div>
        </ActionForm>
    }
}
