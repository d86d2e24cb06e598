//! `make crash-test`: Rollgate's exactly-once contract under `kill -9`. Seeds `--flows` plans,
//! starts `rollgate serve` (`--instances` of them sharing one database) against a counting
//! Airflow-wire server, sends every approval over HTTP while killing servers with SIGKILL at
//! random moments (many mid-call) and restarting them, waits for every rollback to finish, then
//! checks: no acknowledged approval lost, every job finished, no remote run created twice, the
//! audit chain verifies. Prints the counts; exits non-zero on any violation.
//!
//! With `--restart-db` PostgreSQL is stopped for 3 s mid-run (the servers must answer 503 on
//! `/readyz` meanwhile and recover without a restart); with `--restart-airflow` the orchestrator
//! is (polling resumes, nothing is triggered twice).
//!
//! `rollgate-crash --backend sqlite|postgres --flows N --kills K --instances I [--restart-db]
//! [--restart-airflow]`

mod disrupt;
mod drive;
mod seed;
mod servers;
mod verdict;

use std::{
    sync::{
        atomic::{AtomicBool, AtomicUsize, Ordering},
        Arc,
    },
    time::{Duration, Instant},
};

use anyhow::Context;
use app::{connectors::secret::SecretKey, execution::fake_airflow};
use rand::Rng;
use rollgate::{configuration::DatabaseSettings, startup::connect_and_migrate};
use tokio::sync::Mutex;

use servers::{free_port, Server};

struct Args {
    postgres: bool,
    flows: usize,
    kills: usize,
    instances: usize,
    restart_db: bool,
    restart_airflow: bool,
}

fn args() -> anyhow::Result<Args> {
    let mut a = Args {
        postgres: false,
        flows: 1000,
        kills: 100,
        instances: 1,
        restart_db: false,
        restart_airflow: false,
    };
    let mut raw = std::env::args().skip(1);
    while let Some(option) = raw.next() {
        let mut value = || {
            raw.next()
                .with_context(|| format!("{option} takes a value"))
        };
        match option.as_str() {
            "--backend" => a.postgres = value()? == "postgres",
            "--flows" => a.flows = value()?.parse()?,
            "--kills" => a.kills = value()?.parse()?,
            "--instances" => a.instances = value()?.parse::<usize>()?.max(1),
            "--restart-db" => a.restart_db = true,
            "--restart-airflow" => a.restart_airflow = true,
            other => anyhow::bail!("unknown option {other}"),
        }
    }
    anyhow::ensure!(
        a.postgres || !a.restart_db,
        "--restart-db needs --backend postgres"
    );
    Ok(a)
}

