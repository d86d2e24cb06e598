//! `rollgate user add`: creates a user; the password comes from a prompt or stdin, never argv.

use std::{
    io::{BufRead, IsTerminal},
    process::ExitCode,
};

use anyhow::Context;
use clap::Subcommand;

use app::{
    audit::repo::Ctx,
    db::Conn,
    groups::repo::list_groups,
    users::{model::NewUser, service::create_user},
};

use crate::{configuration::Settings, startup::connect_and_migrate};

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Create a user. Reads the password from a prompt, or from the first line of stdin.
    Add {
        #[arg(long)]
        username: String,
        /// Full name shown in the app (default: the username).
        #[arg(long)]
        name: Option<String>,
        /// requester, approver, postmortem_author, auditor or admin; repeat for several.
        #[arg(long = "role", required = true)]
        roles: Vec<String>,
        /// Approval group name (approvers only); repeat for several.
        #[arg(long = "group")]
        groups: Vec<String>,
        /// A service account for CI: no password (none is read), never signs in; an
        /// administrator creates API tokens for it.
        #[arg(long)]
        service: bool,
    },
}

pub async fn run(settings: &Settings, command: UserCommand) -> anyhow::Result<ExitCode> {
    let UserCommand::Add {
        username,
        name,
        roles,
        groups,
        service,
    } = command;
    let db = connect_and_migrate(&settings.database).await?;
    let known = list_groups(&mut Conn::Db(&db)).await?;
    let mut group_ids = Vec::new();
    for g in &groups {
        let found = known.iter().find(|k| k.name.eq_ignore_ascii_case(g));
        let names: Vec<&str> = known.iter().map(|k| k.name.as_str()).collect();
        group_ids.push(
            found
                .with_context(|| {
                    format!(
                        "no approval group named {g:?} (known: {})",
                        names.join(", ")
                    )
                })?
                .id,
        );
    }
    let display_name = name.unwrap_or_else(|| username.clone());
    let parsed = if service {
        NewUser::service(&username, &display_name, &roles, &group_ids)
    } else {
        let password = read_password()?;
        NewUser::parse(&username, &display_name, &password, &roles, &group_ids)
    };
    let new = match parsed {
        Ok(new) => new,
        Err(app::error::AppError::Validation { fields }) => {
            for f in fields {
                eprintln!("{}: {}", f.field.replace('_', " "), f.message);
            }
            return Ok(ExitCode::from(2));
        }
        Err(e) => return Err(anyhow::anyhow!("{e}")),
    };
    let ctx = Ctx {
        actor: None,
        request_id: Some("cli".into()),
    };
    let id = create_user(&db, &ctx, new)
        .await
        .map_err(|e| anyhow::anyhow!("cannot create the user: {e}"))?;
    let what = if service { "service account" } else { "user" };
    println!(
        "Created {what} {} (id {id}).",
        username.trim().to_lowercase()
    );
    Ok(ExitCode::SUCCESS)
}

fn read_password() -> anyhow::Result<String> {
    if std::io::stdin().is_terminal() {
        let first = rpassword::prompt_password("Password: ")?;
        let second = rpassword::prompt_password("Repeat the password: ")?;
        anyhow::ensure!(first == second, "the two passwords differ");
        Ok(first)
    } else {
        let mut line = String::new();
        std::io::stdin().lock().read_line(&mut line)?;
        Ok(line.trim_end_matches(['\r', '\n']).to_string())
    }
}
