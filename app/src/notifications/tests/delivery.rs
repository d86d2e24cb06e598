//! Deliveries through a real SMTP server: what a message carries, once; retries after refusals;
//! a refused login and a missing address named in the delivery list; leases that outlive a crash.

use chrono::{Duration, Utc};

use super::{
    as_user,
    routing::submit_as,
    sink::{Options, Sink},
};
use crate::{
    audit::Actor,
    backend_test, conn_run,
    connectors::secret::SecretKey,
    db::{testing::TestDb, Conn, Db},
    notifications::{
        deliver::{Deliverer, DeliverySettings},
        mail::MailInput,
        repo::{self, Outcome},
        service::set_email,
        settings,
    },
    plans::tests::world,
    users::tests::add_user,
};

const BASE: &str = "http://rollgate.test";

fn deliverer(db: &Db, key: &SecretKey) -> Deliverer {
    Deliverer {
        db: db.clone(),
        key: key.clone(),
        owner: "test".into(),
        settings: DeliverySettings {
            first_backoff: Duration::milliseconds(1),
            max_attempts: 5,
            base_url: BASE.into(),
            ..Default::default()
        },
    }
}

/// E-mail through the sink, sent as `login` when given (password stored encrypted); returns the
/// administrator who set it up.
async fn mail_through(db: &Db, key: &SecretKey, sink: &Sink, login: Option<(&str, &str)>) -> Actor {
    let admin = add_user(db, "ada", &["admin"], &[]).await;
    let ada = Actor {
        id: admin,
        username: "ada".into(),
    };
    set_up(db, key, sink, &ada, login).await;
    ada
}

async fn set_up(db: &Db, key: &SecretKey, sink: &Sink, ada: &Actor, login: Option<(&str, &str)>) {
    let (user, password) = login.unwrap_or(("", ""));
    let input = MailInput::parse(
        "localhost",
        &sink.port.to_string(),
        "none",
        user,
        "",
        password,
        "rollgate@example.com",
    )
    .unwrap();
    settings::save(db, &as_user(ada), key, input).await.unwrap();
}

async fn with_addresses(db: &Db, who: &[&Actor]) {
    for a in who {
        set_email(
            db,
            &as_user(a),
            a.id,
            Some(format!("{}@example.com", a.username)),
        )
        .await
        .unwrap();
    }
}

async fn statuses(db: &Db) -> Vec<(String, String, Option<String>)> {
    let sql =
        "SELECT d.destination, d.status, d.last_error FROM deliveries d ORDER BY d.destination";
    conn_run!(&mut Conn::Db(db), |c| sqlx::query_as(sql)
        .fetch_all(c)
        .await)
    .unwrap()
}

async fn an_approval_request_is_emailed_once_with_text_html_a_link_and_its_key(t: &TestDb) {
    let Some(sink) = Sink::start(Options::default()) else {
        return;
    };
    let (db, key) = (&t.db, SecretKey::generate());
    let w = world(db, 1).await;
    mail_through(db, &key, &sink, None).await;
    with_addresses(db, &[&w.product, &w.governance]).await; // eng0 has no address
    submit_as(db, &w.requester, w.plan_id).await;

    let d = deliverer(db, &key);
    assert_eq!(d.drain().await.unwrap(), 3);
    assert_eq!(d.drain().await.unwrap(), 0, "nothing is sent twice");
    let mut got = sink.received();
    got.sort_by(|a, b| a.to.cmp(&b.to));
    assert_eq!(got.len(), 2);
    assert_eq!(got[0].to, ["gus@example.com"]);
    assert_eq!(got[1].to, ["pia@example.com"]);
    let m = &got[1].data;
    assert!(
        m.contains("Subject: Approval needed: rollback plan for"),
        "{m}"
    );
    assert!(m.contains("From: rollgate@example.com"), "{m}");
    assert!(m.contains("Content-Type: text/plain"), "{m}");
    assert!(m.contains("Content-Type: text/html"), "{m}");
    assert!(
        m.contains(&format!("{BASE}/plans/{}", w.plan_id)),
        "the link to the plan: {m}"
    );
    let sql = "SELECT d.idempotency_key FROM deliveries d WHERE d.destination = 'pia@example.com'";
    let key_sent: String = conn_run!(&mut Conn::Db(db), |c| sqlx::query_scalar(sql)
        .fetch_one(c)
        .await)
    .unwrap();
    assert!(
        m.contains(&format!("Message-ID: <{key_sent}@example.com>")),
        "{m}"
    );

    let s = statuses(db).await;
    assert_eq!(s[0].0, "", "eng0 had no address");
    assert_eq!(s[0].1, "failed");
    assert!(
        s[0].2
            .as_deref()
            .unwrap()
            .contains("eng0 has no e-mail address"),
        "{:?}",
        s[0]
    );
    assert_eq!((s[1].1.as_str(), s[2].1.as_str()), ("sent", "sent"));
}
backend_test!(
    emailed_once,
    an_approval_request_is_emailed_once_with_text_html_a_link_and_its_key
);

