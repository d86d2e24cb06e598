//! Argon2id hashing and verification, off the async runtime on small pools of their own.
//!
//! Each hash takes 19 MiB for tens of milliseconds. A server checks sign-in passwords on its
//! `PasswordPool`: as many at once as the machine has cores, a bounded number waiting, and past
//! that a sign-in is refused as `Busy` (503 with `Retry-After`) instead of queueing memory
//! without limit. New passwords (an administrator creating a user, the CLI) are hashed on a
//! shared pool that waits for room instead: they are rare and must not fail under a flood.
//! The same few threads do every hash, so the allocator reuses their memory instead of growing
//! an arena per blocking thread.

use std::{
    cell::Cell,
    sync::{mpsc, Arc, LazyLock, Mutex},
};

use argon2::{
    password_hash::{rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString},
    Algorithm, Argon2, Params, Version,
};

/// Why a password could not be checked or hashed.
#[derive(Debug, thiserror::Error)]
pub enum PasswordError {
    /// Every hashing thread is busy and the queue is full: try again shortly.
    #[error("too many passwords are being checked at once")]
    Busy,
    #[error(transparent)]
    Failed(#[from] anyhow::Error),
}

/// OWASP's argon2id baseline: 19 MiB, 2 passes, 1 lane.
fn hasher() -> Argon2<'static> {
    let params = Params::new(19 * 1024, 2, 1, None).expect("static argon2 parameters are valid");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// Verified against when a username is unknown, so both cases cost one full verification.
static DUMMY_HASH: LazyLock<String> = LazyLock::new(|| {
    let salt = SaltString::generate(&mut OsRng);
    hasher()
        .hash_password(b"not a real password", &salt)
        .map(|h| h.to_string())
        .unwrap_or_default()
});

type Job = Box<dyn FnOnce() + Send>;

/// Where sign-in passwords are checked; cloning shares the pool. Its threads end when the last
/// clone is dropped.
#[derive(Clone)]
pub struct PasswordPool(Arc<Pool>);

impl PasswordPool {
    /// Threads = cores (at least 1); 16 checks per thread may wait (under a second of work).
    pub fn for_this_machine() -> Self {
        let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
        Self(Arc::new(Pool::start(threads, threads * 16)))
    }
}

impl std::fmt::Debug for PasswordPool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PasswordPool")
    }
}

struct Pool {
    jobs: mpsc::SyncSender<Job>,
}

/// New passwords: one thread per core, waited for.
static HASHING: LazyLock<Pool> = LazyLock::new(|| {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    Pool::start(threads, threads * 16)
});

impl Pool {
    fn start(threads: usize, queue: usize) -> Self {
        let (jobs, rx) = mpsc::sync_channel::<Job>(queue);
        let rx = Arc::new(Mutex::new(rx));
        for i in 0..threads {
            let rx = rx.clone();
            let spawned = std::thread::Builder::new()
                .name(format!("argon2-{i}"))
                .spawn(move || loop {
                    let job = match rx.lock() {
                        Ok(rx) => rx.recv(),
                        Err(_) => return,
                    };
                    match job {
                        Ok(job) => job(),
                        Err(_) => return, // the pool was dropped
                    }
                });
            if let Err(e) = spawned {
                tracing::error!(error = %e, "could not start a password hashing thread");
            }
        }
        Self { jobs }
    }

    /// Queues `work`, or refuses at once with `Busy` when the queue is full.
    async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, PasswordError> {
        let (job, rx) = job(work);
        self.jobs.try_send(job).map_err(|e| match e {
            mpsc::TrySendError::Full(_) => PasswordError::Busy,
            mpsc::TrySendError::Disconnected(_) => stopped(),
        })?;
        rx.await.map_err(|_| lost())
    }

    /// Queues `work`, waiting for room when the queue is full.
    async fn run_waiting<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, PasswordError> {
        let (mut job, rx) = job(work);
        loop {
            match self.jobs.try_send(job) {
                Ok(()) => break,
                Err(mpsc::TrySendError::Full(back)) => {
                    job = back;
                    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
                }
                Err(mpsc::TrySendError::Disconnected(_)) => return Err(stopped()),
            }
        }
        rx.await.map_err(|_| lost())
    }
}

fn job<T: Send + 'static>(
    work: impl FnOnce() -> T + Send + 'static,
) -> (Job, tokio::sync::oneshot::Receiver<T>) {
    let (tx, rx) = tokio::sync::oneshot::channel();
    let job: Job = Box::new(move || {
        let _ = tx.send(work());
    });
    (job, rx)
}

fn stopped() -> PasswordError {
    PasswordError::Failed(anyhow::anyhow!("the password hashing pool stopped"))
}

fn lost() -> PasswordError {
    PasswordError::Failed(anyhow::anyhow!("a password hashing job was lost"))
}

