//! Signed webhooks (Standard Webhooks): POST the step as JSON with `webhook-id` (the step's
//! idempotency key, so receivers can drop repeats), `webhook-timestamp` and `webhook-signature`
//! = `v1,` base64 HMAC-SHA256 over `id.timestamp.body`. A 2xx answer means done; a JSON answer's
//! `verification` object holds values for the row's checks.

use reqwest::Method;
use serde_json::{json, Value};

use super::{
    connector::{Call, Connector, Failure, Polled, Started},
    http::Http,
};
use crate::connectors::probe::sign;

pub struct Webhook {
    pub url: String,
    pub secret: String,
}

#[async_trait::async_trait]
impl Connector for Webhook {
    async fn start(&self, http: &mut Http, call: &Call) -> Result<Started, Failure> {
        http.hide(&self.secret);
        let body = json!({ "type": "rollgate.step", "data": call.payload });
        let text = body.to_string();
        let timestamp = chrono::Utc::now().timestamp();
        let headers = [
            ("webhook-id", call.key.clone()),
            ("webhook-timestamp", timestamp.to_string()),
            (
                "webhook-signature",
                sign(&self.secret, &call.key, timestamp, &text),
            ),
        ];
        let reply = http
            .send(Method::POST, &self.url, &headers, Some(&body))
            .await
            .map_err(|e| {
                Failure(format!(
                    "The webhook at {} did not answer: {}.",
                    self.url, e.0
                ))
            })?;
        if !reply.ok() {
            return Err(Failure(format!(
                "The webhook answered {}: {}",
                reply.status,
                reply.detail()
            )));
        }
        let values = reply
            .json()
            .get("verification")
            .and_then(Value::as_object)
            .cloned();
        Ok(Started::Done(values))
    }

    async fn poll(&self, _: &mut Http, _: &Call) -> Result<Polled, Failure> {
        Ok(Polled::Done(None))
    }
}
