//! A real HTTP server for fault tests and the crash test that speaks Airflow 3's wire format as
//! recorded from a real instance (status codes, body shapes, 409 on a repeated run id, 401
//! "Token Expired"), with faults queued per call: a status code, a delay, or an expired token.
//! It counts what it was asked: every call, every run created, the calls in flight.

use std::{
    collections::{HashMap, VecDeque},
    sync::{Arc, Mutex},
    time::Duration,
};

use axum::{
    body::Bytes,
    extract::State,
    http::{HeaderMap, Method, StatusCode, Uri},
    response::{IntoResponse, Response},
    Json, Router,
};
use serde_json::{json, Value};

#[derive(Debug, Clone)]
pub enum Fault {
    Status(u16),
    /// Answer late (past the client's time limit, to test timeouts).
    Delay(Duration),
    /// Do the work, then answer late: the client times out although the call took effect.
    AnswerLate(Duration),
    /// Every token issued so far expires before this call.
    ExpireToken,
}

#[derive(Debug, Clone)]
pub struct Run {
    pub conf: Value,
    pub polls: u32,
    pub fail: bool,
    /// Set by a PATCH of the run's state (an abort marks it failed).
    pub marked: Option<String>,
}

#[derive(Debug, Default)]
pub struct Fake {
    pub paused: HashMap<String, bool>,
    pub runs: HashMap<(String, String), Run>,
    /// (method, path fragment) → fault, applied to the first matching call.
    pub faults: VecDeque<(Method, String, Fault)>,
    /// Tokens issued and not expired: as Airflow's JWTs, several are valid at once.
    pub tokens: std::collections::HashSet<String>,
    pub logins: u32,
    /// How many of the next runs fail.
    pub fail_next: u32,
    /// Every call, as "METHOD path".
    pub calls: Vec<String>,
    /// Webhook calls whose signature verified: (webhook-id, body).
    pub webhooks: Vec<(String, Value)>,
    /// Every call to a DAG's runs waits this long before it is answered (a slow orchestrator,
    /// so a crash lands mid-call).
    pub pace: Duration,
    /// Calls being answered right now.
    pub in_flight: u32,
}

pub type Shared = Arc<Mutex<Fake>>;

pub const DAGS: [&str; 2] = ["orders_etl", "orders_etl_rollback"];
pub const PASSWORD: &str = "runner-secret-pw";
/// The webhook signing secret the receiver at `/hook` verifies with.
pub const WEBHOOK_SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

/// Starts the server on a free port; returns its base URL and its state.
pub async fn start() -> (String, Shared) {
    let state: Shared = Arc::new(Mutex::new(Fake::default()));
    let running = serve(state.clone(), "127.0.0.1:0".parse().expect("an address"))
        .await
        .expect("a free local port");
    let base = format!("http://{}", running.addr);
    std::mem::forget(running); // serves for as long as the test runs
    (base, state)
}

/// A running server: stop it to close its port (answers in flight finish, idle connections
/// close); serving the same state on the same address again is a restart that kept its
/// metadata, as Airflow's database does.
pub struct Running {
    pub addr: std::net::SocketAddr,
    stop: tokio::sync::oneshot::Sender<()>,
    task: tokio::task::JoinHandle<()>,
}

impl Running {
    pub async fn stop(self) {
        let _ = self.stop.send(());
        let _ = self.task.await;
    }
}

pub async fn serve(state: Shared, addr: std::net::SocketAddr) -> std::io::Result<Running> {
    let socket = tokio::net::TcpSocket::new_v4()?;
    socket.set_reuseaddr(true)?;
    socket.bind(addr)?;
    let listener = socket.listen(1024)?;
    let addr = listener.local_addr()?;
    let app = Router::new().fallback(handle).with_state(state);
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        let _ = axum::serve(listener, app)
            .with_graceful_shutdown(async {
                let _ = stopped.await;
            })
            .await;
    });
    Ok(Running { addr, stop, task })
}

pub fn fault(state: &Shared, method: Method, path: &str, f: Fault) {
    state
        .lock()
        .unwrap()
        .faults
        .push_back((method, path.to_string(), f));
}

fn reply(status: u16, body: Value) -> Response {
    (StatusCode::from_u16(status).unwrap(), Json(body)).into_response()
}

