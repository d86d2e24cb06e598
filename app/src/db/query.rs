//! Dynamic WHERE clauses for list filters, bound the same way on both backends.

use chrono::{DateTime, NaiveDate, Utc};

/// One bound value.
#[derive(Debug, Clone)]
pub enum Arg {
    Text(String),
    Int(i64),
    At(DateTime<Utc>),
    Date(NaiveDate),
    Bool(bool),
}

/// `WHERE a = $1 AND b < $2 …`, numbering placeholders as clauses are added.
#[derive(Debug, Default)]
pub struct Where {
    clauses: Vec<String>,
    pub args: Vec<Arg>,
}

impl Where {
    /// Adds a clause; each `?` in it becomes the next `$n` and takes the next of `args`.
    pub fn push(&mut self, clause: &str, args: impl IntoIterator<Item = Arg>) {
        let mut out = String::new();
        let mut args = args.into_iter();
        for part in clause.split_inclusive('?') {
            match part.strip_suffix('?') {
                Some(head) => {
                    self.args.extend(args.next());
                    out.push_str(head);
                    out.push_str(&format!("${}", self.args.len()));
                }
                None => out.push_str(part),
            }
        }
        self.clauses.push(out);
    }

    /// The next placeholder number (for LIMIT and friends).
    pub fn next_placeholder(&self) -> usize {
        self.args.len() + 1
    }

    pub fn sql(&self) -> String {
        if self.clauses.is_empty() {
            String::new()
        } else {
            format!("WHERE {}", self.clauses.join(" AND "))
        }
    }
}

/// Binds every `Arg` of a `Where` to a query, in order.
#[macro_export]
macro_rules! bind_args {
    ($q:expr, $args:expr) => {{
        let mut q = $q;
        for arg in $args {
            q = match arg {
                $crate::db::Arg::Text(s) => q.bind(s.clone()),
                $crate::db::Arg::Int(i) => q.bind(*i),
                $crate::db::Arg::At(t) => q.bind(*t),
                $crate::db::Arg::Date(d) => q.bind(*d),
                $crate::db::Arg::Bool(b) => q.bind(*b),
            };
        }
        q
    }};
}

/// `$from, $from+1, …` for `n` values.
pub fn placeholders_from(from: usize, n: usize) -> String {
    (from..from + n)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Rows of `sql` for every id, in chunks small enough for any driver's bind limit; `{ids}` in
/// `sql` becomes the chunk's placeholders.
pub async fn select_in<T>(
    conn: &mut super::Conn<'_>,
    sql: &str,
    ids: &[i64],
) -> Result<Vec<T>, super::DbError>
where
    T: for<'r> sqlx::FromRow<'r, sqlx::sqlite::SqliteRow>
        + for<'r> sqlx::FromRow<'r, sqlx::postgres::PgRow>
        + Send
        + Unpin,
{
    let mut out = Vec::with_capacity(ids.len());
    for chunk in ids.chunks(500) {
        let sql = sql.replace("{ids}", &placeholders_from(1, chunk.len()));
        let rows: Vec<T> = crate::conn_run!(conn, |c| {
            let mut q = sqlx::query_as(&sql);
            for id in chunk {
                q = q.bind(id);
            }
            q.fetch_all(c).await
        })?;
        out.extend(rows);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_numbered_in_order() {
        let mut w = Where::default();
        w.push("a = ?", [Arg::Int(1)]);
        w.push(
            "(b > ? OR (b = ? AND c < ?))",
            [Arg::Int(2), Arg::Int(3), Arg::Int(4)],
        );
        assert_eq!(w.sql(), "WHERE a = $1 AND (b > $2 OR (b = $3 AND c < $4))");
        assert_eq!(w.next_placeholder(), 5);
    }
}
