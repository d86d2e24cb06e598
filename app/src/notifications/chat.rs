//! Sends a message to a team channel: a Slack incoming webhook (Block Kit with a `text`
//! fallback), a Microsoft Teams workflow webhook (an Adaptive Card 1.4), or a signed webhook
//! (Standard Webhooks: `webhook-id` is the delivery's idempotency key). Redirects are never
//! followed; a 429's `Retry-After` is honoured.

use std::time::Duration;

use chrono::{DateTime, Utc};
use serde_json::{json, Value};

use super::{
    channels::Address, deliver::DeliverySettings, email::SendError, model::Channel, repo::Outgoing,
};
use crate::{
    connectors::probe::sign,
    execution::http::{outbound_client, read_capped},
};

/// How a channel answered when it asked to wait.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    Sent,
    /// Try again, at this time if the receiver said when.
    Later(Option<DateTime<Utc>>, String),
    Refused(String),
}

impl From<SendError> for Answer {
    fn from(e: SendError) -> Self {
        if e.transient {
            Self::Later(None, e.message)
        } else {
            Self::Refused(e.message)
        }
    }
}

pub fn slack_payload(out: &Outgoing, url: &str) -> Value {
    let esc = |s: &str| {
        s.replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;")
    };
    json!({
        "text": format!("{}: {}", out.subject, url),
        "blocks": [
            { "type": "section", "text": { "type": "mrkdwn", "text": format!("*<{}|{}>*\n{}", url, esc(&out.subject), esc(&out.body)) } },
            { "type": "context", "elements": [ { "type": "mrkdwn", "text": format!("Rollgate · audit event #{}", out.audit_seq) } ] }
        ]
    })
}

pub fn teams_payload(out: &Outgoing, url: &str) -> Value {
    json!({
        "type": "message",
        "attachments": [{
            "contentType": "application/vnd.microsoft.card.adaptive",
            "contentUrl": null,
            "content": {
                "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
                "type": "AdaptiveCard",
                "version": "1.4",
                "body": [
                    { "type": "TextBlock", "text": out.subject, "weight": "Bolder", "size": "Medium", "wrap": true },
                    { "type": "TextBlock", "text": out.body, "wrap": true },
                    { "type": "TextBlock", "text": format!("Rollgate · audit event #{}", out.audit_seq), "isSubtle": true, "size": "Small", "wrap": true }
                ],
                "actions": [ { "type": "Action.OpenUrl", "title": "Open in Rollgate", "url": url } ]
            }
        }]
    })
}

pub fn webhook_payload(out: &Outgoing, url: &str) -> Value {
    json!({
        "type": format!("rollgate.{}", out.kind),
        "timestamp": out.created_at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        "data": { "subject": out.subject, "body": out.body, "url": url, "audit_seq": out.audit_seq }
    })
}

pub async fn send(
    kind: Channel,
    address: &Address,
    out: &Outgoing,
    settings: &DeliverySettings,
) -> Answer {
    let link = format!("{}{}", settings.base_url.trim_end_matches('/'), out.link);
    let body = match kind {
        Channel::Slack => slack_payload(out, &link),
        Channel::Teams => teams_payload(out, &link),
        Channel::Webhook => webhook_payload(out, &link),
        Channel::Email => return Answer::Refused("an e-mail is not sent to a team channel".into()),
    }
    .to_string();
    let client = outbound_client(settings.http_timeout, Duration::from_secs(5));
    let mut req = client
        .post(&address.url)
        .header("content-type", "application/json")
        .body(body.clone());
    if kind == Channel::Webhook {
        let Some(secret) = &address.secret else {
            return Answer::Refused(
                "the signed webhook has no signing secret: add the channel again with one".into(),
            );
        };
        let ts = Utc::now().timestamp();
        req = req
            .header("webhook-id", &out.idempotency_key)
            .header("webhook-timestamp", ts.to_string())
            .header(
                "webhook-signature",
                sign(secret, &out.idempotency_key, ts, &body),
            );
    }
    let at = &out.destination;
    let res = match req.send().await {
        Ok(r) => r,
        Err(e) if e.is_timeout() => {
            return Answer::Later(
                None,
                format!(
                    "{at} did not answer within {} s",
                    settings.http_timeout.as_secs_f32()
                ),
            )
        }
        Err(_) => return Answer::Later(None, format!("could not reach {at}")),
    };
    let status = res.status();
    let retry_after = res
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(retry_after);
    let text = read_capped(res).await.unwrap_or_default();
    let reply: String = text.trim().chars().take(200).collect();
    if status.is_success() {
        return Answer::Sent;
    }
    let said = if reply.is_empty() {
        String::new()
    } else {
        format!(": {reply}")
    };
    match status.as_u16() {
        429 => Answer::Later(retry_after, format!("{at} asked to slow down (429){said}")),
        300..=399 => Answer::Refused(format!("{at} answered a redirect ({status}), which Rollgate never follows: set the channel's final address")),
        408 | 500..=599 => Answer::Later(retry_after, format!("{at} answered {status}{said}")),
        404 if kind == Channel::Slack => Answer::Refused(format!("Slack does not know this webhook ({reply}): it was removed or its workspace uninstalled the app; add a new one")),
        _ => Answer::Refused(format!("{at} refused the message with {status}{said}")),
    }
}

/// `Retry-After`: seconds, or an HTTP date.
fn retry_after(v: &str) -> Option<DateTime<Utc>> {
    if let Ok(s) = v.trim().parse::<i64>() {
        return Some(Utc::now() + chrono::Duration::seconds(s.clamp(0, 6 * 3600)));
    }
    DateTime::parse_from_rfc2822(v.trim())
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_reads_seconds_and_dates() {
        let soon = retry_after("30").unwrap();
        assert!((soon - Utc::now()).num_seconds() >= 29);
        let date = retry_after("Wed, 21 Oct 2026 07:28:00 GMT").unwrap();
        assert_eq!(date.to_rfc3339(), "2026-10-21T07:28:00+00:00");
        assert_eq!(retry_after("soon"), None);
    }
}
