//! Apache Airflow 3 REST (`/api/v2`). The token from `/auth/token` is cached for the job and
//! fetched again on a 401 (expired) or a 403 "Invalid JWT token". Runs are started with the
//! step's key as `dag_run_id`; a 409 means a run with that id exists: if its `conf` carries our
//! step, polling resumes, otherwise the step fails (a foreign run holds the id).

use reqwest::Method;
use serde_json::{json, Map, Value};
use tokio::sync::Mutex;

use super::{
    connector::{Call, Connector, Failure, Polled, Started},
    http::{Http, Reply},
};
use crate::plans::model::Action;

/// The XCom key a rollback DAG pushes its verification values under (row_count, checksum, …).
pub const VERIFICATION_XCOM: &str = "rollgate_verification";

pub struct Airflow {
    pub base: String,
    pub username: String,
    pub password: String,
    token: Mutex<Option<String>>,
}

impl Airflow {
    pub fn new(base: &str, username: &str, password: &str) -> Self {
        Self {
            base: base.trim_end_matches('/').to_string(),
            username: username.to_string(),
            password: password.to_string(),
            token: Mutex::new(None),
        }
    }

    async fn login(&self, http: &mut Http) -> Result<String, Failure> {
        http.hide(&self.password);
        let body = json!({ "username": self.username, "password": self.password });
        let url = format!("{}/auth/token", self.base);
        let reply = http
            .send(Method::POST, &url, &[], Some(&body))
            .await
            .map_err(|e| Failure(format!("Airflow at {} did not answer: {}.", self.base, e.0)))?;
        match reply.status {
            200 | 201 => {
                let token = reply.json()["access_token"].as_str().map(str::to_string);
                let token = token.ok_or("Airflow's /auth/token answered without an access token.")?;
                http.hide(&token);
                Ok(token)
            }
            401 => Err(Failure(format!(
                "Airflow refused the credentials of user “{}”: check the connector's username and password.",
                self.username
            ))),
            s => Err(Failure(format!("Airflow's /auth/token answered {s}: {}", reply.detail()))),
        }
    }

    /// An authorized call; signs in again once if the token expired or was not accepted.
    async fn call(
        &self,
        http: &mut Http,
        method: Method,
        path: &str,
        body: Option<&Value>,
    ) -> Result<Reply, Failure> {
        let url = format!("{}{path}", self.base);
        // Once per call: a token may expire while a call is being retried, even a fresh one.
        let mut signed_in_again = false;
        loop {
            let token = {
                let mut cached = self.token.lock().await;
                match cached.clone() {
                    Some(t) => t,
                    None => {
                        let t = self.login(http).await?;
                        *cached = Some(t.clone());
                        t
                    }
                }
            };
            http.hide(&token);
            let auth = [("authorization", format!("Bearer {token}"))];
            let reply = http
                .send(method.clone(), &url, &auth, body)
                .await
                .map_err(|e| {
                    Failure(format!("Airflow at {} did not answer: {}.", self.base, e.0))
                })?;
            let rejected = reply.status == 401
                || (reply.status == 403 && reply.detail().contains("Invalid JWT"));
            if rejected && !signed_in_again {
                signed_in_again = true;
                *self.token.lock().await = None;
                continue;
            }
            return Ok(reply);
        }
    }

    async fn set_paused(
        &self,
        http: &mut Http,
        dag: &str,
        paused: bool,
    ) -> Result<Started, Failure> {
        let path = format!("/api/v2/dags/{}", encode(dag));
        let reply = self
            .call(
                http,
                Method::PATCH,
                &path,
                Some(&json!({ "is_paused": paused })),
            )
            .await?;
        match reply.status {
            s if (200..300).contains(&s) => Ok(Started::Done(None)),
            404 => Err(Failure(format!(
                "Airflow has no DAG `{dag}`: check the component's DAG id."
            ))),
            s => Err(refused(s, &reply)),
        }
    }

    async fn trigger(&self, http: &mut Http, dag: &str, call: &Call) -> Result<Started, Failure> {
        if !valid_run_id(&call.key) {
            return Err(Failure(format!(
                "`{}` cannot be an Airflow run id.",
                call.key
            )));
        }
        let body = json!({ "dag_run_id": call.key, "logical_date": null, "conf": call.payload,
                           "note": "Started by Rollgate" });
        let path = format!("/api/v2/dags/{}/dagRuns", encode(dag));
        let reply = self.call(http, Method::POST, &path, Some(&body)).await?;
        match reply.status {
            s if (200..300).contains(&s) => Ok(Started::Running),
            409 => self.adopt(http, dag, call).await,
            404 => Err(Failure(format!(
                "Airflow has no DAG `{dag}`: check the component's rollback DAG id."
            ))),
            s => Err(refused(s, &reply)),
        }
    }

    /// After a 409: the run is ours (resume polling) or someone else's (fail).
    async fn adopt(&self, http: &mut Http, dag: &str, call: &Call) -> Result<Started, Failure> {
        let reply = self
            .call(http, Method::GET, &run_path(dag, &call.key), None)
            .await?;
        if !reply.ok() {
            return Err(refused(reply.status, &reply));
        }
        let theirs = &reply.json()["conf"]["rollgate"];
        if *theirs == call.payload["rollgate"] {
            Ok(Started::Running)
        } else {
            Err(Failure(format!(
                "A run Rollgate did not start already holds the id `{}` on DAG `{dag}`: halted so nothing runs twice. \
                 Look at that run in Airflow, then retry (a retry uses a new id) or abort.",
                call.key
            )))
        }
    }

