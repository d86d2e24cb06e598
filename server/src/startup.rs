//! Building the application: database, migrations, sessions, router, listener.

use std::{net::SocketAddr, path::Path, time::Duration};

use anyhow::Context;
use axum::{
    body::Body, extract::State, http::Request, middleware, response::IntoResponse, routing::get,
    Router,
};
use leptos::prelude::*;
use leptos_axum::{generate_route_list, LeptosRoutes};
use tokio::net::TcpListener;
use tower_http::trace::TraceLayer;
use tower_sessions::{
    cookie::SameSite, session_store::ExpiredDeletion, Expiry, SessionManagerLayer,
};

use app::connectors::secret::SecretKey;
use app::{db::Db, state::AppState, App};

use crate::{
    configuration::{DatabaseSettings, SessionSettings, Settings},
    health, http_guard,
    session_store::AnySessionStore,
};

pub const SESSION_COOKIE: &str = "rollgate_session";

pub struct Application {
    listener: TcpListener,
    router: Router,
    db: Db,
    worker: Option<(
        app::execution::runner::Runner,
        crate::configuration::WorkerSettings,
        app::notifications::deliver::Deliverer,
    )>,
}

impl Application {
    /// Connects and migrates the database (failing clearly), and binds the listener
    /// (port 0 picks a free port, as tests do).
    pub async fn build(settings: &Settings) -> anyhow::Result<Self> {
        let db = connect_and_migrate(&settings.database).await?;
        let addr = format!(
            "{}:{}",
            settings.application.host, settings.application.port
        );
        let listener = TcpListener::bind(&addr).await.with_context(|| {
            format!("cannot listen on {addr} (is another server running there?)")
        })?;
        let leptos_options = LeptosOptions::builder()
            .output_name("rollgate")
            .site_root(settings.application.site_root.clone())
            .site_pkg_dir("pkg")
            .site_addr(listener.local_addr()?)
            .build();
        let security = app::state::SecuritySettings {
            max_failed_logins: settings.security.max_failed_logins.max(1),
            lockout: chrono::Duration::minutes(settings.security.lockout_minutes.max(1)),
            passwords: app::auth::password::PasswordPool::for_this_machine(),
        };
        let secret_key = load_secret_key(&settings.security)?;
        let worker = settings.worker.enabled.then(|| {
            let runner = crate::worker::runner(db.clone(), secret_key.clone(), &settings.worker);
            let deliverer =
                crate::worker::deliverer(db.clone(), secret_key.clone(), &settings.notifications);
            (runner, settings.worker.clone(), deliverer)
        });
        let state = AppState {
            leptos_options,
            db: db.clone(),
            security,
            secret_key,
            due_defaults: settings.action_items.due_days,
        };
        let store = if settings.database.migrate_on_start {
            AnySessionStore::migrated(&db)
                .await
                .context("cannot create the session table")?
        } else {
            AnySessionStore::existing(&db)
        };
        let router = router(state, store, &settings.session);
        Ok(Self {
            listener,
            router,
            db,
            worker,
        })
    }

    pub fn port(&self) -> u16 {
        self.listener
            .local_addr()
            .map(|a| a.port())
            .unwrap_or_default()
    }

    pub fn db(&self) -> &Db {
        &self.db
    }

    /// Serves until Ctrl-C / SIGTERM, then finishes in-flight requests.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        if let Some((runner, settings, deliverer)) = self.worker {
            let poll = std::time::Duration::from_secs(settings.poll_seconds.max(1));
            tokio::spawn(crate::worker::run_deliveries(
                deliverer,
                settings.concurrency,
                poll,
            ));
            tokio::spawn(crate::worker::run(runner, settings));
        }
        let service = self
            .router
            .into_make_service_with_connect_info::<SocketAddr>();
        axum::serve(self.listener, service)
            .with_graceful_shutdown(shutdown_signal())
            .await
    }
}

/// Connects, applies migrations (or, with `migrate_on_start` off, checks they were applied)
/// and creates the default approval groups.
pub async fn connect_and_migrate(settings: &DatabaseSettings) -> anyhow::Result<Db> {
    let db_settings = settings.db_settings();
    ensure_sqlite_dir(&db_settings.url)?;
    let shown = app::db::redact_url(&db_settings.url);
    let db = Db::connect(&db_settings)
        .await
        .with_context(|| format!("cannot connect to the database at {shown}"))?;
    if settings.migrate_on_start {
        db.migrate().await.with_context(|| {
            format!("migrating the database at {shown} failed; the server did not start")
        })?;
    } else if !db.migrations_applied().await.unwrap_or(false) {
        anyhow::bail!(
            "the database at {shown} is not up to date: run `rollgate migrate` as the role that owns it (migrate_on_start is off)"
        );
    }
    app::groups::service::ensure_default_groups(&db)
        .await
        .context("cannot create the default approval groups")?;
    app::approvals::service::ensure_default_policy(&db)
        .await
        .map_err(|e| anyhow::anyhow!("cannot create the default approval policy: {e}"))?;
    Ok(db)
}

