//! Team channels against local receivers: each kind's payload as sent, the webhook's signature,
//! 429 with Retry-After, 500s, timeouts and a removed Slack webhook.

use std::time::Duration as StdDuration;

use base64::{engine::general_purpose::STANDARD, Engine};
use chrono::{DateTime, Duration, Utc};
use hmac::{Hmac, Mac};
use serde_json::{json, Value};
use sha2::Sha256;

use super::{
    as_user,
    receiver::{Receiver, Reply},
    routing::submit_as,
};
use crate::{
    audit::Actor,
    backend_test, conn_run,
    connectors::secret::SecretKey,
    db::{testing::TestDb, Conn, Db},
    notifications::{
        channels,
        deliver::{Deliverer, DeliverySettings},
        repo,
        teams::TeamInput,
    },
    plans::tests::world,
    users::tests::{add_user, group_id},
};

const BASE: &str = "http://rollgate.test";
const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

fn deliverer(db: &Db, key: &SecretKey) -> Deliverer {
    Deliverer {
        db: db.clone(),
        key: key.clone(),
        owner: "test".into(),
        settings: DeliverySettings {
            first_backoff: Duration::milliseconds(1),
            max_attempts: 5,
            base_url: BASE.into(),
            http_timeout: StdDuration::from_millis(300),
            ..Default::default()
        },
    }
}

async fn add_channel(
    db: &Db,
    key: &SecretKey,
    name: &str,
    kind: &str,
    url: &str,
    group: &str,
    secret: &str,
) {
    let admin = match conn_run!(&mut Conn::Db(db), |c| sqlx::query_scalar::<_, i64>(
        "SELECT id FROM users WHERE username = 'ada'"
    )
    .fetch_optional(c)
    .await)
    .unwrap()
    {
        Some(id) => id,
        None => add_user(db, "ada", &["admin"], &[]).await,
    };
    let ada = Actor {
        id: admin,
        username: "ada".into(),
    };
    let input = TeamInput::parse(name, kind, url, "", secret, group, "").unwrap();
    channels::create(db, &as_user(&ada), key, input)
        .await
        .unwrap();
}

/// Sends until nothing is due (waiting out short retry times), at most `secs`.
async fn deliver_all(d: &Deliverer, secs: u64) {
    let until = std::time::Instant::now() + StdDuration::from_secs(secs);
    while std::time::Instant::now() < until {
        d.drain().await.unwrap();
        let sql = "SELECT COUNT(*) FROM deliveries WHERE status = 'pending'";
        let pending: i64 = conn_run!(&mut Conn::Db(&d.db), |c| sqlx::query_scalar(sql)
            .fetch_one(c)
            .await)
        .unwrap();
        if pending == 0 {
            return;
        }
        tokio::time::sleep(StdDuration::from_millis(50)).await;
    }
}

async fn message(db: &Db, kind: &str) -> (String, String, String, i64) {
    let sql = "SELECT subject, body, link, audit_seq FROM messages WHERE kind = $1";
    conn_run!(&mut Conn::Db(db), |c| sqlx::query_as(sql)
        .bind(kind)
        .fetch_one(c)
        .await)
    .unwrap()
}

async fn attempts(
    db: &Db,
    destination_like: &str,
) -> Vec<(String, String, DateTime<Utc>, DateTime<Utc>)> {
    let sql = "SELECT a.outcome, a.detail, a.started_at, a.finished_at FROM delivery_attempts a \
               JOIN deliveries d ON d.id = a.delivery_id WHERE d.destination LIKE $1 ORDER BY a.delivery_id, a.number";
    conn_run!(&mut Conn::Db(db), |c| sqlx::query_as(sql)
        .bind(destination_like)
        .fetch_all(c)
        .await)
    .unwrap()
}

