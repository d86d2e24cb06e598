//! Notifications against a real database (SQLite, and PostgreSQL twins) and a real SMTP server
//! (aiosmtpd, started by the tests): who is told of each event, once; what the e-mails say; and
//! how failures are retried, recorded and shown.

mod delivery;
mod receiver;
mod routing;
mod sink;
mod teams;

use crate::{
    audit::{repo::Ctx, Actor},
    conn_run,
    db::{Conn, Db},
};

fn as_user(a: &Actor) -> Ctx {
    Ctx::user(a.clone(), None)
}

/// (username, kind) of every notification, in the order written.
async fn told(db: &Db) -> Vec<(String, String)> {
    let sql =
        "SELECT u.username, m.kind FROM notifications n JOIN messages m ON m.id = n.message_id \
               JOIN users u ON u.id = n.user_id ORDER BY n.id";
    conn_run!(&mut Conn::Db(db), |c| sqlx::query_as(sql)
        .fetch_all(c)
        .await)
    .unwrap()
}

/// The people told of `kind`, sorted.
async fn told_of(db: &Db, kind: &str) -> Vec<String> {
    let mut people: Vec<String> = told(db)
        .await
        .into_iter()
        .filter(|(_, k)| k == kind)
        .map(|(u, _)| u)
        .collect();
    people.sort();
    people
}