/// Creates the folder of a SQLite file (`./data/` by default).
fn ensure_sqlite_dir(url: &str) -> anyhow::Result<()> {
    let Some(rest) = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
    else {
        return Ok(());
    };
    let path = rest.split('?').next().unwrap_or(rest);
    if path.is_empty() || path.starts_with(":memory:") {
        return Ok(());
    }
    if let Some(dir) = Path::new(path)
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
    {
        std::fs::create_dir_all(dir)
            .with_context(|| format!("cannot create the database folder {}", dir.display()))?;
    }
    Ok(())
}

/// The whole HTTP surface, without a socket (tests can call it directly).
pub fn router(state: AppState, store: AnySessionStore, session: &SessionSettings) -> Router {
    tokio::spawn(
        store
            .clone()
            .continuously_delete_expired(Duration::from_secs(60 * 60)),
    );
    let sessions = SessionManagerLayer::new(store)
        .with_name(SESSION_COOKIE)
        .with_secure(session.secure_cookie)
        .with_http_only(true)
        .with_same_site(SameSite::Lax)
        .with_expiry(Expiry::OnInactivity(
            tower_sessions::cookie::time::Duration::minutes(session.idle_timeout_minutes),
        ));
    let routes = generate_route_list(App);
    let context_state = state.clone();
    let hsts = session.secure_cookie;
    let shell_options = state.leptos_options.clone();
    let fallback_state = state.clone();
    let pages = Router::new()
        .leptos_routes_with_context(
            &state,
            routes,
            move || {
                provide_context(context_state.clone());
                provide_csp_nonce();
            },
            move || app::shell(shell_options.clone()),
        )
        .fallback(leptos_axum::file_and_error_handler_with_context::<
            AppState,
            _,
        >(
            move || {
                provide_context(fallback_state.clone());
                provide_csp_nonce();
            },
            app::shell,
        ))
        .layer(middleware::from_fn_with_state(
            crate::page_pool::new_pool(),
            crate::page_pool::render_pinned,
        ));
    Router::new()
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .route(
            "/postmortems/{id}/export.md",
            get(crate::export::postmortem_markdown),
        )
        .nest("/api/v1", crate::rest::router())
        .route(
            "/api/{*fn_name}",
            get(server_fn_handler).post(server_fn_handler),
        )
        .merge(pages)
        .layer(middleware::from_fn(http_guard::server_fn_status))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            http_guard::load_page_user,
        ))
        .layer(middleware::from_fn_with_state(
            session.idle_timeout_minutes.clamp(1, 60),
            http_guard::keep_session_alive,
        ))
        .layer(sessions)
        .layer(middleware::from_fn_with_state(
            hsts,
            http_guard::security_headers,
        ))
        .layer(middleware::from_fn(crate::body_limit::limit_bodies))
        .layer(middleware::from_fn(http_guard::reject_cross_origin_writes))
        .layer(TraceLayer::new_for_http().make_span_with(crate::telemetry::request_span))
        .layer(middleware::from_fn(crate::request_id::assign_request_ids))
        .with_state(state)
}

/// The key that seals connector secrets: from the settings, else the key file (created with
/// a fresh random key at first start, readable by this user only).
pub fn load_secret_key(s: &crate::configuration::SecuritySettings) -> anyhow::Result<SecretKey> {
    use secrecy::ExposeSecret;
    if let Some(key) = &s.secret_key {
        return SecretKey::from_base64(key.expose_secret())
            .map_err(|e| anyhow::anyhow!("ROLLGATE_SECRET_KEY: {e}"));
    }
    let path = std::path::Path::new(&s.secret_key_file);
    if let Ok(text) = std::fs::read_to_string(path) {
        return SecretKey::from_base64(&text)
            .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()));
    }
    let key = SecretKey::generate();
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    }
    write_private(path, &key.to_base64())
        .with_context(|| format!("cannot write {}", path.display()))?;
    tracing::warn!(file = %path.display(), "created a new secret key for connector secrets: back it up with the database");
    Ok(key)
}

#[cfg(unix)]
fn write_private(path: &std::path::Path, text: &str) -> std::io::Result<()> {
    use std::{io::Write, os::unix::fs::OpenOptionsExt};
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)?;
    f.write_all(text.as_bytes())
}

#[cfg(not(unix))]
fn write_private(path: &std::path::Path, text: &str) -> std::io::Result<()> {
    std::fs::write(path, text)
}

/// Hands the response's CSP nonce (set by `security_headers`) to Leptos, which puts it on the
/// inline scripts it renders.
fn provide_csp_nonce() {
    let nonce = use_context::<http::request::Parts>()
        .and_then(|p| p.extensions.get::<http_guard::CspNonce>().cloned());
    if let Some(http_guard::CspNonce(n)) = nonce {
        provide_context(leptos::nonce::Nonce::from_value(n));
    }
}

async fn server_fn_handler(State(state): State<AppState>, req: Request<Body>) -> impl IntoResponse {
    leptos_axum::handle_server_fns_with_context(move || provide_context(state.clone()), req).await
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = terminate => {} }
    tracing::info!("shutting down");
}
