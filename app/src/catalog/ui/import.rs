use leptos::{
    prelude::*,
    server_fn::{error::ServerFnUrlError, ServerFn},
};
use leptos_router::hooks::use_query_map;

use crate::{
    auth::{ui::Authorized, CurrentUser, Permission},
    catalog::api::ImportCatalog,
    components::{ErrorNotice, PageHeader, SuccessNotice},
    error::AppError,
};

#[component]
pub fn ImportPage() -> impl IntoView {
    view! { <Authorized permission=Permission::EditCatalog children=|_: CurrentUser| view! { <Import /> } /> }
}

/// The error of the last upload, carried back in the URL (the form is a plain multipart POST).
fn upload_error(q: &leptos_router::params::ParamsMap) -> Option<AppError> {
    let path = q.get("__path")?;
    let err = q.get("__err")?;
    (path == ImportCatalog::PATH).then(|| ServerFnUrlError::<AppError>::decode_err(&err))
}

#[component]
fn Import() -> impl IntoView {
    let query = use_query_map();
    let error = Signal::derive(move || query.with(upload_error));
    let field_errors = move || match error.get() {
        Some(AppError::Validation { fields }) => fields,
        _ => Vec::new(),
    };
    let general = Signal::derive(move || {
        error
            .get()
            .filter(|e| !matches!(e, AppError::Validation { .. }))
    });
    let result = Signal::derive(move || {
        query.with(|q| {
            let n = |k: &str| q.get(k).and_then(|v| v.parse::<usize>().ok()).unwrap_or(0);
            let format = q.get("format")?;
            let what = if format == "dbt" { "dbt manifest" } else { "catalog file" };
            Some(format!(
                "Imported the {what}: {} component(s) created, {} updated, {} unchanged; {} dependency(ies) added, {} removed.",
                n("created"), n("updated"), n("unchanged"), n("edges_added"), n("edges_removed")
            ))
        })
    });
    view! {
        <PageHeader title="Import lineage".to_string() lead="Upload a dbt manifest.json or a Rollgate catalog file (YAML or JSON). Importing again updates components; it never duplicates them.".to_string() />
        <SuccessNotice message=result />
        <ErrorNotice error=general />
        {move || {
            let fields = field_errors();
            (!fields.is_empty()).then(|| view! {
                <div class="notice notice--error" role="alert">
                    <p>"Nothing was imported. Fix these problems and upload the file again:"</p>
                    <ul class="error-list">
                        {fields.into_iter().take(50).map(|f| view! { <li><code>{f.field}</code> ": " {f.message}</li> }).collect_view()}
                    </ul>
                </div>
            })
        }}
        <form class="form" method="post" action=ImportCatalog::PATH enctype="multipart/form-data">
            <div class="field">
                <label class="field__label" for="field-file">"File"</label>
                <p class="field__hint" id="field-file-hint">"Up to 25 MB. dbt: run “dbt parse” and upload target/manifest.json."</p>
                <input class="field__input" id="field-file" name="file" type="file" required=true
                    accept=".json,.yaml,.yml,application/json" aria-describedby="field-file-hint" />
            </div>
            <div class="form__actions">
                <button type="submit" class="button button--primary">"Import"</button>
                <a class="button button--quiet" href="/catalog">"Back to the catalog"</a>
            </div>
        </form>
        <section class="panel">
            <h2>"The catalog file format"</h2>
            <p>"Each entry declares one component; " <code>"upstream"</code> " replaces its upstream dependencies. Kinds: dataset, job, dashboard, other."</p>
            <pre class="code">{FORMAT_EXAMPLE}</pre>
        </section>
    }
}

const FORMAT_EXAMPLE: &str = "components:
  - name: raw.orders
    kind: dataset
    owner: data-platform
  - name: analytics.orders
    kind: dataset
    description: Cleaned orders
    tags: [finance]
    upstream: [raw.orders]
  - name: orders_daily
    kind: job
    connector: airflow-prod
    dag_id: orders_daily
    rollback_dag_id: orders_rollback
    upstream: [analytics.orders]";
