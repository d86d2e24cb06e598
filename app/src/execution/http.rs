//! Every remote call a step makes goes through `Http`: it retries timeouts, 5xx and 429 with
//! exponential backoff and jitter (never other 4xx), and records each exchange, with secrets
//! redacted, as evidence.

use std::time::{Duration, Instant};

use chrono::Utc;
use rand::Rng;
use reqwest::Method;
use serde_json::Value;

use super::repo::Evidence;

/// How hard a call is retried.
#[derive(Debug, Clone, Copy)]
pub struct RetryPolicy {
    pub attempts: u32,
    pub base: Duration,
    pub cap: Duration,
    /// One request's time limit.
    pub timeout: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            attempts: 6,
            base: Duration::from_millis(500),
            cap: Duration::from_secs(20),
            timeout: Duration::from_secs(30),
        }
    }
}

impl RetryPolicy {
    /// Full jitter: a random wait up to base · 2^attempt, capped.
    fn backoff(&self, attempt: u32) -> Duration {
        let ceiling = self.base.saturating_mul(1 << attempt.min(16)).min(self.cap);
        let ms = ceiling.as_millis().max(1) as u64;
        Duration::from_millis(rand::thread_rng().gen_range(ms / 2..=ms))
    }
}

/// A response, body read (at most `RESPONSE_LIMIT` of it).
#[derive(Debug, Clone)]
pub struct Reply {
    pub status: u16,
    pub body: String,
    /// Where a redirect pointed: never followed, reported.
    pub location: Option<String>,
}

impl Reply {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or(Value::Null)
    }

    pub fn ok(&self) -> bool {
        (200..300).contains(&self.status)
    }

    /// Airflow's `detail`, or the body's start: for messages people read.
    pub fn detail(&self) -> String {
        if (300..400).contains(&self.status) {
            return format!(
                "a redirect to {}; Rollgate never follows redirects (they could carry the credentials elsewhere): set the connector's address to the final one",
                self.location.as_deref().unwrap_or("an unnamed address")
            );
        }
        let v = self.json();
        let d = &v["detail"];
        match d {
            Value::String(s) => s.clone(),
            Value::Null => self.body.chars().take(300).collect(),
            other => other
                .get("message")
                .and_then(Value::as_str)
                .map(str::to_string)
                .unwrap_or_else(|| other.to_string()),
        }
    }
}

/// The call never got an answer, after every retry.
#[derive(Debug, Clone)]
pub struct Unreachable(pub String);

pub struct Http {
    client: reqwest::Client,
    policy: RetryPolicy,
    secrets: Vec<String>,
    pub log: Vec<Evidence>,
}

/// How much of a body is kept as evidence.
const BODY_LIMIT: usize = 16 * 1024;
/// How much of a response is read at all; the rest is never buffered.
pub const RESPONSE_LIMIT: usize = 1024 * 1024;

/// The client for every call to an orchestrator or webhook: it never follows a redirect (a
/// 307 would re-send a password to wherever it points) and gives up after `timeout`.
pub fn outbound_client(timeout: Duration, connect_timeout: Duration) -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(timeout)
        .connect_timeout(connect_timeout)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap_or_else(|e| {
            tracing::error!(error = %e, "cannot build the outbound HTTP client");
            reqwest::Client::new()
        })
}

/// The body of `res`, cut at `RESPONSE_LIMIT` (reading stops there).
pub async fn read_capped(mut res: reqwest::Response) -> Result<String, reqwest::Error> {
    let mut buf = Vec::new();
    while let Some(chunk) = res.chunk().await? {
        let room = RESPONSE_LIMIT - buf.len();
        buf.extend_from_slice(&chunk[..chunk.len().min(room)]);
        if buf.len() >= RESPONSE_LIMIT {
            break;
        }
    }
    Ok(String::from_utf8_lossy(&buf).into_owned())
}

impl Http {
    pub fn new(policy: RetryPolicy) -> Self {
        let client = outbound_client(policy.timeout, Duration::from_secs(10));
        Self {
            client,
            policy,
            secrets: Vec::new(),
            log: Vec::new(),
        }
    }

    /// A value never to be written into evidence (a password, a token).
    pub fn hide(&mut self, secret: &str) {
        if secret.len() >= 4 && !self.secrets.iter().any(|s| s == secret) {
            self.secrets.push(secret.to_string());
        }
    }

    pub fn take_log(&mut self) -> Vec<Evidence> {
        std::mem::take(&mut self.log)
    }

    /// Sends with retries on timeouts, 5xx and 429; any other answer is returned as is.
    pub async fn send(
        &mut self,
        method: Method,
        url: &str,
        headers: &[(&str, String)],
        body: Option<&Value>,
    ) -> Result<Reply, Unreachable> {
        let text = body.map(Value::to_string);
        let mut attempt = 0;
        loop {
            let outcome = self
                .once(method.clone(), url, headers, text.as_deref())
                .await;
            let retry = match &outcome {
                Ok(r) => r.status >= 500 || r.status == 429,
                Err(_) => true,
            };
            attempt += 1;
            if !retry || attempt >= self.policy.attempts {
                return outcome;
            }
            tokio::time::sleep(self.policy.backoff(attempt - 1)).await;
        }
    }