    async fn values(
        &self,
        http: &mut Http,
        dag: &str,
        run: &str,
    ) -> Result<Map<String, Value>, Failure> {
        let tis = self
            .call(
                http,
                Method::GET,
                &format!("{}/taskInstances", run_path(dag, run)),
                None,
            )
            .await?;
        // A failed read is not "no values": the checks would then fail for the wrong reason.
        if !tis.ok() {
            return Err(refused(tis.status, &tis));
        }
        let mut out = Map::new();
        let tasks: Vec<String> = tis.json()["task_instances"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|t| t["task_id"].as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default();
        for task in tasks {
            let path = format!(
                "{}/taskInstances/{}/xcomEntries/{VERIFICATION_XCOM}",
                run_path(dag, run),
                encode(&task)
            );
            let reply = self.call(http, Method::GET, &path, None).await?;
            match reply.status {
                404 => {} // this task pushed no verification values
                _ if reply.ok() => {
                    if let Some(map) = reply.json()["value"].as_object() {
                        out.extend(map.clone());
                    }
                }
                s => return Err(refused(s, &reply)),
            }
        }
        Ok(out)
    }

    async fn failed_tasks(&self, http: &mut Http, dag: &str, run: &str) -> String {
        let Ok(reply) = self
            .call(
                http,
                Method::GET,
                &format!("{}/taskInstances", run_path(dag, run)),
                None,
            )
            .await
        else {
            return String::new();
        };
        let failed: Vec<String> = reply.json()["task_instances"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter(|t| t["state"] == "failed")
                    .filter_map(|t| t["task_id"].as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default();
        match failed.is_empty() {
            true => String::new(),
            false => format!(" (failed tasks: {})", failed.join(", ")),
        }
    }
}

/// The DAG a row's run lives on: the rollback DAG, or the production DAG for a re-run.
fn run_dag(call: &Call) -> Result<&str, Failure> {
    let dag = match call.action {
        Action::ClearRerun => &call.dag_id,
        _ => &call.rollback_dag_id,
    };
    dag.as_deref().ok_or_else(|| {
        Failure("The component has no DAG id for this action: bind it in the catalog.".into())
    })
}

#[async_trait::async_trait]
impl Connector for Airflow {
    async fn start(&self, http: &mut Http, call: &Call) -> Result<Started, Failure> {
        let production = || {
            call.dag_id.as_deref().ok_or_else(|| {
                Failure("The component has no production DAG id: bind it in the catalog.".into())
            })
        };
        match &call.action {
            Action::PauseDag => self.set_paused(http, production()?, true).await,
            Action::UnpauseDag => self.set_paused(http, production()?, false).await,
            Action::TriggerRollback { .. } | Action::ClearRerun => {
                self.trigger(http, run_dag(call)?, call).await
            }
            Action::Webhook | Action::Manual { .. } => Err(Failure(
                "Airflow does not carry out this kind of row.".into(),
            )),
        }
    }

    async fn poll(&self, http: &mut Http, call: &Call) -> Result<Polled, Failure> {
        let dag = run_dag(call)?;
        let reply = self
            .call(http, Method::GET, &run_path(dag, &call.key), None)
            .await?;
        if !reply.ok() {
            return Err(refused(reply.status, &reply));
        }
        match reply.json()["state"].as_str().unwrap_or("unknown") {
            "success" => Ok(Polled::Done(Some(self.values(http, dag, &call.key).await?))),
            "failed" => {
                let tasks = self.failed_tasks(http, dag, &call.key).await;
                Err(Failure(format!(
                    "Airflow run `{}` of DAG `{dag}` failed{tasks}.",
                    call.key
                )))
            }
            other => Ok(Polled::Waiting(other.to_string())),
        }
    }

    async fn stop(&self, http: &mut Http, call: &Call) -> Result<String, Failure> {
        self.stop_run(http, call).await
    }
}

impl Airflow {
    /// Marks a queued or running run failed (Airflow then stops its tasks within seconds); a run
    /// that already ended, or never came to exist, is left as it is.
    async fn stop_run(&self, http: &mut Http, call: &Call) -> Result<String, Failure> {
        let dag = run_dag(call)?;
        let path = run_path(dag, &call.key);
        let reply = self.call(http, Method::GET, &path, None).await?;
        match reply.status {
            404 => {
                return Ok(format!(
                    "Airflow has no run `{}`: nothing was left running.",
                    call.key
                ))
            }
            _ if !reply.ok() => return Err(refused(reply.status, &reply)),
            _ => {}
        }
        if let Some(ended @ ("success" | "failed")) = reply.json()["state"].as_str() {
            return Ok(format!(
                "Run `{}` had already ended ({ended}): nothing to stop.",
                call.key
            ));
        }
        let body = json!({ "state": "failed", "note": "Aborted in Rollgate" });
        let reply = self.call(http, Method::PATCH, &path, Some(&body)).await?;
        match reply.ok() {
            true => Ok(format!(
                "Marked run `{}` of DAG `{dag}` failed; Airflow stops its running task within seconds.",
                call.key
            )),
            false => Err(refused(reply.status, &reply)),
        }
    }
}

fn run_path(dag: &str, run: &str) -> String {
    format!("/api/v2/dags/{}/dagRuns/{}", encode(dag), encode(run))
}

fn refused(status: u16, reply: &Reply) -> Failure {
    let why = match status {
        401 | 403 => "the Airflow user may not do this",
        400 | 422 => "Airflow refused the request",
        404 => "Airflow does not know it",
        s if s >= 500 => "Airflow kept failing after retries",
        _ => "Airflow answered unexpectedly",
    };
    Failure(format!("{why} ({status}): {}", reply.detail()))
}

/// Airflow's run id rule: `^[A-Za-z0-9_.~:+-]+$`; short, as it becomes a log directory name.
pub fn valid_run_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 200
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_.~:+-".contains(c))
}

fn encode(segment: &str) -> String {
    segment
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}
