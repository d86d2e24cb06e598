//! `make bench`: seeds 100 000 audit events and 100 000 changes, starts the release server as a
//! user would, and prints page latencies under 20 concurrent clients, idle memory and the wasm
//! bundle size; then times a 5 000-node dbt manifest import and impact on a 10 000-node graph.
//! Postmortems: a 2 000-entry timeline, and lists over 100 000 action items.

use std::{
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use anyhow::Context;
use app::{
    audit::repo::{append, Ctx, NewAuditEvent},
    users::{model::NewUser, service::create_user},
};
use rollgate::{configuration::DatabaseSettings, startup::connect_and_migrate};
use serde_json::json;

/// Import and impact timings, in process, on their own databases.
mod lineage;
mod postmortems;
mod signin;

const EVENTS: usize = 100_000;
const CLIENTS: usize = 20;
const REQUESTS_PER_CLIENT: usize = 100;
const PASSWORD: &str = "bench password long";

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let dir = std::env::temp_dir().join(format!("rollgate-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let url = format!("sqlite://{}/bench.db", dir.display());
    let seeded = Instant::now();
    seed(&url).await?;
    println!(
        "seeded {EVENTS} audit events in {:.1} s",
        seeded.elapsed().as_secs_f64()
    );
    let seeded = Instant::now();
    seed_changes(&url).await?;
    println!(
        "seeded {CHANGES} changes over {COMPONENTS} components in {:.1} s",
        seeded.elapsed().as_secs_f64()
    );
    let seeded = Instant::now();
    let postmortem = postmortems::seed(&url).await?;
    println!(
        "seeded a {}-event postmortem timeline and {} action items in {:.1} s",
        postmortems::TIMELINE,
        postmortems::ITEMS,
        seeded.elapsed().as_secs_f64()
    );
    lineage::run(&dir).await?;

    let port = free_port()?;
    let mut server = start_server(&url, port)?;
    let base = format!("http://127.0.0.1:{port}");
    let result = measure(&base, server.id(), postmortem).await;
    let _ = server.kill();
    let _ = std::fs::remove_dir_all(&dir);
    result
}

async fn seed(url: &str) -> anyhow::Result<()> {
    let settings = DatabaseSettings {
        url: url.to_string().into(),
        max_connections: 4,
        migrate_on_start: true,
    };
    let db = connect_and_migrate(&settings).await?;
    let new = NewUser::parse(
        "bench-auditor",
        "Bench Auditor",
        PASSWORD,
        &["auditor".into(), "requester".into()],
        &[],
    )
    .map_err(|e| anyhow::anyhow!("{e}"))?;
    let actor_id = create_user(&db, &Ctx::system(), new)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let actor = app::audit::Actor {
        id: actor_id,
        username: "bench-auditor".into(),
    };
    const ACTIONS: [&str; 5] = [
        "change.recorded",
        "plan.submitted",
        "plan.approved",
        "auth.login_succeeded",
        "user.access_changed",
    ];
    for batch in 0..EVENTS / 1000 {
        let mut tx = db.begin().await?;
        for i in 0..1000 {
            let n = batch * 1000 + i;
            let ctx = if n % 2 == 0 {
                Ctx::user(actor.clone(), Some(format!("req-{n}")))
            } else {
                Ctx::system()
            };
            let event = NewAuditEvent {
                action: ACTIONS[n % ACTIONS.len()],
                entity_type: "change",
                entity_id: (n % 5000).to_string(),
                before: json!({"status": "recorded"}),
                after: json!({"status": "rollback_planned", "n": n}),
            };
            append(&mut tx, &ctx, event).await?;
        }
        tx.commit().await?;
    }
    db.close().await;
    Ok(())
}

const CHANGES: usize = 100_000;
const COMPONENTS: usize = 200;

/// 100 000 changes (recorded through the service, audit events included) over 200 components.
async fn seed_changes(url: &str) -> anyhow::Result<()> {
    use app::{
        catalog::{
            model::{ComponentKind, Declaration},
            service::{declare, Source},
        },
        changes::{
            model::{ChangeInput, NewChange},
            service::create_in,
        },
    };
    let settings = DatabaseSettings {
        url: url.to_string().into(),
        max_connections: 4,
        migrate_on_start: true,
    };
    let db = connect_and_migrate(&settings).await?;
    let decls = (0..COMPONENTS)
        .map(|i| Declaration {
            name: format!("component-{i}"),
            kind: Some(ComponentKind::Dataset),
            upstream: Some(if i == 0 {
                vec![]
            } else {
                vec![format!("component-{}", i / 2)]
            }),
            ..Default::default()
        })
        .collect();
    declare(&db, &Ctx::system(), Source::Api, "bench", decls)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let kinds = [
        "transform",
        "schema_migration",
        "config",
        "backfill",
        "other",
    ];
    let start = chrono::Utc::now() - chrono::Duration::days(400);
    for batch in 0..CHANGES / 1000 {
        let mut tx = db.begin().await?;
        for i in 0..1000 {
            let n = batch * 1000 + i;
            let input = ChangeInput {
                title: format!("Orders pipeline change {n}"),
                kind: kinds[n % kinds.len()].into(),
                why: "Benchmark".into(),
                deployed_at: (start + chrono::Duration::minutes(5 * n as i64)).to_rfc3339(),
                git_sha: format!("{:07x}", n + 0x1000000),
                components: vec![
                    (format!("component-{}", n % COMPONENTS), String::new()),
                    (
                        format!("component-{}", (n * 7 + 3) % COMPONENTS),
                        "snap".into(),
                    ),
                ],
                ..Default::default()
            };
            let mut input = input;
            input.components.dedup_by(|a, b| a.0 == b.0);
            let new =
                NewChange::parse(&input, chrono::Utc::now()).map_err(|e| anyhow::anyhow!("{e}"))?;
            create_in(&mut tx, &Ctx::system(), 1, &new, None)
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?;
        }
        tx.commit().await?;
    }
    db.close().await;
    Ok(())
}

fn free_port() -> anyhow::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}

fn start_server(url: &str, port: u16) -> anyhow::Result<Child> {
    let exe = std::env::current_exe()?.with_file_name("rollgate");
    Command::new(&exe)
        .arg("serve")
        .env("DATABASE_URL", url)
        .env("ROLLGATE_PORT", port.to_string())
        .env(
            "ROLLGATE_SECRET_KEY",
            app::connectors::secret::SecretKey::generate().to_base64(),
        )
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .spawn()
        .with_context(|| format!("cannot start {}", exe.display()))
}

async fn measure(base: &str, pid: u32, postmortem: i64) -> anyhow::Result<()> {
    let http = reqwest::Client::new();
    wait_ready(&http, base).await?;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let idle_rss = rss_kib(pid)?;

    let login = latencies(base, "/login", false).await?;
    let audit = latencies(base, "/audit", true).await?;
    let filtered = latencies(base, "/audit?action=plan.approved&before=50000", true).await?;
    let changes = latencies(base, "/changes", true).await?;
    let by_component = latencies(base, "/changes?component=component-17&kind=config", true).await?;
    let by_text = latencies(
        base,
        "/changes?q=orders+12&status=recorded&author=bench-auditor",
        true,
    )
    .await?;
    let rare_text = latencies(base, "/changes?q=change+4242", true).await?;
    let common_text = latencies(base, "/changes?q=pipeline", true).await?;
    let middle =
        chrono::Utc::now() - chrono::Duration::days(400) + chrono::Duration::minutes(5 * 50_000);
    let paged = latencies(
        base,
        &format!("/changes?kind=backfill&after={}_50000", middle.timestamp()),
        true,
    )
    .await?;
    let timeline = latencies(base, &format!("/postmortems/{postmortem}"), true).await?;
    let all_items = latencies(base, "/action-items/all", true).await?;
    let mine = latencies(base, "/action-items", true).await?;
    let filtered_items = latencies(
        base,
        "/action-items/all?priority=urgent&owner=bench-owner&component=17",
        true,
    )
    .await?;
    let overdue = latencies(base, "/action-items/overdue", true).await?;
    let busy_rss = rss_kib(pid)?;

    println!(
        "\n{:<44} {:>9} {:>9} {:>9}",
        "page (20 clients, 2 000 requests)", "p50 ms", "p99 ms", "req/s"
    );
    for (name, stats) in [
        ("login page", login),
        ("audit log, newest 50 of 100 000", audit),
        ("audit log, filtered, keyset page", filtered),
        ("changes, newest 50 of 100 000", changes),
        ("changes, by component + kind", by_component),
        ("changes, title search + status + author", by_text),
        ("changes, title search, 11 of 100 000 match", rare_text),
        ("changes, title search, every title matches", common_text),
        ("changes, kind, keyset page deep in the list", paged),
        ("postmortem, 2 000-entry timeline", timeline),
        ("action items, all (+ chart) of 100 000", all_items),
        ("action items, mine (10 000 of 100 000)", mine),
        ("action items, priority + owner + component", filtered_items),
        ("action items, overdue, most late first", overdue),
    ] {
        println!(
            "{name:<44} {:>9.2} {:>9.2} {:>9.0}",
            stats.p50, stats.p99, stats.rps
        );
    }
    println!(
        "\nserver RSS: idle {:.1} MiB, after the load {:.1} MiB",
        idle_rss as f64 / 1024.0,
        busy_rss as f64 / 1024.0
    );
    signin::run(base, pid).await?;
    print_wasm_size();
    Ok(())
}

async fn wait_ready(http: &reqwest::Client, base: &str) -> anyhow::Result<()> {
    for _ in 0..100 {
        if http
            .get(format!("{base}/readyz"))
            .send()
            .await
            .is_ok_and(|r| r.status().is_success())
        {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    anyhow::bail!("the server did not become ready")
}

struct Stats {
    p50: f64,
    p99: f64,
    rps: f64,
}

/// Runs CLIENTS clients, each with its own session, REQUESTS_PER_CLIENT requests each.
async fn latencies(base: &str, path: &str, signed_in: bool) -> anyhow::Result<Stats> {
    let mut clients = Vec::new();
    for _ in 0..CLIENTS {
        // A page that never answers fails the run instead of hanging it.
        let http = reqwest::Client::builder()
            .cookie_store(true)
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(30))
            .build()?;
        if signed_in {
            let res = http
                .post(format!("{base}/api/auth/login"))
                .header("accept", "application/json")
                .form(&[
                    ("username", "bench-auditor"),
                    ("password", PASSWORD),
                    ("next", ""),
                ])
                .send()
                .await?;
            anyhow::ensure!(
                res.status().is_success(),
                "bench sign-in failed: {}",
                res.status()
            );
        }
        clients.push(http);
    }
    let started = Instant::now();
    let tasks: Vec<_> = clients
        .into_iter()
        .map(|http| {
            let url = format!("{base}{path}");
            tokio::spawn(async move {
                let mut times = Vec::with_capacity(REQUESTS_PER_CLIENT);
                for _ in 0..REQUESTS_PER_CLIENT {
                    let t = Instant::now();
                    let res = http.get(&url).header("accept", "text/html").send().await?;
                    anyhow::ensure!(res.status() == 200, "{url} answered {}", res.status());
                    res.bytes().await?;
                    times.push(t.elapsed().as_secs_f64() * 1000.0);
                }
                Ok::<_, anyhow::Error>(times)
            })
        })
        .collect();
    let mut all = Vec::new();
    for task in tasks {
        all.extend(task.await??);
    }
    let elapsed = started.elapsed().as_secs_f64();
    all.sort_by(|a, b| a.total_cmp(b));
    let pick = |q: f64| all[((all.len() as f64 * q) as usize).min(all.len() - 1)];
    Ok(Stats {
        p50: pick(0.50),
        p99: pick(0.99),
        rps: all.len() as f64 / elapsed,
    })
}

fn rss_kib(pid: u32) -> anyhow::Result<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    let line = status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))
        .context("no VmRSS")?;
    Ok(line
        .split_whitespace()
        .nth(1)
        .context("bad VmRSS")?
        .parse()?)
}

fn print_wasm_size() {
    let path = std::path::Path::new("target/site/pkg/rollgate.wasm");
    match std::fs::metadata(path) {
        Ok(meta) => {
            let gzip = Command::new("gzip")
                .args(["-9", "-c"])
                .arg(path)
                .output()
                .map(|o| o.stdout.len())
                .unwrap_or(0);
            println!(
                "wasm bundle: {:.0} KiB ({:.0} KiB gzipped)",
                meta.len() as f64 / 1024.0,
                gzip as f64 / 1024.0
            );
        }
        Err(_) => println!("wasm bundle: not built (run cargo leptos build --release first)"),
    }
}