async fn handle(
    State(state): State<Shared>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let path = uri.path().to_string();
    state.lock().unwrap().in_flight += 1;
    let response = handle_counted(&state, method, &path, &headers, &body).await;
    state.lock().unwrap().in_flight -= 1;
    response
}

async fn handle_counted(
    state: &Shared,
    method: Method,
    path: &str,
    headers: &HeaderMap,
    body: &Bytes,
) -> Response {
    let (fault, pace) = {
        let mut s = state.lock().unwrap();
        s.calls.push(format!("{method} {path}"));
        let at = s
            .faults
            .iter()
            .position(|(m, p, _)| *m == method && path.contains(p.as_str()));
        let pace = path.contains("/dagRuns").then_some(s.pace);
        (at.and_then(|i| s.faults.remove(i)).map(|(_, _, f)| f), pace)
    };
    if let Some(d) = pace.filter(|d| !d.is_zero()) {
        tokio::time::sleep(d).await;
    }
    let late = match fault {
        Some(Fault::AnswerLate(d)) => Some(d),
        _ => None,
    };
    match fault {
        Some(Fault::Status(code)) => {
            return reply(
                code,
                json!({"detail": {"reason": "Database error", "statement": "hidden", "orig_error": "hidden"}}),
            );
        }
        Some(Fault::Delay(d)) => tokio::time::sleep(d).await,
        Some(Fault::ExpireToken) => state.lock().unwrap().tokens.clear(),
        Some(Fault::AnswerLate(_)) | None => {}
    }
    let response = answer(state, method, path, headers, body);
    if let Some(d) = late {
        tokio::time::sleep(d).await;
    }
    response
}