    async fn once(
        &mut self,
        method: Method,
        url: &str,
        headers: &[(&str, String)],
        body: Option<&str>,
    ) -> Result<Reply, Unreachable> {
        let mut req = self.client.request(method.clone(), url);
        for (k, v) in headers {
            req = req.header(*k, v);
        }
        if let Some(b) = body {
            req = req
                .header("content-type", "application/json")
                .body(b.to_string());
        }
        let (at, started) = (Utc::now(), Instant::now());
        let result = match req.send().await {
            Ok(res) => {
                let status = res.status().as_u16();
                let location = res
                    .headers()
                    .get(reqwest::header::LOCATION)
                    .and_then(|v| v.to_str().ok())
                    .map(|v| v.chars().take(500).collect());
                match read_capped(res).await {
                    Ok(body) => Ok(Reply {
                        status,
                        body,
                        location,
                    }),
                    Err(e) => Err(Unreachable(describe(&e))),
                }
            }
            Err(e) => Err(Unreachable(describe(&e))),
        };
        let mut e = Evidence {
            kind: "http".into(),
            at,
            method: method.to_string(),
            url: url.to_string(),
            duration_ms: started.elapsed().as_millis() as i64,
            request_body: self.redact(body.unwrap_or_default()),
            ..Default::default()
        };
        match &result {
            Ok(r) => {
                e.status = Some(i32::from(r.status));
                e.response_body = self.redact(&r.body);
                if let Some(to) = &r.location {
                    e.note = format!("redirect to {to} (not followed)");
                }
            }
            Err(Unreachable(why)) => e.note = why.clone(),
        }
        self.log.push(e);
        result
    }

    /// Replaces secret-looking JSON fields and form values and every known secret, and cuts
    /// long bodies.
    fn redact(&self, text: &str) -> String {
        let mut out = match serde_json::from_str::<Value>(text) {
            Ok(mut v) => {
                redact_fields(&mut v);
                v.to_string()
            }
            Err(_) => redact_form(text),
        };
        for s in &self.secrets {
            out = out.replace(s.as_str(), "[redacted]");
        }
        if out.len() > BODY_LIMIT {
            let mut cut = BODY_LIMIT;
            while !out.is_char_boundary(cut) {
                cut -= 1;
            }
            out.truncate(cut);
            out.push_str("… [cut]");
        }
        out
    }
}

/// A key whose value is a secret by its name: anything with token, secret, password,
/// credential or private key in it, `api_key`/`apikey`, `authorization`, cookies.
pub fn secret_key_name(key: &str) -> bool {
    let k = key.to_lowercase().replace('-', "_");
    [
        "token",
        "secret",
        "password",
        "passwd",
        "credential",
        "private_key",
        "api_key",
        "apikey",
        "authorization",
        "cookie",
    ]
    .iter()
    .any(|p| k.contains(p))
}

fn redact_fields(v: &mut Value) {
    match v {
        Value::Object(map) => {
            for (k, val) in map.iter_mut() {
                if secret_key_name(k) {
                    *val = Value::String("[redacted]".into());
                } else {
                    redact_fields(val);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(redact_fields),
        _ => {}
    }
}

/// `a=1&client_secret=x` → `a=1&client_secret=[redacted]`; other text is left as it is.
fn redact_form(text: &str) -> String {
    if !text.contains('=') {
        return text.to_string();
    }
    text.split('&')
        .map(|pair| match pair.split_once('=') {
            Some((k, _)) if secret_key_name(k) => format!("{k}=[redacted]"),
            _ => pair.to_string(),
        })
        .collect::<Vec<_>>()
        .join("&")
}

fn describe(e: &reqwest::Error) -> String {
    if e.is_timeout() {
        "no answer before the time limit".into()
    } else if e.is_connect() {
        "the connection was refused or could not be made".into()
    } else {
        "the request failed before an answer came".into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_redacted_from_bodies_by_field_and_by_value() {
        let mut http = Http::new(RetryPolicy::default());
        http.hide("hunter22");
        let body = r#"{"username":"runner","password":"hunter22","conf":{"note":"uses hunter22"}}"#;
        let out = http.redact(body);
        assert!(!out.contains("hunter22"), "{out}");
        assert!(out.contains("\"username\":\"runner\""));
        assert_eq!(http.redact("token=hunter22"), "token=[redacted]");
    }

    #[test]
    fn secret_fields_are_recognised_by_pattern_not_by_a_list_of_names() {
        let http = Http::new(RetryPolicy::default());
        let body = r#"{"refresh_token":"r1","client_secret":"c1","db_password":"p1","X-Api-Key":"k1","api_key":"k2","Authorization":"Bearer b1","nested":[{"session_cookie":"s1"}],"dag_id":"orders"}"#;
        let out = http.redact(body);
        for secret in ["r1", "c1", "p1", "k1", "k2", "b1", "s1"] {
            assert!(!out.contains(&format!("\"{secret}\"")), "{secret} in {out}");
        }
        assert!(out.contains("\"dag_id\":\"orders\""), "{out}");
        assert_eq!(
            http.redact("grant_type=password&client_secret=abc&scope=x"),
            "grant_type=password&client_secret=[redacted]&scope=x"
        );
    }

    #[test]
    fn backoff_grows_and_stays_under_the_cap() {
        let p = RetryPolicy {
            base: Duration::from_millis(100),
            cap: Duration::from_millis(1000),
            ..Default::default()
        };
        for attempt in 0..10 {
            let ceiling = (100u64 << attempt).min(1000);
            let wait = p.backoff(attempt).as_millis() as u64;
            assert!(
                wait <= ceiling && wait >= ceiling / 2,
                "attempt {attempt}: {wait} ms"
            );
        }
    }
}
