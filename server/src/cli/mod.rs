//! `rollgate serve | worker | user add | token create | audit verify | audit export | migrate`.

mod audit;
mod demo;
mod token;
mod user;

use std::{path::PathBuf, process::ExitCode};

use clap::{Parser, Subcommand};

use crate::{
    configuration::Settings,
    startup::{connect_and_migrate, Application},
    telemetry::{get_subscriber, init_subscriber},
};

#[derive(Debug, Parser)]
#[command(
    name = "rollgate",
    version,
    about = "Governs rollbacks of data pipelines."
)]
pub struct Cli {
    /// A TOML settings file (default: ./rollgate.toml when present).
    #[arg(long, global = true, env = "ROLLGATE_CONFIG")]
    pub config: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the web server (the default).
    Serve {
        /// Seed one user per role with random passwords, printed once (for trying Rollgate out).
        #[arg(long)]
        demo: bool,
    },
    /// Run only the worker that carries out signed-off rollbacks (no web server).
    Worker,
    /// Apply database migrations (and create the session table) and exit.
    Migrate {
        /// PostgreSQL: grant an existing role what the server needs and nothing more (no DDL,
        /// no UPDATE, DELETE or TRUNCATE on the audit log), to run the server as that role
        /// with `migrate_on_start = false`.
        #[arg(long, value_name = "ROLE")]
        grant_to: Option<String>,
    },
    /// Manage users.
    #[command(subcommand)]
    User(user::UserCommand),
    /// Export or verify the audit chain.
    #[command(subcommand)]
    Audit(audit::AuditCommand),
    /// Create API tokens for service accounts.
    #[command(subcommand)]
    Token(token::TokenCommand),
}

pub async fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let settings = Settings::load(cli.config.as_deref())?;
    let command = cli.command.unwrap_or(Command::Serve { demo: false });
    let serving = matches!(command, Command::Serve { .. } | Command::Worker);
    // Commands other than `serve` keep the console for their own output.
    let filter = if serving {
        settings.log.filter.clone()
    } else {
        "warn".to_string()
    };
    init_subscriber(get_subscriber(
        &filter,
        settings.log.format == "json",
        std::io::stderr,
    ));
    match command {
        Command::Serve { demo } => serve(settings, demo).await,
        Command::Worker => {
            let db = connect_and_migrate(&settings.database).await?;
            let key = crate::startup::load_secret_key(&settings.security)?;
            let runner = crate::worker::runner(db.clone(), key.clone(), &settings.worker);
            let deliverer = crate::worker::deliverer(db, key, &settings.notifications);
            let poll = std::time::Duration::from_secs(settings.worker.poll_seconds.max(1));
            tokio::select! {
                _ = crate::worker::run(runner, settings.worker.clone()) => {}
                _ = crate::worker::run_deliveries(deliverer, settings.worker.concurrency, poll) => {}
                _ = tokio::signal::ctrl_c() => {}
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Migrate { grant_to } => {
            let mut database = settings.database.clone();
            database.migrate_on_start = true;
            let db = connect_and_migrate(&database).await?;
            crate::session_store::AnySessionStore::migrated(&db).await?;
            println!("Database is up to date.");
            if let Some(role) = grant_to {
                app::db::grants::grant_application_role(&db, &role).await?;
                println!("Granted {role} what the server needs (and no DDL, no audit log edits).");
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::User(cmd) => user::run(&settings, cmd).await,
        Command::Audit(cmd) => audit::run(&settings, cmd).await,
        Command::Token(cmd) => token::run(&settings, cmd).await,
    }
}

async fn serve(settings: Settings, demo: bool) -> anyhow::Result<ExitCode> {
    let app = Application::build(&settings).await?;
    if demo {
        demo::seed(app.db()).await?;
    }
    let url = format!("http://{}:{}", settings.application.host, app.port());
    tracing::info!(%url, "Rollgate is listening");
    println!("Rollgate is running at {url} (Ctrl-C stops it)");
    app.run_until_stopped().await?;
    Ok(ExitCode::SUCCESS)
}