fn answer(
    state: &Shared,
    method: Method,
    path: &str,
    headers: &HeaderMap,
    raw: &Bytes,
) -> Response {
    let body: Value = serde_json::from_slice(raw).unwrap_or(Value::Null);
    if path == "/auth/token" && method == Method::POST {
        return login(state, &body);
    }
    if path == "/hook" && method == Method::POST {
        return webhook(state, headers, raw);
    }
    let bearer = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    {
        let s = state.lock().unwrap();
        if bearer.is_empty() {
            return reply(401, json!({"detail": "Not authenticated"}));
        }
        let token = bearer.strip_prefix("Bearer ").unwrap_or_default();
        if !s.tokens.contains(token) {
            return reply(401, json!({"detail": "Token Expired"}));
        }
    }
    let parts: Vec<&str> = path
        .trim_start_matches("/api/v2/dags/")
        .split('/')
        .collect();
    let dag = parts.first().copied().unwrap_or_default().to_string();
    if !path.starts_with("/api/v2/dags/") || !DAGS.contains(&dag.as_str()) {
        return reply(
            404,
            json!({"detail": format!("The Dag with ID: `{dag}` was not found")}),
        );
    }
    let mut s = state.lock().unwrap();
    match (method, &parts[1..]) {
        (Method::PATCH, []) => match body.get("is_paused").and_then(Value::as_bool) {
            Some(p) => {
                s.paused.insert(dag.clone(), p);
                reply(200, json!({"dag_id": dag, "is_paused": p}))
            }
            None => reply(
                422,
                json!({"detail": [{"type": "missing", "loc": ["body", "is_paused"]}]}),
            ),
        },
        (Method::POST, ["dagRuns"]) => {
            if !body
                .as_object()
                .is_some_and(|b| b.contains_key("logical_date"))
            {
                return reply(
                    422,
                    json!({"detail": [{"type": "missing", "loc": ["body", "logical_date"]}]}),
                );
            }
            let id = body["dag_run_id"].as_str().unwrap_or_default().to_string();
            let key = (dag.clone(), id.clone());
            if s.runs.contains_key(&key) {
                return reply(
                    409,
                    json!({"detail": {"reason": "Unique constraint violation", "statement": "hidden",
                                                    "orig_error": "hidden", "message": "Serious error"}}),
                );
            }
            let conf = body["conf"].clone();
            let fail = s.fail_next > 0;
            s.fail_next = s.fail_next.saturating_sub(1);
            s.runs.insert(
                key,
                Run {
                    conf: conf.clone(),
                    polls: 0,
                    fail,
                    marked: None,
                },
            );
            reply(
                200,
                json!({"dag_run_id": id, "dag_id": dag, "state": "queued", "conf": conf}),
            )
        }
        (Method::GET, ["dagRuns", run]) => {
            // As Airflow does, a run of a paused DAG stays queued.
            let paused = s.paused.get(dag.as_str()).copied().unwrap_or(false);
            match s.runs.get_mut(&(dag.clone(), run.to_string())) {
                Some(r) if paused && r.marked.is_none() => reply(
                    200,
                    json!({"dag_run_id": run, "dag_id": dag, "state": "queued", "conf": r.conf}),
                ),
                Some(r) => {
                    r.polls += 1;
                    let state = run_state(r).to_string();
                    reply(
                        200,
                        json!({"dag_run_id": run, "dag_id": dag, "state": state, "conf": r.conf}),
                    )
                }
                None => reply(
                    404,
                    json!({"detail": format!("The DagRun with dag_id: `{dag}` and run_id: `{run}` was not found")}),
                ),
            }
        }
        (Method::PATCH, ["dagRuns", run]) => {
            let Some(state @ ("queued" | "success" | "failed")) = body["state"].as_str() else {
                return reply(
                    422,
                    json!({"detail": [{"type": "enum", "loc": ["body", "state"]}]}),
                );
            };
            match s.runs.get_mut(&(dag.clone(), run.to_string())) {
                Some(r) => {
                    r.marked = Some(state.to_string());
                    reply(
                        200,
                        json!({"dag_run_id": run, "dag_id": dag, "state": state, "conf": r.conf}),
                    )
                }
                None => reply(
                    404,
                    json!({"detail": format!("The DagRun with dag_id: `{dag}` and run_id: `{run}` was not found")}),
                ),
            }
        }
        (Method::GET, ["dagRuns", run, "taskInstances"]) => {
            match s.runs.get(&(dag.clone(), run.to_string())) {
                Some(r) => {
                    let state = run_state(r);
                    reply(
                        200,
                        json!({"task_instances": [{"task_id": "apply_rollback", "state": state, "try_number": 1}], "total_entries": 1}),
                    )
                }
                None => reply(404, json!({"detail": "DagRun not found"})),
            }
        }
        (Method::GET, ["dagRuns", run, "taskInstances", _, "xcomEntries", key]) => {
            let found = s
                .runs
                .get(&(dag.clone(), run.to_string()))
                .and_then(|r| r.conf.get("report").cloned());
            match found {
                Some(v) => reply(200, json!({"key": key, "value": v})),
                None => reply(404, json!({"detail": "XCom entry not found"})),
            }
        }
        _ => reply(404, json!({"detail": "Not Found"})),
    }
}

/// queued, then running, then success — or failed when the run was set to fail; a state set by
/// a PATCH wins.
fn run_state(r: &Run) -> &str {
    if let Some(m) = &r.marked {
        return m;
    }
    match r.polls {
        0 | 1 => "queued",
        2 => "running",
        _ if r.fail => "failed",
        _ => "success",
    }
}

fn login(state: &Shared, body: &Value) -> Response {
    if body["password"] != PASSWORD {
        return reply(401, json!({"detail": "Invalid credentials"}));
    }
    let mut s = state.lock().unwrap();
    s.logins += 1;
    let token = format!("token-{}", s.logins);
    s.tokens.insert(token.clone());
    reply(201, json!({"access_token": token}))
}

/// A Standard Webhooks receiver: verifies the signature, then answers verification values.
fn webhook(state: &Shared, headers: &HeaderMap, raw: &Bytes) -> Response {
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string()
    };
    let (id, timestamp) = (header("webhook-id"), header("webhook-timestamp"));
    let body = String::from_utf8_lossy(raw).to_string();
    let expected =
        crate::connectors::probe::sign(WEBHOOK_SECRET, &id, timestamp.parse().unwrap_or(0), &body);
    if id.is_empty() || header("webhook-signature") != expected {
        return reply(401, json!({"error": "bad signature"}));
    }
    let payload: Value = serde_json::from_str(&body).unwrap_or(Value::Null);
    state.lock().unwrap().webhooks.push((id, payload));
    reply(200, json!({"verification": {"row_count": 7}}))
}
