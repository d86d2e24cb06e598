//! What the crash test holds the servers to, read from the database and the counting Airflow
//! after every server is stopped.

use std::{
    collections::{HashMap, HashSet},
    time::{Duration, Instant},
};

use app::{
    conn_run,
    db::{Conn, Db},
    execution::fake_airflow::Shared,
};

use super::drive::Ack;

pub struct Report {
    pub backend: &'static str,
    pub flows: usize,
    pub kills: usize,
    pub mid_call: usize,
    pub mid_approval: usize,
    pub acks: Vec<Ack>,
    pub refused: Vec<String>,
    pub stuck: usize,
    pub elapsed: Duration,
}

/// Waits until `n` jobs have succeeded; returns how many had not by `limit`. A failed read
/// (the database restarting) is read again.
pub async fn wait_for_jobs(db: &Db, n: usize, limit: Duration) -> usize {
    let started = Instant::now();
    let mut done = 0;
    loop {
        let sql = "SELECT COUNT(*) FROM executions WHERE status = 'succeeded'";
        if let Ok(d) = count(db, sql).await {
            done = d as usize;
        }
        if done >= n || started.elapsed() > limit {
            return n.saturating_sub(done);
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

async fn count(db: &Db, sql: &str) -> anyhow::Result<i64> {
    Ok(conn_run!(&mut Conn::Db(db), |c| sqlx::query_scalar::<
        _,
        i64,
    >(sql)
    .fetch_one(c)
    .await)?)
}

async fn pairs(db: &Db, sql: &str) -> anyhow::Result<HashSet<(String, String)>> {
    let rows: Vec<(String, String)> = conn_run!(&mut Conn::Db(db), |c| sqlx::query_as(sql)
        .fetch_all(c)
        .await)?;
    Ok(rows.into_iter().collect())
}

/// Prints the report; true when every guarantee held.
pub async fn check(
    db: &Db,
    url: &str,
    fake: &Shared,
    r: &Report,
    pids: &[Vec<u32>],
) -> anyhow::Result<bool> {
    let decided = pairs(
        db,
        "SELECT CAST(d.plan_id AS TEXT), u.username FROM approval_decisions d JOIN users u ON u.id = d.approver_id",
    )
    .await?;
    let audited = pairs(
        db,
        "SELECT entity_id, COALESCE(actor_username, '') FROM audit_events WHERE action = 'plan.approved'",
    )
    .await?;
    let lost = r
        .acks
        .iter()
        .filter(|(plan, who)| {
            let key = (plan.to_string(), who.to_string());
            !decided.contains(&key) || !audited.contains(&key)
        })
        .count();
    let jobs = count(db, "SELECT COUNT(*) FROM executions").await? as usize;
    let (runs, duplicates) = {
        let f = fake.lock().unwrap();
        let mut per_step: HashMap<(i64, i64), usize> = HashMap::new();
        for run in f.runs.values() {
            let id = &run.conf["rollgate"];
            let step = (
                id["execution_id"].as_i64().unwrap_or(-1),
                id["step"].as_i64().unwrap_or(-1),
            );
            *per_step.entry(step).or_default() += 1;
        }
        (f.runs.len(), per_step.values().filter(|n| **n > 1).count())
    };
    let by_instance = work_by_instance(db, pids).await?;
    let verified = verify(url)?;
    println!(
        "{}: {} flows in {:.0} s, {} kills ({} with an Airflow call in flight, {} with an approval in flight), \
         {} approvals acknowledged, {} lost, {} refused; \
         {} jobs, {} stuck; {} remote runs, {} created twice; jobs first started per instance {:?}; audit chain: {}",
        r.backend,
        r.flows,
        r.elapsed.as_secs_f64(),
        r.kills,
        r.mid_call,
        r.mid_approval,
        r.acks.len(),
        lost,
        r.refused.len(),
        jobs,
        r.stuck,
        runs,
        duplicates,
        by_instance,
        verified.as_deref().unwrap_or("FAILED")
    );
    for refused in r.refused.iter().take(5) {
        println!("  refused: {refused}");
    }
    let every_instance_worked = pids.len() == 1 || by_instance.iter().all(|n| *n > 0);
    Ok(lost == 0
        && r.refused.is_empty()
        && r.stuck == 0
        && jobs == r.flows
        && runs == r.flows
        && duplicates == 0
        && every_instance_worked
        && verified.is_some())
}

/// How many job starts (first claims and takeovers) each instance made, by the process ids in
/// the `execution.started` events' lease owner.
async fn work_by_instance(db: &Db, pids: &[Vec<u32>]) -> anyhow::Result<Vec<usize>> {
    let owners: Vec<String> = conn_run!(&mut Conn::Db(db), |c| sqlx::query_scalar(
        "SELECT after_json FROM audit_events WHERE action = 'execution.started'"
    )
    .fetch_all(c)
    .await)?;
    Ok(pids
        .iter()
        .map(|mine| {
            owners
                .iter()
                .filter(|o| mine.iter().any(|p| o.contains(&format!(":{p}:"))))
                .count()
        })
        .collect())
}

/// `rollgate audit verify` on the database, as an auditor runs it; its verdict line.
fn verify(url: &str) -> anyhow::Result<Option<String>> {
    let exe = std::env::current_exe()?.with_file_name("rollgate");
    let out = std::process::Command::new(exe)
        .args(["audit", "verify"])
        .env("DATABASE_URL", url)
        .env("RUST_LOG", "error")
        .output()?;
    let text = String::from_utf8_lossy(&out.stdout).trim().to_string();
    Ok(out.status.success().then_some(text))
}