#[tokio::main]
async fn main() -> anyhow::Result<std::process::ExitCode> {
    let a = args()?;
    let dir = std::env::temp_dir().join(format!("rollgate-crash-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let (url, drop_db) = database(&a, &dir).await?;
    let db = connect_and_migrate(&DatabaseSettings {
        url: url.clone().into(),
        max_connections: 4,
        migrate_on_start: true,
    })
    .await?;
    let fake: fake_airflow::Shared = Default::default();
    fake.lock().unwrap().pace = Duration::from_millis(150);
    let mut orchestrator = fake_airflow::serve(fake.clone(), "127.0.0.1:0".parse()?).await?;
    let airflow = format!("http://{}", orchestrator.addr);
    let key = SecretKey::generate();
    let key_file = dir.join("secret.key");
    std::fs::write(&key_file, key.to_base64())?;
    let seeded = Instant::now();
    let plans = seed::seed(&db, &airflow, &key, a.flows).await?;
    let backend = if a.postgres { "PostgreSQL" } else { "SQLite" };
    println!(
        "{backend}: seeded {} plans awaiting approval in {:.1} s; {} instance(s)",
        plans.len(),
        seeded.elapsed().as_secs_f64(),
        a.instances
    );
    let mut list = Vec::new();
    for i in 0..a.instances {
        let mut s = Server::new(
            free_port()?,
            &url,
            &key_file,
            dir.join(format!("server-{i}.log")),
        );
        s.start().await?;
        list.push(Arc::new(Mutex::new(s)));
    }
    let bases: Vec<String> = {
        let mut b = Vec::new();
        for s in &list {
            b.push(s.lock().await.base());
        }
        b
    };
    let mut clients = Vec::new();
    for base in &bases {
        let mut per = Vec::new();
        for (who, _) in seed::APPROVERS {
            let c = drive::client()?;
            drive::sign_in(&c, base, who).await?;
            per.push(c);
        }
        clients.push(per);
    }
    let started = Instant::now();
    let done = Arc::new(AtomicBool::new(false));
    let kills = Arc::new(AtomicUsize::new(0));
    let mid_call = Arc::new(AtomicUsize::new(0));
    let mid_approval = Arc::new(AtomicUsize::new(0));
    let killer = tokio::spawn(kill_loop(
        list.clone(),
        fake.clone(),
        a.kills,
        done.clone(),
        kills.clone(),
        mid_call.clone(),
        mid_approval.clone(),
    ));
    let (acks, refused) =
        drive::approve_all(Arc::new(clients), Arc::new(bases.clone()), plans.clone(), 8).await;
    let mut seen = Vec::new();
    if a.restart_db {
        verdict::wait_for_jobs(&db, plans.len() / 3, Duration::from_secs(600)).await;
        seen.push(disrupt::restart_postgres(&bases).await?);
    }
    if a.restart_airflow {
        verdict::wait_for_jobs(&db, plans.len() / 2, Duration::from_secs(600)).await;
        let (said, again) = disrupt::restart_airflow(&fake, orchestrator).await?;
        orchestrator = again;
        seen.push(said);
    }
    let stuck = verdict::wait_for_jobs(&db, plans.len(), Duration::from_secs(600)).await;
    done.store(true, Ordering::SeqCst);
    killer.await??;
    let elapsed = started.elapsed();
    let mut pids = Vec::new();
    for s in &list {
        let mut s = s.lock().await;
        s.kill();
        pids.push(s.pids.clone());
    }
    let report = verdict::Report {
        backend,
        flows: plans.len(),
        kills: kills.load(Ordering::SeqCst),
        mid_call: mid_call.load(Ordering::SeqCst),
        mid_approval: mid_approval.load(Ordering::SeqCst),
        acks,
        refused,
        stuck,
        elapsed,
    };
    let ok = verdict::check(&db, &url, &fake, &report, &pids).await?;
    for said in seen {
        println!("  {said}");
    }
    orchestrator.stop().await;
    db.close().await;
    drop_db.await?;
    let _ = std::fs::remove_dir_all(&dir);
    Ok(match ok {
        true => std::process::ExitCode::SUCCESS,
        false => std::process::ExitCode::FAILURE,
    })
}

/// Kills a random instance every 0.3–2.5 s (0.05–0.4 s while approvals are being sent, for half
/// the budget), aiming at calls in flight, and restarts it at once, `budget` times or until the
/// jobs are done.
async fn kill_loop(
    list: Vec<Arc<Mutex<Server>>>,
    fake: fake_airflow::Shared,
    budget: usize,
    done: Arc<AtomicBool>,
    kills: Arc<AtomicUsize>,
    mid_call: Arc<AtomicUsize>,
    mid_approval: Arc<AtomicUsize>,
) -> anyhow::Result<()> {
    while kills.load(Ordering::SeqCst) < budget && !done.load(Ordering::SeqCst) {
        let wait = match drive::APPROVING.load(Ordering::SeqCst) {
            true => rand::thread_rng().gen_range(50..400),
            false => rand::thread_rng().gen_range(300..2500),
        };
        tokio::time::sleep(Duration::from_millis(wait)).await;
        if done.load(Ordering::SeqCst) {
            break;
        }
        // Aim, for up to half a second, at a moment with an Airflow call (even kills) or an
        // approval (odd kills) in flight.
        let aim_at_approval =
            drive::APPROVING.load(Ordering::SeqCst) && kills.load(Ordering::SeqCst) % 2 == 1;
        let busy = || match aim_at_approval {
            true => drive::IN_FLIGHT.load(Ordering::SeqCst) > 0,
            false => fake.lock().unwrap().in_flight > 0,
        };
        for _ in 0..250 {
            if busy() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        // Half the kills while approvals are sent, the rest while the rollbacks run.
        let approving = drive::APPROVING.load(Ordering::SeqCst);
        if disrupt::HOLD.load(Ordering::SeqCst)
            || (approving && kills.load(Ordering::SeqCst) >= budget.div_ceil(2))
        {
            continue;
        }
        let i = rand::thread_rng().gen_range(0..list.len());
        let mut s = list[i].lock().await;
        if fake.lock().unwrap().in_flight > 0 {
            mid_call.fetch_add(1, Ordering::SeqCst);
        }
        if drive::IN_FLIGHT.load(Ordering::SeqCst) > 0 {
            mid_approval.fetch_add(1, Ordering::SeqCst);
        }
        s.kill();
        kills.fetch_add(1, Ordering::SeqCst);
        s.start().await?;
    }
    Ok(())
}

/// The database URL, and how to drop it afterwards (PostgreSQL: a database of its own).
async fn database(
    a: &Args,
    dir: &std::path::Path,
) -> anyhow::Result<(
    String,
    std::pin::Pin<Box<dyn std::future::Future<Output = anyhow::Result<()>>>>,
)> {
    if !a.postgres {
        let url = format!("sqlite://{}/crash.db", dir.display());
        return Ok((url, Box::pin(async { Ok(()) })));
    }
    let admin = std::env::var("CRASH_PG_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into());
    let name = format!("rollgate_crash_{}", std::process::id());
    let pool = sqlx::PgPool::connect(&admin).await?;
    sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(&pool)
        .await?;
    let base = admin.rsplit_once('/').map(|(b, _)| b).unwrap_or(&admin);
    let url = format!("{base}/{name}");
    let drop = async move {
        sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
            .execute(&pool)
            .await?;
        Ok(())
    };
    Ok((url, Box::pin(drop)))
}