async fn each_team_channel_gets_its_own_payload_and_the_webhook_is_signed(t: &TestDb) {
    let (db, key) = (&t.db, SecretKey::generate());
    let (rx, base) = Receiver::start(vec![]).await;
    let w = world(db, 1).await;
    let (product, governance) = (
        group_id(db, "Product").await,
        group_id(db, "Data governance").await,
    );
    add_channel(
        db,
        &key,
        "data-incidents",
        "slack",
        &format!("{base}/slack/T1/B1/abc"),
        &product.to_string(),
        "",
    )
    .await;
    add_channel(
        db,
        &key,
        "governance",
        "teams",
        &format!("{base}/teams/workflow"),
        &governance.to_string(),
        "",
    )
    .await;
    add_channel(
        db,
        &key,
        "audit-hook",
        "webhook",
        &format!("{base}/hook"),
        &product.to_string(),
        SECRET,
    )
    .await;
    submit_as(db, &w.requester, w.plan_id).await;
    deliver_all(&deliverer(db, &key), 10).await;

    let (subject, body, link, seq) = message(db, "approval_requested").await;
    let url = format!("{BASE}{link}");
    let seen = rx.seen();
    assert_eq!(seen.len(), 3, "one call per channel: {seen:?}");
    let by_path = |p: &str| seen.iter().find(|r| r.path.starts_with(p)).unwrap().clone();

    let slack = by_path("/slack/");
    let esc = |s: &str| {
        s.replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;")
    };
    let expected = json!({
        "text": format!("{subject}: {url}"),
        "blocks": [
            { "type": "section", "text": { "type": "mrkdwn", "text": format!("*<{url}|{}>*\n{}", esc(&subject), esc(&body)) } },
            { "type": "context", "elements": [ { "type": "mrkdwn", "text": format!("Rollgate · audit event #{seq}") } ] }
        ]
    });
    assert_eq!(
        slack.body,
        expected.to_string(),
        "the Slack body, byte for byte"
    );
    assert_eq!(slack.headers["content-type"], "application/json");

    let teams: Value = serde_json::from_str(&by_path("/teams/").body).unwrap();
    let card = &teams["attachments"][0];
    assert_eq!(
        card["contentType"],
        "application/vnd.microsoft.card.adaptive"
    );
    assert_eq!(card["content"]["version"], "1.4");
    assert_eq!(card["content"]["body"][0]["text"], subject.as_str());
    assert_eq!(
        card["content"]["actions"][0],
        json!({ "type": "Action.OpenUrl", "title": "Open in Rollgate", "url": url })
    );

    let hook = by_path("/hook");
    let id = hook.headers["webhook-id"].to_str().unwrap();
    let ts = hook.headers["webhook-timestamp"].to_str().unwrap();
    let mut mac = Hmac::<Sha256>::new_from_slice(&STANDARD.decode(&SECRET[6..]).unwrap()).unwrap();
    mac.update(format!("{id}.{ts}.{}", hook.body).as_bytes());
    let signature = format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes()));
    assert_eq!(
        hook.headers["webhook-signature"].to_str().unwrap(),
        signature,
        "Standard Webhooks signature"
    );
    let sql = "SELECT d.idempotency_key FROM deliveries d WHERE d.channel = 'webhook'";
    let key_sent: String = conn_run!(&mut Conn::Db(db), |c| sqlx::query_scalar(sql)
        .fetch_one(c)
        .await)
    .unwrap();
    assert_eq!(id, key_sent, "webhook-id is the delivery's idempotency key");
    let payload: Value = serde_json::from_str(&hook.body).unwrap();
    assert_eq!(payload["type"], "rollgate.approval_requested");
    assert_eq!(payload["data"]["url"], url.as_str());

    let told = repo::told(&mut Conn::Db(db), "plan", &w.plan_id.to_string())
        .await
        .unwrap();
    let people = &told
        .iter()
        .find(|t| t.kind.as_str() == "approval_requested")
        .unwrap()
        .people;
    for name in ["#data-incidents", "#governance", "#audit-hook", "pia"] {
        assert!(people.iter().any(|p| p == name), "{name} in {people:?}");
    }
}
backend_test!(
    team_payloads,
    each_team_channel_gets_its_own_payload_and_the_webhook_is_signed
);

