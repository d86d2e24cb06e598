//! The sign-in flood an attacker would send: 200 concurrent sign-ins with random names. Prints
//! how many were checked and how many shed (503), the server's peak and settled memory, how
//! `/healthz` answered meanwhile, and how long a known and an unknown name take (they must
//! not differ, or names could be enumerated by timing).

use std::time::{Duration, Instant};

use crate::{rss_kib, PASSWORD};

const FLOOD: usize = 200;

pub async fn run(base: &str, pid: u32) -> anyhow::Result<()> {
    let (known, unknown) = timing(base).await?;
    let before = rss_kib(pid)?;
    let http = reqwest::Client::new();
    let started = Instant::now();
    let mut flood = tokio::task::JoinSet::new();
    for i in 0..FLOOD {
        let (http, url) = (http.clone(), format!("{base}/api/auth/login"));
        flood.spawn(async move {
            let res = http
                .post(url)
                .header("accept", "application/json")
                .form(&[
                    ("username", format!("flood-{i}")),
                    ("password", "guess".into()),
                ])
                .send()
                .await?;
            Ok::<_, reqwest::Error>(res.status().as_u16())
        });
    }
    let health = Instant::now();
    let healthy = http.get(format!("{base}/healthz")).send().await?.status();
    let health_ms = health.elapsed().as_secs_f64() * 1000.0;
    let statuses: Vec<u16> = flood
        .join_all()
        .await
        .into_iter()
        .collect::<Result<_, _>>()?;
    let flood_s = started.elapsed().as_secs_f64();
    let peak = peak_kib(pid)?;
    tokio::time::sleep(Duration::from_secs(10)).await;
    let settled = rss_kib(pid)?;
    let count = |s: u16| statuses.iter().filter(|x| **x == s).count();
    println!("\nsign-in flood: {FLOOD} concurrent sign-ins with unknown names in {flood_s:.1} s");
    println!(
        "  checked (401): {}, shed (503 + Retry-After): {}, other: {}",
        count(401),
        count(503),
        FLOOD - count(401) - count(503)
    );
    println!("  /healthz during the flood: {healthy} in {health_ms:.1} ms");
    println!(
        "  server RSS: before {:.1} MiB, peak so far {:.1} MiB, 10 s later {:.1} MiB",
        before as f64 / 1024.0,
        peak as f64 / 1024.0,
        settled as f64 / 1024.0
    );
    println!("  sign-in time, median of 20: known name + wrong password {known:.1} ms, unknown name {unknown:.1} ms");
    Ok(())
}

/// Medians of twenty failed sign-ins for a known and for an unknown name, one after the other.
async fn timing(base: &str) -> anyhow::Result<(f64, f64)> {
    let http = reqwest::Client::new();
    let attempt = |name: String, password: &'static str| {
        let (http, url) = (http.clone(), format!("{base}/api/auth/login"));
        async move {
            let t = Instant::now();
            http.post(url)
                .header("accept", "application/json")
                .form(&[
                    ("username", name.as_str()),
                    ("password", password),
                    ("next", ""),
                ])
                .send()
                .await?;
            Ok::<_, reqwest::Error>(t.elapsed().as_secs_f64() * 1000.0)
        }
    };
    let (mut known, mut unknown) = (Vec::new(), Vec::new());
    // Four failures at a time (a fifth would lock the name), then a good sign-in clears them.
    // Each unknown name is new (a repeated one would lock its bucket and answer without a check).
    for round in 0..5 {
        for i in 0..4 {
            let stranger = format!("nobody-{round}-{i}");
            unknown.push(attempt(stranger, "not the password").await?);
            known.push(attempt("bench-auditor".into(), "not the password").await?);
        }
        attempt("bench-auditor".into(), PASSWORD).await?;
    }
    Ok((median(known), median(unknown)))
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    (v[v.len() / 2 - 1] + v[v.len() / 2]) / 2.0
}

/// The process's peak memory so far (the kernel keeps it: `VmHWM`).
fn peak_kib(pid: u32) -> anyhow::Result<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    let line = status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .ok_or_else(|| anyhow::anyhow!("no VmHWM"))?;
    Ok(line
        .split_whitespace()
        .nth(1)
        .ok_or_else(|| anyhow::anyhow!("bad VmHWM"))?
        .parse()?)
}