async fn a_message_refused_three_times_is_delivered_once_on_the_fourth_attempt(t: &TestDb) {
    let Some(sink) = Sink::start(Options {
        fail_first: 3,
        ..Default::default()
    }) else {
        return;
    };
    let (db, key) = (&t.db, SecretKey::generate());
    let w = world(db, 1).await;
    mail_through(db, &key, &sink, None).await;
    with_addresses(db, &[&w.product]).await;
    // Only pia has an address; the others' deliveries fail at once and are left aside.
    submit_as(db, &w.requester, w.plan_id).await;
    let d = deliverer(db, &key);
    for _ in 0..200 {
        d.drain().await.unwrap();
        if sink.received().len() == 1 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    assert_eq!(sink.received().len(), 1, "delivered exactly once");
    let sql = "SELECT a.outcome, a.detail FROM delivery_attempts a JOIN deliveries d ON d.id = a.delivery_id \
               WHERE d.destination = 'pia@example.com' ORDER BY a.number";
    let attempts: Vec<(String, String)> = conn_run!(&mut Conn::Db(db), |c| sqlx::query_as(sql)
        .fetch_all(c)
        .await)
    .unwrap();
    let outcomes: Vec<&str> = attempts.iter().map(|(o, _)| o.as_str()).collect();
    assert_eq!(outcomes, ["retry", "retry", "retry", "sent"]);
    assert!(
        attempts[0].1.contains("asked to try later") && attempts[0].1.contains("451"),
        "each attempt says what happened: {attempts:?}"
    );
    let s = statuses(db).await;
    let pia = s.iter().find(|r| r.0 == "pia@example.com").unwrap();
    assert_eq!(
        (pia.1.as_str(), pia.2.as_deref()),
        ("sent", None),
        "sent: no error left on the list"
    );
}
backend_test!(
    retried,
    a_message_refused_three_times_is_delivered_once_on_the_fourth_attempt
);

async fn a_refused_login_fails_the_delivery_with_a_message_and_the_approval_request_stands(
    t: &TestDb,
) {
    let Some(sink) = Sink::start(Options {
        login: Some(("rollgate", "right")),
        ..Default::default()
    }) else {
        return;
    };
    let (db, key) = (&t.db, SecretKey::generate());
    let w = world(db, 1).await;
    let ada = mail_through(db, &key, &sink, Some(("rollgate", "wrong"))).await;
    with_addresses(db, &[&w.product]).await;
    submit_as(db, &w.requester, w.plan_id).await;
    deliverer(db, &key).drain().await.unwrap();
    assert!(sink.received().is_empty());
    let s = statuses(db).await;
    let pia = s.iter().find(|r| r.0 == "pia@example.com").unwrap();
    assert_eq!(pia.1, "failed", "a refused login is not retried by itself");
    assert!(
        pia.2.as_deref().unwrap().contains("refused the login"),
        "{pia:?}"
    );
    let sql = "SELECT status FROM plans WHERE id = $1";
    let status: String = conn_run!(&mut Conn::Db(db), |c| sqlx::query_scalar(sql)
        .bind(w.plan_id)
        .fetch_one(c)
        .await)
    .unwrap();
    assert_eq!(
        status, "in_review",
        "the state change that caused the notification stands"
    );

    // With the right password and a retry, it goes.
    set_up(db, &key, &sink, &ada, Some(("rollgate", "right"))).await;
    let sql = "SELECT id FROM deliveries WHERE destination = 'pia@example.com'";
    let id: i64 = conn_run!(&mut Conn::Db(db), |c| sqlx::query_scalar(sql)
        .fetch_one(c)
        .await)
    .unwrap();
    let mut tx = db.begin().await.unwrap();
    assert!(repo::retry(&mut tx, id, Utc::now()).await.unwrap());
    tx.commit().await.unwrap();
    deliverer(db, &key).drain().await.unwrap();
    assert_eq!(sink.received().len(), 1);
}
backend_test!(
    refused_login,
    a_refused_login_fails_the_delivery_with_a_message_and_the_approval_request_stands
);

async fn a_worker_that_lost_its_lease_cannot_record_and_the_next_one_sends(t: &TestDb) {
    let db = &t.db;
    let w = world(db, 1).await;
    let mut tx = db.begin().await.unwrap();
    conn_run!(&mut Conn::Tx(&mut tx), |c| sqlx::query(
        "INSERT INTO mail_settings (id, host, port, security, from_address, updated_by, updated_at) \
         VALUES (1, 'localhost', 25, 'none', 'r@example.com', $1, $2)"
    )
    .bind(w.requester.id)
    .bind(Utc::now())
    .execute(c)
    .await
    .map(|_| ()))
    .unwrap();
    tx.commit().await.unwrap();
    submit_as(db, &w.requester, w.plan_id).await;
    // A worker claims a delivery with a short lease and "crashes" mid-send.
    let start = Utc::now();
    let mut tx = db.begin().await.unwrap();
    let first = repo::claim(
        &mut tx,
        db.backend(),
        "dead/1",
        start,
        Duration::milliseconds(50),
    )
    .await
    .unwrap()
    .unwrap();
    tx.commit().await.unwrap();
    // Until the lease ends nobody else takes it; then another worker does.
    let mut tx = db.begin().await.unwrap();
    let other = repo::claim(
        &mut tx,
        db.backend(),
        "live/1",
        start,
        Duration::seconds(60),
    )
    .await
    .unwrap();
    assert_ne!(
        other.as_ref().map(|o| o.id),
        Some(first.id),
        "a held lease is respected"
    );
    tx.rollback().await.unwrap();
    let later = start + Duration::milliseconds(100);
    let mut tx = db.begin().await.unwrap();
    let mut taken = None;
    while let Some(o) = repo::claim(
        &mut tx,
        db.backend(),
        "live/1",
        later,
        Duration::seconds(60),
    )
    .await
    .unwrap()
    {
        if o.id == first.id {
            taken = Some(o);
            break;
        }
    }
    let taken = taken.expect("the expired lease is taken over");
    tx.commit().await.unwrap();
    assert_eq!(
        taken.idempotency_key, first.idempotency_key,
        "the same key goes out again"
    );
    assert_eq!(taken.attempts, 2);
    let mut tx = db.begin().await.unwrap();
    let late = repo::finish(
        &mut tx,
        first.id,
        "dead/1",
        1,
        start,
        &Outcome::Sent,
        Utc::now(),
    )
    .await
    .unwrap();
    assert!(!late, "the crashed worker's record is refused");
    assert!(repo::finish(
        &mut tx,
        first.id,
        "live/1",
        2,
        later,
        &Outcome::Sent,
        Utc::now()
    )
    .await
    .unwrap());
    tx.commit().await.unwrap();
    let sql = "SELECT COUNT(*) FROM delivery_attempts WHERE delivery_id = $1";
    let n: i64 = conn_run!(&mut Conn::Db(db), |c| sqlx::query_scalar(sql)
        .bind(first.id)
        .fetch_one(c)
        .await)
    .unwrap();
    assert_eq!(
        n, 1,
        "one attempt recorded, by the worker that holds the lease"
    );
}
backend_test!(
    leases,
    a_worker_that_lost_its_lease_cannot_record_and_the_next_one_sends
);
