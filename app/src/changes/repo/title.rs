//! Title search on the change list: the trigram index when few titles match, `LIKE` otherwise.

use crate::{
    conn_run,
    db::{Arg, Backend, Conn, DbError, Where},
};

/// How a title search runs: through SQLite's trigram index when few titles match, or as a
/// `LIKE` filter on the newest-first walk (PostgreSQL's trigram index serves `LIKE` itself; its
/// planner knows which is cheaper).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum TitleLookup {
    Index,
    Scan,
}

/// Above this many matches the newest-first walk meets a page of them sooner than the index
/// hands them over (and sorts them).
const INDEXED_MATCHES: i64 = 2000;

pub(super) async fn title_lookup(conn: &mut Conn<'_>, q: &str) -> Result<TitleLookup, DbError> {
    if conn.backend() != Backend::Sqlite || q.chars().count() < 3 {
        return Ok(TitleLookup::Scan);
    }
    let sql = format!(
        "SELECT COUNT(*) FROM (SELECT rowid FROM changes_title_fts WHERE changes_title_fts MATCH $1 LIMIT {})",
        INDEXED_MATCHES + 1
    );
    let n: i64 = conn_run!(conn, |x| sqlx::query_scalar(&sql)
        .bind(fts_phrase(q))
        .fetch_one(x)
        .await)?;
    Ok(match n > INDEXED_MATCHES {
        true => TitleLookup::Scan,
        false => TitleLookup::Index,
    })
}

/// An FTS5 phrase: with the trigram tokenizer, a substring match.
fn fts_phrase(q: &str) -> String {
    format!("\"{}\"", q.to_lowercase().replace('"', "\"\""))
}

pub(super) fn title_search(w: &mut Where, q: &str, lookup: TitleLookup) {
    match lookup {
        TitleLookup::Index => w.push(
            "c.id IN (SELECT rowid FROM changes_title_fts WHERE changes_title_fts MATCH ?)",
            [Arg::Text(fts_phrase(q))],
        ),
        TitleLookup::Scan => w.push(
            "c.title_lower LIKE ? ESCAPE '\\'",
            [Arg::Text(crate::catalog::repo::like(q))],
        ),
    }
}