async fn a_channel_that_asks_to_wait_then_fails_once_gets_the_message_once(t: &TestDb) {
    let (db, key) = (&t.db, SecretKey::generate());
    let wait = Reply {
        retry_after: Some("1"),
        ..Reply::status(429, "rate_limited")
    };
    let (rx, base) = Receiver::start(vec![wait, Reply::status(500, "oops")]).await;
    let w = world(db, 1).await;
    let product = group_id(db, "Product").await;
    add_channel(
        db,
        &key,
        "data-incidents",
        "slack",
        &format!("{base}/slack/x"),
        &product.to_string(),
        "",
    )
    .await;
    submit_as(db, &w.requester, w.plan_id).await;
    deliver_all(&deliverer(db, &key), 10).await;
    assert_eq!(rx.seen().len(), 3);
    let a = attempts(db, "http://127.0.0.1%").await;
    let outcomes: Vec<&str> = a.iter().map(|x| x.0.as_str()).collect();
    assert_eq!(outcomes, ["retry", "retry", "sent"], "{a:?}");
    assert!(a[0].1.contains("asked to slow down (429)"), "{a:?}");
    assert!(a[1].1.contains("500"), "{a:?}");
    let waited = a[1].2 - a[0].3;
    assert!(
        waited >= Duration::milliseconds(900),
        "Retry-After: 1 was honoured (waited {waited})"
    );
}
backend_test!(
    retry_after,
    a_channel_that_asks_to_wait_then_fails_once_gets_the_message_once
);

async fn a_removed_slack_webhook_fails_with_a_message_and_a_slow_receiver_is_tried_again(
    t: &TestDb,
) {
    let (db, key) = (&t.db, SecretKey::generate());
    let (_gone, gone_base) = Receiver::start(vec![Reply::status(404, "no_team")]).await;
    let slow = Reply {
        delay: StdDuration::from_secs(2),
        ..Reply::status(200, "ok")
    };
    let (slow_rx, slow_base) = Receiver::start(vec![slow]).await;
    let w = world(db, 1).await;
    let product = group_id(db, "Product").await;
    add_channel(
        db,
        &key,
        "old",
        "slack",
        &format!("{gone_base}/slack/x"),
        &product.to_string(),
        "",
    )
    .await;
    add_channel(
        db,
        &key,
        "slow",
        "teams",
        &format!("{slow_base}/teams/x"),
        &product.to_string(),
        "",
    )
    .await;
    submit_as(db, &w.requester, w.plan_id).await;
    deliver_all(&deliverer(db, &key), 10).await;
    let sql = "SELECT d.destination, d.status, d.last_error FROM deliveries d ORDER BY d.id";
    let rows: Vec<(String, String, Option<String>)> =
        conn_run!(&mut Conn::Db(db), |c| sqlx::query_as(sql)
            .fetch_all(c)
            .await)
        .unwrap();
    let old = rows.iter().find(|r| r.0 == gone_base).unwrap();
    assert_eq!(old.1, "failed");
    assert!(
        old.2
            .as_deref()
            .unwrap()
            .contains("Slack does not know this webhook (no_team)"),
        "{old:?}"
    );
    let slow_row = rows.iter().find(|r| r.0 == slow_base).unwrap();
    assert_eq!(slow_row.1, "sent");
    let a = attempts(db, &slow_base).await;
    assert_eq!(a[0].0, "retry");
    assert!(a[0].1.contains("did not answer within 0.3 s"), "{a:?}");
    assert_eq!(slow_rx.seen().len(), 2, "tried again after the timeout");
    let sql = "SELECT status FROM plans WHERE id = $1";
    let status: String = conn_run!(&mut Conn::Db(db), |c| sqlx::query_scalar(sql)
        .bind(w.plan_id)
        .fetch_one(c)
        .await)
    .unwrap();
    assert_eq!(
        status, "in_review",
        "failed deliveries never undo what caused them"
    );
}
backend_test!(
    gone_and_slow,
    a_removed_slack_webhook_fails_with_a_message_and_a_slow_receiver_is_tried_again
);
