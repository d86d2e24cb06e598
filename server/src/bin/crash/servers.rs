//! `rollgate serve` as child processes the crash test starts, kills with SIGKILL and restarts.

use std::{
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use anyhow::Context;

pub struct Server {
    pub port: u16,
    child: Option<Child>,
    /// Every process id this instance has had (one per restart).
    pub pids: Vec<u32>,
    env: Vec<(String, String)>,
    log: PathBuf,
}

impl Server {
    pub fn new(port: u16, database_url: &str, key_file: &Path, log: PathBuf) -> Self {
        let env = [
            ("DATABASE_URL", database_url.to_string()),
            ("ROLLGATE_PORT", port.to_string()),
            ("ROLLGATE_SECRET_KEY_FILE", key_file.display().to_string()),
            ("ROLLGATE_WORKER_LEASE_SECONDS", "5".into()),
            ("ROLLGATE_WORKER_CONCURRENCY", "8".into()),
            ("ROLLGATE_WORKER_POLL_SECONDS", "1".into()),
            ("ROLLGATE_DB_MAX_CONNECTIONS", "8".into()),
            ("ROLLGATE_MAX_FAILED_LOGINS", "1000".into()),
            ("RUST_LOG", "warn".into()),
        ];
        Self {
            port,
            child: None,
            pids: Vec::new(),
            env: env.into_iter().map(|(k, v)| (k.to_string(), v)).collect(),
            log,
        }
    }

    pub fn base(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    pub async fn start(&mut self) -> anyhow::Result<()> {
        let exe = std::env::current_exe()?
            .parent()
            .context("the directory of this binary")?
            .join("rollgate");
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log)?;
        let child = Command::new(&exe)
            .arg("serve")
            .envs(self.env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .stdout(Stdio::from(log.try_clone()?))
            .stderr(Stdio::from(log))
            .spawn()
            .with_context(|| format!("starting {} (build it first)", exe.display()))?;
        self.pids.push(child.id());
        self.child = Some(child);
        self.wait_ready().await
    }

    /// SIGKILL: no shutdown, no flush, as a crash.
    pub fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    async fn wait_ready(&self) -> anyhow::Result<()> {
        let url = format!("{}/readyz", self.base());
        let started = Instant::now();
        while started.elapsed() < Duration::from_secs(60) {
            if let Ok(r) = reqwest::get(&url).await {
                if r.status().is_success() {
                    return Ok(());
                }
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        anyhow::bail!(
            "rollgate on port {} was not ready within 60 s (see {})",
            self.port,
            self.log.display()
        )
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill();
    }
}

pub fn free_port() -> anyhow::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}
