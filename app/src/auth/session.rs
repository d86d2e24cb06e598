//! The typed session: only the signed-in user's id is stored in it.

use tower_sessions::Session;

const USER_ID_KEY: &str = "user_id";

pub struct AuthSession(pub Session);

impl AuthSession {
    /// Signs a user in, with a fresh session id (no fixation).
    pub async fn login(&self, user_id: i64) -> Result<(), tower_sessions::session::Error> {
        self.0.cycle_id().await?;
        self.0.insert(USER_ID_KEY, user_id).await
    }

    /// Ends the session and deletes it from the store.
    pub async fn logout(&self) -> Result<(), tower_sessions::session::Error> {
        self.0.flush().await
    }

    pub async fn user_id(&self) -> Result<Option<i64>, tower_sessions::session::Error> {
        self.0.get(USER_ID_KEY).await
    }
}