/// Hashes a new password (waits for room: never `Busy`).
pub async fn hash_password(password: String) -> Result<String, PasswordError> {
    HASHING
        .run_waiting(move || {
            let salt = SaltString::generate(&mut OsRng);
            hasher()
                .hash_password(password.as_bytes(), &salt)
                .map(|h| h.to_string())
                .map_err(|e| anyhow::anyhow!("argon2 hashing failed: {e}"))
        })
        .await?
        .map_err(PasswordError::Failed)
}

/// True when `password` matches `hash`; with no hash, verifies against a dummy and returns
/// false. `Busy` when `pool` has no room.
pub async fn verify_password(
    pool: &PasswordPool,
    password: String,
    hash: Option<String>,
) -> Result<bool, PasswordError> {
    pool.0
        .run(move || verify_blocking(&password, hash.as_deref()))
        .await?
        .map_err(PasswordError::Failed)
}

thread_local! {
    /// Full argon2 verifications done on this thread (what the timing tests count).
    static VERIFICATIONS: Cell<u64> = const { Cell::new(0) };
}

/// One full verification whether or not the user exists: an unknown name must not answer
/// faster than a wrong password (that would tell which usernames exist).
fn verify_blocking(password: &str, hash: Option<&str>) -> anyhow::Result<bool> {
    let known = hash.is_some();
    let stored = hash.unwrap_or(DUMMY_HASH.as_str());
    let parsed =
        PasswordHash::new(stored).map_err(|e| anyhow::anyhow!("stored hash is invalid: {e}"))?;
    let matched = hasher()
        .verify_password(password.as_bytes(), &parsed)
        .is_ok();
    VERIFICATIONS.with(|n| n.set(n.get() + 1));
    Ok(known && matched)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_hash_verifies_its_password_and_nothing_else() {
        let pool = PasswordPool::for_this_machine();
        let hash = hash_password("correct horse battery".into()).await.unwrap();
        assert!(hash.starts_with("$argon2id$"));
        assert!(
            verify_password(&pool, "correct horse battery".into(), Some(hash.clone()))
                .await
                .unwrap()
        );
        assert!(!verify_password(&pool, "wrong".into(), Some(hash))
            .await
            .unwrap());
    }

    #[tokio::test]
    async fn an_unknown_user_never_verifies() {
        let pool = PasswordPool::for_this_machine();
        assert!(!verify_password(&pool, "not a real password".into(), None)
            .await
            .unwrap());
    }

    #[test]
    fn an_unknown_user_costs_one_full_verification_like_a_known_one() {
        let _ = &*DUMMY_HASH; // its creation is not a verification
        let before = VERIFICATIONS.with(Cell::get);
        assert!(!verify_blocking("guess", None).unwrap());
        assert_eq!(VERIFICATIONS.with(Cell::get), before + 1);
    }

    #[tokio::test]
    async fn a_full_queue_refuses_at_once_instead_of_growing() {
        let pool = Pool::start(1, 2);
        let (release, hold) = mpsc::channel::<()>();
        let hold = Arc::new(Mutex::new(hold));
        let (started_tx, started) = mpsc::channel::<()>();
        let job = |hold: Arc<Mutex<mpsc::Receiver<()>>>, started: Option<mpsc::Sender<()>>| {
            move || {
                if let Some(s) = started {
                    let _ = s.send(());
                }
                let _ = hold.lock().map(|h| h.recv());
            }
        };
        // One job runs (held) and two wait in the queue: the fourth finds no room.
        let mut running = Box::pin(pool.run(job(hold.clone(), Some(started_tx))));
        let _ = poll_once(running.as_mut()).await;
        started
            .recv_timeout(std::time::Duration::from_secs(10))
            .unwrap();
        let mut queued: Vec<_> = (0..2)
            .map(|_| Box::pin(pool.run(job(hold.clone(), None))))
            .collect();
        for q in &mut queued {
            let _ = poll_once(q.as_mut()).await;
        }
        let refused = pool.run(|| ()).await;
        assert!(matches!(refused, Err(PasswordError::Busy)), "{refused:?}");
        for _ in 0..3 {
            release.send(()).unwrap();
        }
        running.await.unwrap();
        for q in queued {
            q.await.unwrap();
        }
    }

    /// Polls a future once, so its first step (queueing the job) happens now.
    async fn poll_once<F: std::future::Future + Unpin>(f: F) -> Option<F::Output> {
        let mut f = f;
        std::future::poll_fn(|cx| {
            std::task::Poll::Ready(match std::pin::Pin::new(&mut f).poll(cx) {
                std::task::Poll::Ready(v) => Some(v),
                std::task::Poll::Pending => None,
            })
        })
        .await
    }
}
