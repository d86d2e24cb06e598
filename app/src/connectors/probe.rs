//! "Test connection": calls the connector's real API and reports what it found, in words an
//! administrator can act on. Read-only on Airflow; a signed `rollgate.ping` for webhooks.

use std::time::Duration;

use base64::{engine::general_purpose::STANDARD, Engine};
use hmac::{Hmac, Mac};
use serde_json::Value;
use sha2::Sha256;

use super::model::{ConnectorKind, ProbeReport};

pub struct Target<'a> {
    pub kind: ConnectorKind,
    pub base_url: &'a str,
    pub username: &'a str,
    pub secret: Option<String>,
    /// (component, production DAG, rollback DAG) bound to this connector.
    pub bound: Vec<(String, Option<String>, Option<String>)>,
}

/// Never follows redirects: a 307 from `/auth/token` would re-send the password elsewhere.
fn client() -> reqwest::Client {
    crate::execution::http::outbound_client(Duration::from_secs(10), Duration::from_secs(5))
}

/// A body read at most up to the outbound limit, as JSON (`Null` if it is not).
async fn json_of(r: reqwest::Response) -> Value {
    crate::execution::http::read_capped(r)
        .await
        .ok()
        .and_then(|b| serde_json::from_str(&b).ok())
        .unwrap_or_default()
}

/// "answered 307, a redirect to https://…, which Rollgate does not follow".
fn status_words(r: &reqwest::Response) -> String {
    let status = r.status();
    if status.is_redirection() {
        let to = r
            .headers()
            .get(reqwest::header::LOCATION)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("an unnamed address");
        let to: String = to.chars().take(200).collect();
        format!("{status}, a redirect to {to}, which Rollgate does not follow (set the address to the final one)")
    } else {
        status.to_string()
    }
}

pub async fn probe(t: Target<'_>) -> ProbeReport {
    let mut findings = Vec::new();
    let ok = match t.kind {
        ConnectorKind::Airflow3 => airflow(&t, &mut findings).await,
        ConnectorKind::Webhook => webhook(&t, &mut findings).await,
    };
    ProbeReport { ok, findings }
}

fn unreachable(base: &str, e: &reqwest::Error) -> String {
    let why = if e.is_timeout() {
        "it did not answer within 10 seconds"
    } else if e.is_connect() {
        "nothing accepted the connection (check the address and port)"
    } else {
        "the request failed"
    };
    format!("Could not reach {base}: {why}.")
}

async fn airflow(t: &Target<'_>, out: &mut Vec<String>) -> bool {
    let http = client();
    let base = t.base_url;
    match http.get(format!("{base}/api/v2/version")).send().await {
        Ok(r) if r.status().is_success() => {
            let v = json_of(r).await;
            let version = v["version"].as_str().unwrap_or("unknown");
            out.push(format!("Reached Apache Airflow {version} at {base}."));
            if !version.starts_with('3') {
                out.push(
                    "This is not Airflow 3: Rollgate speaks the Airflow 3 REST API (/api/v2)."
                        .into(),
                );
                return false;
            }
        }
        Ok(r) => {
            out.push(format!(
                "{base}/api/v2/version answered {}: is this the Airflow 3 API server's address?",
                status_words(&r)
            ));
            return false;
        }
        Err(e) => {
            out.push(unreachable(base, &e));
            return false;
        }
    }
    let Some(password) = &t.secret else {
        out.push(
            "No password is configured: set an environment variable or store a secret.".into(),
        );
        return false;
    };
    let body = serde_json::json!({ "username": t.username, "password": password });
    let token = match http
        .post(format!("{base}/auth/token"))
        .json(&body)
        .send()
        .await
    {
        Ok(r) if r.status().is_success() => {
            let v = json_of(r).await;
            match v["access_token"].as_str() {
                Some(tok) => tok.to_string(),
                None => {
                    out.push("/auth/token answered without an access token.".into());
                    return false;
                }
            }
        }
        Ok(r) if r.status() == reqwest::StatusCode::UNAUTHORIZED => {
            out.push(format!(
                "Airflow refused the credentials of user “{}”: check the username and password.",
                t.username
            ));
            return false;
        }
        Ok(r) => {
            out.push(format!("/auth/token answered {}.", status_words(&r)));
            return false;
        }
        Err(e) => {
            out.push(unreachable(base, &e));
            return false;
        }
    };
    out.push(format!("Signed in as “{}”.", t.username));
    let dags = http
        .get(format!("{base}/api/v2/dags?limit=100"))
        .bearer_auth(&token)
        .send()
        .await;
    let listed: Vec<String> = match dags {
        Ok(r) if r.status().is_success() => {
            let v = json_of(r).await;
            let total = v["total_entries"].as_i64().unwrap_or(0);
            out.push(format!("The user can see {total} DAG(s)."));
            v["dags"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|d| d["dag_id"].as_str().map(str::to_string))
                .collect()
        }
        Ok(r) => {
            out.push(format!(
                "Listing DAGs answered {}: the user may lack permission to read DAGs.",
                status_words(&r)
            ));
            return false;
        }
        Err(e) => {
            out.push(unreachable(base, &e));
            return false;
        }
    };
    let mut ok = true;
    for (component, dag, rollback) in &t.bound {
        for (what, id) in [("production DAG", dag), ("rollback DAG", rollback)] {
            let Some(id) = id else { continue };
            let found = listed.contains(id)
                || http
                    .get(format!("{base}/api/v2/dags/{id}"))
                    .bearer_auth(&token)
                    .send()
                    .await
                    .is_ok_and(|r| r.status().is_success());
            if found {
                out.push(format!("{component}: {what} “{id}” exists."));
            } else {
                out.push(format!(
                    "{component}: {what} “{id}” was not found in Airflow."
                ));
                ok = false;
            }
        }
    }
    ok
}

