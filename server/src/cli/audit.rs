//! `rollgate audit verify` and `rollgate audit export`.

use std::{path::PathBuf, process::ExitCode};

use anyhow::Context;
use clap::Subcommand;

use app::audit::export::{export, verify_db, verify_export, VerifyReport};

use crate::{configuration::Settings, startup::connect_and_migrate};

#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Re-compute the chain from the database, or from an export file, and report the first
    /// broken link. Exits 0 when intact, 1 when broken.
    Verify {
        /// An NDJSON export to verify instead of the database.
        #[arg(long)]
        file: Option<PathBuf>,
    },
    /// Write the chain as NDJSON (one event per line, then the head line).
    Export {
        /// Where to write (default: standard output).
        #[arg(long)]
        output: Option<PathBuf>,
        /// Start at this seq; an anchor line makes the range verifiable on its own.
        #[arg(long, default_value_t = 1)]
        from_seq: i64,
    },
}

pub async fn run(settings: &Settings, command: AuditCommand) -> anyhow::Result<ExitCode> {
    match command {
        AuditCommand::Verify { file: Some(path) } => {
            let file = std::fs::File::open(&path)
                .with_context(|| format!("cannot open {}", path.display()))?;
            Ok(report(verify_export(std::io::BufReader::new(file))))
        }
        AuditCommand::Verify { file: None } => {
            let db = connect_and_migrate(&settings.database).await?;
            Ok(report(verify_db(&db).await?))
        }
        AuditCommand::Export { output, from_seq } => {
            let db = connect_and_migrate(&settings.database).await?;
            let count = match output {
                Some(path) => {
                    let mut file = tokio::fs::File::create(&path)
                        .await
                        .with_context(|| format!("cannot create {}", path.display()))?;
                    export(&db, &mut file, from_seq).await?
                }
                None => export(&db, &mut tokio::io::stdout(), from_seq).await?,
            };
            eprintln!("Exported {count} events.");
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn report(r: VerifyReport) -> ExitCode {
    match r.outcome {
        Ok(()) => {
            println!(
                "OK: {} events verified; the chain is intact up to its head (seq {}).",
                r.checked, r.head_seq
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            println!("BROKEN at seq {}: {}", e.seq, e.reason);
            println!("{} events before it verified.", r.checked);
            ExitCode::FAILURE
        }
    }
}
