//! The two migration sets must describe one schema: the same tables, the same columns, and the
//! same constraint and unique-index names (services map those names to messages).

use std::collections::{BTreeMap, BTreeSet};

use super::{testing, Db};

/// SQLite's full-text index on change titles (PostgreSQL uses a trigram index instead).
fn sqlite_only(table: &str) -> bool {
    table.starts_with("changes_title_fts")
}

type Schema = BTreeMap<String, BTreeSet<String>>;

async fn sqlite_schema(db: &Db) -> (Schema, BTreeSet<String>) {
    let Db::Sqlite(pool) = db else { unreachable!() };
    let tables: Vec<(String, String)> = sqlx::query_as(
        "SELECT name, sql FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '_sqlx%'",
    )
    .fetch_all(pool)
    .await
    .unwrap();
    let mut schema = Schema::new();
    let mut names = BTreeSet::new();
    for (table, sql) in tables.into_iter().filter(|(t, _)| !sqlite_only(t)) {
        let columns: Vec<String> =
            sqlx::query_scalar(&format!("SELECT name FROM pragma_table_info('{table}')"))
                .fetch_all(pool)
                .await
                .unwrap();
        schema.insert(table, columns.into_iter().collect());
        names.extend(constraint_names(&sql));
    }
    let unique: Vec<String> = sqlx::query_scalar(
        "SELECT name FROM sqlite_master WHERE type = 'index' AND sql LIKE 'CREATE UNIQUE INDEX%'",
    )
    .fetch_all(pool)
    .await
    .unwrap();
    names.extend(unique);
    (schema, names)
}

/// The names given with `CONSTRAINT name` in a table's SQL.
fn constraint_names(sql: &str) -> Vec<String> {
    let words: Vec<&str> = sql.split_whitespace().collect();
    words
        .windows(2)
        .filter(|w| w[0].eq_ignore_ascii_case("CONSTRAINT"))
        .map(|w| w[1].to_string())
        .collect()
}

async fn postgres_schema(db: &Db) -> (Schema, BTreeSet<String>) {
    let Db::Postgres(pool) = db else {
        unreachable!()
    };
    let columns: Vec<(String, String)> = sqlx::query_as(
        "SELECT table_name::text, column_name::text FROM information_schema.columns \
         WHERE table_schema = 'public' AND table_name NOT LIKE '_sqlx%'",
    )
    .fetch_all(pool)
    .await
    .unwrap();
    let mut schema = Schema::new();
    for (table, column) in columns {
        schema.entry(table).or_default().insert(column);
    }
    let names: Vec<String> = sqlx::query_scalar(
        "SELECT conname::text FROM pg_constraint c JOIN pg_namespace n ON n.oid = c.connamespace \
         WHERE n.nspname = 'public' \
         UNION SELECT indexname::text FROM pg_indexes WHERE schemaname = 'public' AND indexdef LIKE 'CREATE UNIQUE INDEX%'",
    )
    .fetch_all(pool)
    .await
    .unwrap();
    (schema, names.into_iter().collect())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs PostgreSQL: set TEST_DATABASE_URL (make test does when it answers)"]
async fn both_migration_sets_yield_the_same_tables_columns_and_constraint_names() {
    let lite = testing::sqlite().await;
    let pg = testing::postgres().await;
    let (lite_schema, lite_names) = sqlite_schema(&lite.db).await;
    let (pg_schema, pg_names) = postgres_schema(&pg.db).await;
    assert!(lite_schema.len() > 20, "{:?}", lite_schema.keys());
    for name in [
        "approval_decisions_four_eyes",
        "plans_one_open_per_change",
        "users_username_lower_key",
    ] {
        assert!(lite_names.contains(name), "{name} in {lite_names:?}");
    }
    assert_eq!(
        lite_schema.keys().collect::<Vec<_>>(),
        pg_schema.keys().collect::<Vec<_>>(),
        "the same tables"
    );
    for (table, columns) in &lite_schema {
        assert_eq!(
            Some(columns),
            pg_schema.get(table),
            "the columns of `{table}`"
        );
    }
    let missing: Vec<&String> = lite_names.difference(&pg_names).collect();
    assert!(
        missing.is_empty(),
        "named in SQLite but not in PostgreSQL: {missing:?}"
    );
    lite.finish().await;
    pg.finish().await;
}
