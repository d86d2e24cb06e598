//! One database layer over SQLite (embedded, the default) and PostgreSQL (production), chosen by
//! the URL scheme. Repo functions are written once: `db_run!`/`tx_run!` expand the same SQL for
//! each backend, so both drivers type-check it.

mod error;
pub mod grants;
#[cfg(test)]
mod parity;
mod pool;
mod query;
#[cfg(test)]
pub mod testing;

pub use error::DbError;
pub use pool::{redact_url, Backend, Conn, Db, DbSettings, Tx};
pub use query::{placeholders_from, select_in, Arg, Where};

/// Runs `$body` with `$c` bound to the pool of whichever backend `$db` is.
#[macro_export]
macro_rules! db_run {
    ($db:expr, |$c:ident| $body:expr) => {
        match $db {
            $crate::db::Db::Sqlite(pool) => {
                let $c = pool;
                $body
            }
            $crate::db::Db::Postgres(pool) => {
                let $c = pool;
                $body
            }
        }
    };
}

/// Runs `$body` with `$c` bound to the open transaction's connection.
#[macro_export]
macro_rules! tx_run {
    ($tx:expr, |$c:ident| $body:expr) => {
        match $tx {
            $crate::db::Tx::Sqlite(tx) => {
                let $c = &mut **tx;
                $body
            }
            $crate::db::Tx::Postgres(tx) => {
                let $c = &mut **tx;
                $body
            }
        }
    };
}

/// Runs `$body` with `$c` bound to the executor behind a `&mut Conn` (pool or transaction), so
/// one read function serves pages (pool) and services (inside their transaction).
#[macro_export]
macro_rules! conn_run {
    ($conn:expr, |$c:ident| $body:expr) => {
        match $conn {
            $crate::db::Conn::Db(db) => match **db {
                $crate::db::Db::Sqlite(ref pool) => {
                    let $c = pool;
                    $body
                }
                $crate::db::Db::Postgres(ref pool) => {
                    let $c = pool;
                    $body
                }
            },
            $crate::db::Conn::Tx(tx) => match &mut **tx {
                $crate::db::Tx::Sqlite(tx) => {
                    let $c = &mut **tx;
                    $body
                }
                $crate::db::Tx::Postgres(tx) => {
                    let $c = &mut **tx;
                    $body
                }
            },
        }
    };
}
