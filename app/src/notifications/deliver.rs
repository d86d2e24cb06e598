//! The delivery worker: takes due deliveries from the outbox under a lease, sends each outside
//! any transaction, and records the attempt only while it still holds the lease. A crash before
//! the record leaves the lease to expire and another worker sends again with the same
//! idempotency key (the Message-ID), so nothing is lost.

use chrono::{Duration, Utc};

use super::{
    channels,
    chat::{self, Answer},
    email,
    model::Channel,
    repo::{self, Outcome, Outgoing},
    settings,
};
use crate::{
    connectors::secret::SecretKey,
    db::{Conn, Db, DbError},
};

#[derive(Debug, Clone)]
pub struct DeliverySettings {
    /// How long a claim lasts; an SMTP exchange is bounded well below it.
    pub lease: Duration,
    /// Attempts before a delivery is given up as failed (an administrator may retry it).
    pub max_attempts: i64,
    /// The wait after the first failed attempt, doubling after each.
    pub first_backoff: Duration,
    /// The address links in messages start with (`http://127.0.0.1:3000`).
    pub base_url: String,
    /// How long a chat or webhook receiver may take to answer.
    pub http_timeout: std::time::Duration,
}

impl Default for DeliverySettings {
    fn default() -> Self {
        Self {
            lease: Duration::seconds(60),
            max_attempts: 8,
            first_backoff: Duration::seconds(30),
            base_url: "http://127.0.0.1:3000".into(),
            http_timeout: std::time::Duration::from_secs(10),
        }
    }
}

impl DeliverySettings {
    /// When to try again after `attempts` failed ones, or None when it is time to give up.
    pub fn backoff(&self, attempts: i64) -> Option<Duration> {
        (attempts < self.max_attempts).then(|| {
            let doublings = u32::try_from(attempts.saturating_sub(1).clamp(0, 16)).unwrap_or(16);
            (self.first_backoff * 2i32.pow(doublings)).min(Duration::hours(6))
        })
    }
}

#[derive(Clone)]
pub struct Deliverer {
    pub db: Db,
    pub key: SecretKey,
    /// This worker's name in leases.
    pub owner: String,
    pub settings: DeliverySettings,
}

impl Deliverer {
    /// Sends the next due delivery; false when none was due.
    pub async fn tick(&self) -> Result<bool, DbError> {
        let lease = format!("{}/{}", self.owner, uuid::Uuid::new_v4().simple());
        let started = Utc::now();
        let mut tx = self.db.begin().await?;
        let claimed = repo::claim(
            &mut tx,
            self.db.backend(),
            &lease,
            started,
            self.settings.lease,
        )
        .await?;
        tx.commit().await?;
        let Some(out) = claimed else { return Ok(false) };
        let outcome = self.attempt(&out).await;
        let mut tx = self.db.begin().await?;
        let now = Utc::now();
        if repo::finish(
            &mut tx,
            out.id,
            &lease,
            out.attempts,
            started,
            &outcome,
            now,
        )
        .await?
        {
            tx.commit().await?;
        } else {
            tracing::warn!(
                delivery = out.id,
                "the delivery's lease was lost before its attempt was recorded"
            );
            tx.rollback().await?;
        }
        Ok(true)
    }

    /// Sends every due delivery, one after another; returns how many were attempted.
    pub async fn drain(&self) -> Result<usize, DbError> {
        let mut n = 0;
        while self.tick().await? {
            n += 1;
        }
        Ok(n)
    }

    async fn attempt(&self, out: &Outgoing) -> Outcome {
        let answer = match (Channel::parse(&out.channel), out.team_channel_id) {
            (Some(Channel::Email), _) => match self.email(out).await {
                Ok(()) => Answer::Sent,
                Err(e) => e.into(),
            },
            (Some(kind), Some(team)) => self.team(kind, team, out).await,
            _ => Answer::Refused(format!(
                "the channel {} is not known to this server",
                out.channel
            )),
        };
        match answer {
            Answer::Sent => Outcome::Sent,
            Answer::Later(at, message) => match self.settings.backoff(out.attempts) {
                // A receiver's own "retry after" wins over the backoff, within its bounds.
                Some(wait) => Outcome::Retry(at.unwrap_or_else(|| Utc::now() + wait), message),
                None => Outcome::Failed(format!(
                    "{message} (gave up after {} attempts)",
                    out.attempts
                )),
            },
            Answer::Refused(message) => Outcome::Failed(message),
        }
    }

    async fn team(&self, kind: Channel, team: i64, out: &Outgoing) -> Answer {
        match channels::address(&mut Conn::Db(&self.db), &self.key, team).await {
            Ok(Ok(address)) => chat::send(kind, &address, out, &self.settings).await,
            Ok(Err(message)) => Answer::Refused(message),
            Err(e) => {
                tracing::error!(error = ?e, "cannot read a team channel");
                Answer::Later(None, "the team channel could not be read".into())
            }
        }
    }

    async fn email(&self, out: &Outgoing) -> Result<(), email::SendError> {
        let server = settings::get(&mut Conn::Db(&self.db)).await.map_err(|e| {
            tracing::error!(error = ?e, "cannot read the e-mail settings");
            email::SendError {
                message: "the e-mail settings could not be read".into(),
                transient: true,
            }
        })?;
        let Some(server) = server else {
            return Err(email::SendError {
                message: "e-mail is not set up: an administrator enters the e-mail server under Notifications".into(),
                transient: false,
            });
        };
        let password = server.password(&self.key).map_err(|m| email::SendError {
            message: format!("the e-mail password: {m}"),
            transient: false,
        })?;
        email::send(&server, password, out, &self.settings.base_url).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_wait_doubles_until_the_last_attempt() {
        let s = DeliverySettings {
            max_attempts: 4,
            first_backoff: Duration::seconds(10),
            ..Default::default()
        };
        assert_eq!(s.backoff(1), Some(Duration::seconds(10)));
        assert_eq!(s.backoff(2), Some(Duration::seconds(20)));
        assert_eq!(s.backoff(3), Some(Duration::seconds(40)));
        assert_eq!(s.backoff(4), None);
    }
}
