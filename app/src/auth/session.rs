//! The typed session: only the signed-in user's id is stored in it.

use tower_sessions::Session;

const USER_ID_KEY: &str = "user_id";
const LOGIN_AT_KEY: &str = "login_at_ms";
const SEEN_AT_KEY: &str = "seen_at";
const FRESH_TOKEN_KEY: &str = "fresh_api_token";

pub struct AuthSession(pub Session);

impl AuthSession {
    /// Signs a user in, with a fresh session id (no fixation) and nothing carried over from
    /// before (a flashed token secret included).
    pub async fn login(&self, user_id: i64) -> Result<(), tower_sessions::session::Error> {
        self.0.clear().await;
        self.0.cycle_id().await?;
        self.0.insert(USER_ID_KEY, user_id).await?;
        let now = chrono::Utc::now().timestamp_millis();
        self.0.insert(LOGIN_AT_KEY, now).await?;
        self.0.insert(SEEN_AT_KEY, now / 1000).await
    }

    /// When this session signed in (milliseconds since 1970; 0 if unknown).
    pub async fn login_at_ms(&self) -> Result<i64, tower_sessions::session::Error> {
        Ok(self.0.get(LOGIN_AT_KEY).await?.unwrap_or(0))
    }

    /// Keeps an idle session alive: rewriting it moves its expiry (and the cookie's) forward.
    /// Done at most every `every_seconds`, so reads do not write on every request.
    pub async fn touch(&self, every_seconds: i64) -> Result<(), tower_sessions::session::Error> {
        let now = chrono::Utc::now().timestamp();
        let seen: Option<i64> = self.0.get(SEEN_AT_KEY).await?;
        if seen.is_none_or(|s| now - s >= every_seconds) {
            self.0.insert(SEEN_AT_KEY, now).await?;
        }
        Ok(())
    }

    /// Ends the session and deletes it from the store.
    pub async fn logout(&self) -> Result<(), tower_sessions::session::Error> {
        self.0.flush().await
    }

    /// Keeps a just-created API token's secret for the page that announces it.
    pub async fn flash_token(
        &self,
        id: i64,
        secret: &str,
    ) -> Result<(), tower_sessions::session::Error> {
        let at = chrono::Utc::now().timestamp();
        self.0
            .insert(FRESH_TOKEN_KEY, (id, secret.to_string(), at))
            .await
    }

    /// The flashed secret of token `id`, if it was created in the last ten minutes. Reading it
    /// deletes it: the secret is shown once, and a reload shows it no more.
    pub async fn fresh_token(
        &self,
        id: i64,
    ) -> Result<Option<String>, tower_sessions::session::Error> {
        let flash: Option<(i64, String, i64)> = self.0.remove(FRESH_TOKEN_KEY).await?;
        let now = chrono::Utc::now().timestamp();
        Ok(flash
            .filter(|(fid, _, at)| *fid == id && now - at < 600)
            .map(|(_, s, _)| s))
    }

    pub async fn user_id(&self) -> Result<Option<i64>, tower_sessions::session::Error> {
        self.0.get(USER_ID_KEY).await
    }
}