type HmacSha256 = Hmac<Sha256>;

/// Standard Webhooks signature: base64(HMAC-SHA256(key, "{id}.{timestamp}.{body}")), where a
/// `whsec_` secret is base64 of the key and any other secret is the key's bytes.
pub fn sign(secret: &str, id: &str, timestamp: i64, body: &str) -> String {
    let key = secret
        .strip_prefix("whsec_")
        .and_then(|b| STANDARD.decode(b).ok())
        .unwrap_or_else(|| secret.as_bytes().to_vec());
    let mut mac = HmacSha256::new_from_slice(&key)
        .unwrap_or_else(|_| HmacSha256::new_from_slice(b"").expect("HMAC takes any key length"));
    mac.update(format!("{id}.{timestamp}.{body}").as_bytes());
    format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes()))
}

async fn webhook(t: &Target<'_>, out: &mut Vec<String>) -> bool {
    let Some(secret) = &t.secret else {
        out.push(
            "No signing secret is configured: receivers could not verify Rollgate's calls.".into(),
        );
        return false;
    };
    let id = format!("msg_{}", uuid::Uuid::new_v4().simple());
    let timestamp = chrono::Utc::now().timestamp();
    let body = serde_json::json!({ "type": "rollgate.ping", "timestamp": chrono::Utc::now().to_rfc3339(), "data": {} }).to_string();
    let started = std::time::Instant::now();
    let res = client()
        .post(t.base_url)
        .header("content-type", "application/json")
        .header("webhook-id", &id)
        .header("webhook-timestamp", timestamp.to_string())
        .header("webhook-signature", sign(secret, &id, timestamp, &body))
        .body(body)
        .send()
        .await;
    match res {
        Ok(r) if r.status().is_success() => {
            out.push(format!(
                "The webhook accepted a signed rollgate.ping ({}) in {} ms.",
                r.status(),
                started.elapsed().as_millis()
            ));
            true
        }
        Ok(r) => {
            out.push(format!("The webhook answered {} to a signed rollgate.ping: check its signing secret and address.", status_words(&r)));
            false
        }
        Err(e) => {
            out.push(unreachable(t.base_url, &e));
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_follow_the_standard_webhooks_test_vector() {
        // From the Standard Webhooks specification's reference test.
        let sig = sign(
            "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
            "msg_p5jXN8AQM9LWM0D4loKWxJek",
            1614265330,
            r#"{"test": 2432232314}"#,
        );
        assert_eq!(sig, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
    }
}
