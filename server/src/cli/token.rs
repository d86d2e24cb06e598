//! `rollgate token create`: an API token for a service account, from the server's shell (to
//! bootstrap CI without a browser). The secret is printed once.

use std::process::ExitCode;

use clap::Subcommand;

use app::{
    audit::repo::Ctx,
    auth::CurrentUser,
    db::Conn,
    tokens::{model::NewToken, service::create},
    users::repo::{find_credentials, get_user},
};

use crate::{configuration::Settings, startup::connect_and_migrate};

#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Create a token for a service account and print its secret (shown once).
    Create {
        /// The service account's username (`rollgate user add --service`).
        #[arg(long)]
        owner: String,
        #[arg(long)]
        name: String,
        /// changes:read, changes:write, catalog:read or catalog:write; repeat for several.
        #[arg(long = "scope", required = true)]
        scopes: Vec<String>,
    },
}

pub async fn run(settings: &Settings, command: TokenCommand) -> anyhow::Result<ExitCode> {
    let TokenCommand::Create {
        owner,
        name,
        scopes,
    } = command;
    let db = connect_and_migrate(&settings.database).await?;
    let mut conn = Conn::Db(&db);
    let name_lower = owner.trim().to_lowercase();
    let Some(creds) = find_credentials(&mut conn, &name_lower).await? else {
        eprintln!("owner: no user named {name_lower:?}");
        return Ok(ExitCode::from(2));
    };
    let user = get_user(&mut conn, creds.id).await?;
    if !user.service {
        eprintln!("owner: {name_lower} is a person: people create their own tokens on the API tokens page");
        return Ok(ExitCode::from(2));
    }
    let new = match NewToken::parse(&name, &scopes) {
        Ok(new) => new,
        Err(e) => return Ok(report(e)),
    };
    let as_owner = CurrentUser {
        id: user.id,
        username: user.username.clone(),
        display_name: user.display_name.clone(),
        roles: user.roles.clone(),
        groups: user.groups.clone(),
    };
    let ctx = Ctx {
        actor: None,
        request_id: Some("cli".into()),
    };
    match create(&db, &ctx, &as_owner, &user.username, new).await {
        Ok((_, secret)) => {
            println!("{secret}");
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => Ok(report(e)),
    }
}

fn report(e: app::error::AppError) -> ExitCode {
    match e {
        app::error::AppError::Validation { fields } => {
            for f in fields {
                eprintln!("{}: {}", f.field, f.message);
            }
        }
        e => eprintln!("{e}"),
    }
    ExitCode::from(2)
}
