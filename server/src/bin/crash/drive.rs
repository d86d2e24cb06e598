//! The approvals, sent over HTTP as approvers' browsers send them: each decision is re-sent with
//! its request key until the server answers, whatever the kills in between. What was answered
//! with success is what the verdict holds the server to.

use std::{
    sync::{
        atomic::{AtomicBool, AtomicUsize, Ordering},
        Arc,
    },
    time::Duration,
};

use reqwest::Client;
use tokio::sync::Semaphore;

use super::seed::{Pending, APPROVERS, PASSWORD};

/// One acknowledged approval: (plan, approver).
pub type Ack = (i64, &'static str);

/// Approvals sent and not yet answered (the killer aims at these moments too).
pub static IN_FLIGHT: AtomicUsize = AtomicUsize::new(0);
/// Approvals are still being sent (the killer strikes more often meanwhile).
pub static APPROVING: AtomicBool = AtomicBool::new(false);

pub fn client() -> anyhow::Result<Client> {
    Ok(Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(20))
        .build()?)
}

/// Signs in (retrying while the server restarts); the session outlives restarts (it is stored
/// in the database).
pub async fn sign_in(c: &Client, base: &str, username: &str) -> anyhow::Result<()> {
    for _ in 0..600 {
        let res = c
            .post(format!("{base}/api/auth/login"))
            .header("accept", "application/json")
            .form(&[("username", username), ("password", PASSWORD), ("next", "")])
            .send()
            .await;
        match res {
            Ok(r) if r.status().is_success() || r.status().is_redirection() => return Ok(()),
            Ok(r) if r.status().is_client_error() => {
                anyhow::bail!("{username} could not sign in: {}", r.status())
            }
            _ => tokio::time::sleep(Duration::from_millis(100)).await,
        }
    }
    anyhow::bail!("{username} could not sign in within a minute")
}

/// Sends every plan's three approvals, `parallel` plans at a time, plan `i` to server
/// `i % bases.len()`. Returns the acknowledged ones and the refused ones (with the answer).
pub async fn approve_all(
    clients: Arc<Vec<Vec<Client>>>,
    bases: Arc<Vec<String>>,
    plans: Vec<Pending>,
    parallel: usize,
) -> (Vec<Ack>, Vec<String>) {
    APPROVING.store(true, Ordering::SeqCst);
    let gate = Arc::new(Semaphore::new(parallel));
    let mut tasks = Vec::new();
    for (i, plan) in plans.into_iter().enumerate() {
        let (gate, clients, bases) = (gate.clone(), clients.clone(), bases.clone());
        tasks.push(tokio::spawn(async move {
            let _slot = gate.acquire().await;
            let server = i % bases.len();
            let mut acks = Vec::new();
            let mut refused = Vec::new();
            for (a, (who, _)) in APPROVERS.iter().enumerate() {
                match decide(&clients[server][a], &bases[server], &plan, who).await {
                    Ok(()) => acks.push((plan.id, *who)),
                    Err(e) => refused.push(format!("plan {} by {who}: {e}", plan.id)),
                }
            }
            (acks, refused)
        }));
    }
    let mut acks = Vec::new();
    let mut refused = Vec::new();
    for t in tasks {
        if let Ok((a, r)) = t.await {
            acks.extend(a);
            refused.extend(r);
        }
    }
    APPROVING.store(false, Ordering::SeqCst);
    (acks, refused)
}

async fn decide(c: &Client, base: &str, plan: &Pending, who: &str) -> Result<(), String> {
    let key = format!("crash-{}-{who}", plan.id);
    let (id, revision) = (plan.id.to_string(), plan.revision.to_string());
    let form = [
        ("id", id.as_str()),
        ("revision", revision.as_str()),
        ("content_hash", plan.hash.as_str()),
        ("decision", "approve"),
        ("request_key", key.as_str()),
    ];
    for _ in 0..1200 {
        IN_FLIGHT.fetch_add(1, Ordering::SeqCst);
        let res = c
            .post(format!("{base}/api/plans/decide"))
            .header("accept", "application/json")
            .form(&form)
            .send()
            .await;
        IN_FLIGHT.fetch_sub(1, Ordering::SeqCst);
        match res {
            Ok(r) if r.status().is_success() || r.status().is_redirection() => return Ok(()),
            Ok(r) if r.status().is_client_error() => {
                let status = r.status();
                return Err(format!("{status}: {}", r.text().await.unwrap_or_default()));
            }
            // Killed mid-request, restarting, or 5xx: the browser sends it again, same key.
            _ => tokio::time::sleep(Duration::from_millis(100)).await,
        }
    }
    Err("no answer within two minutes".into())
}
