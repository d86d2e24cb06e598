//! The database and the orchestrator going away under load: PostgreSQL stopped for a few
//! seconds and started again, the Airflow-wire server dropped (every connection cut) and served
//! again on its address with its state, as an Airflow restart keeps its metadata. The servers are
//! not restarted meanwhile; what `/readyz` answered is recorded.

use std::{
    sync::{
        atomic::{AtomicBool, Ordering},
        Arc,
    },
    time::{Duration, Instant},
};

use app::execution::fake_airflow::{self, Shared};

/// While set, the killer holds off: a disruption is measured without process restarts.
pub static HOLD: AtomicBool = AtomicBool::new(false);

const DOWN: Duration = Duration::from_secs(3);

/// Stops PostgreSQL for 3 s (`CRASH_PG_CTL stop|start`, default `pg_ctlcluster 15 main`) while
/// probing every server's `/readyz`; returns what was seen, or an error if a server did not
/// answer 200 again within a minute of the database's return.
pub async fn restart_postgres(bases: &[String]) -> anyhow::Result<String> {
    let ctl = std::env::var("CRASH_PG_CTL").unwrap_or_else(|_| "pg_ctlcluster 15 main".into());
    HOLD.store(true, Ordering::SeqCst);
    let (tx, mut unavailable) = tokio::sync::mpsc::unbounded_channel();
    let probing = Arc::new(AtomicBool::new(true));
    for base in bases {
        let (base, tx, probing) = (base.clone(), tx.clone(), probing.clone());
        tokio::spawn(async move {
            let c = reqwest::Client::new();
            while probing.load(Ordering::SeqCst) {
                if let Ok(r) = c.get(format!("{base}/readyz")).send().await {
                    if r.status() == 503 {
                        let _ = tx.send(base.clone());
                    }
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        });
    }
    run(&format!("{ctl} stop"))?;
    tokio::time::sleep(DOWN).await;
    run(&format!("{ctl} start"))?;
    let back = Instant::now();
    let c = reqwest::Client::new();
    for base in bases {
        loop {
            let ok = c
                .get(format!("{base}/readyz"))
                .send()
                .await
                .is_ok_and(|r| r.status().is_success());
            if ok {
                break;
            }
            if back.elapsed() > Duration::from_secs(60) {
                anyhow::bail!("{base} still not ready a minute after PostgreSQL came back");
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
    let recovered = back.elapsed();
    probing.store(false, Ordering::SeqCst);
    drop(tx);
    let mut saw = std::collections::HashSet::new();
    while let Ok(base) = unavailable.try_recv() {
        saw.insert(base);
    }
    HOLD.store(false, Ordering::SeqCst);
    if saw.len() != bases.len() {
        anyhow::bail!("/readyz did not answer 503 on every server while PostgreSQL was down");
    }
    Ok(format!(
        "PostgreSQL stopped for {} s mid-run: /readyz answered 503 on every server meanwhile and 200 again {:.1} s after it was back, with no process restarted",
        DOWN.as_secs(),
        recovered.as_secs_f64()
    ))
}

/// Stops the Airflow-wire server (its port closed), waits 3 s, serves it again with its state.
pub async fn restart_airflow(
    state: &Shared,
    server: fake_airflow::Running,
) -> anyhow::Result<(String, fake_airflow::Running)> {
    HOLD.store(true, Ordering::SeqCst);
    let addr = server.addr;
    let runs = state.lock().unwrap().runs.len();
    server.stop().await;
    let calls = state.lock().unwrap().calls.len();
    tokio::time::sleep(DOWN).await;
    let refused_meanwhile = state.lock().unwrap().calls.len() - calls;
    let again = fake_airflow::serve(state.clone(), addr).await?;
    HOLD.store(false, Ordering::SeqCst);
    anyhow::ensure!(refused_meanwhile == 0, "the stopped Airflow still answered");
    Ok((
        format!(
            "Airflow stopped for {} s mid-run ({runs} runs created by then; its port refused connections meanwhile), then served again with its state",
            DOWN.as_secs()
        ),
        again,
    ))
}

fn run(command: &str) -> anyhow::Result<()> {
    let status = std::process::Command::new("sh")
        .args(["-c", command])
        .status()?;
    anyhow::ensure!(status.success(), "`{command}` failed: {status}");
    Ok(())
}
