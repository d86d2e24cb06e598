//! Catalog service and repository tests, on SQLite and (twins) PostgreSQL.

use super::{
    model::{ComponentKind, Declaration},
    repo,
    service::{self, CatalogError, Source},
};
use crate::{
    audit::repo::{head, Ctx},
    backend_test,
    db::{testing::TestDb, Conn, Db},
};

pub fn decl(name: &str, upstream: &[&str]) -> Declaration {
    Declaration {
        name: name.into(),
        kind: Some(ComponentKind::Dataset),
        upstream: Some(upstream.iter().map(|s| s.to_string()).collect()),
        ..Default::default()
    }
}

/// raw → staged → mart → dashboard, plus raw → audit_copy.
pub async fn seed_chain(db: &Db) {
    let decls = vec![
        decl("raw", &[]),
        decl("staged", &["raw"]),
        decl("mart", &["staged"]),
        Declaration {
            kind: Some(ComponentKind::Dashboard),
            ..decl("dashboard", &["mart"])
        },
        decl("audit_copy", &["raw"]),
    ];
    service::declare(db, &Ctx::system(), Source::File, "test", decls)
        .await
        .unwrap();
}

async fn id_of(db: &Db, name: &str) -> i64 {
    repo::refs_by_names(&mut Conn::Db(db), &[name.to_string()])
        .await
        .unwrap()[0]
        .id
}

async fn declaring_twice_updates_and_never_duplicates(t: &TestDb) {
    seed_chain(&t.db).await;
    let seq = head(&t.db).await.unwrap().0;
    let again = vec![
        decl("raw", &[]),
        decl("staged", &["raw"]),
        decl("mart", &["staged"]),
    ];
    let summary = service::declare(&t.db, &Ctx::system(), Source::File, "test", again)
        .await
        .unwrap();
    assert_eq!(
        (
            summary.created.len(),
            summary.updated.len(),
            summary.unchanged
        ),
        (0, 0, 3)
    );
    assert_eq!(
        head(&t.db).await.unwrap().0,
        seq,
        "an import that changes nothing records nothing"
    );
    let changed = vec![Declaration {
        owner: "data-platform".into(),
        ..decl("mart", &["staged", "raw"])
    }];
    let summary = service::declare(&t.db, &Ctx::system(), Source::File, "test", changed)
        .await
        .unwrap();
    assert_eq!(summary.updated, ["mart"]);
    assert_eq!(summary.edges_added, 1);
    assert_eq!(repo::all_rows(&mut Conn::Db(&t.db)).await.unwrap().len(), 5);
    assert_eq!(head(&t.db).await.unwrap().0, seq + 1);
}
backend_test!(
    declare_idempotent,
    declaring_twice_updates_and_never_duplicates
);

async fn a_cycle_is_refused_by_name_and_nothing_is_written(t: &TestDb) {
    seed_chain(&t.db).await;
    let seq = head(&t.db).await.unwrap().0;
    let cyclic = vec![decl("raw", &["dashboard"]), decl("new_one", &[])];
    let Err(CatalogError::Invalid(errors)) =
        service::declare(&t.db, &Ctx::system(), Source::File, "test", cyclic).await
    else {
        panic!("a cycle must be refused")
    };
    assert!(errors[0].message.contains("cycle"), "{}", errors[0].message);
    for name in ["raw", "staged", "mart", "dashboard"] {
        assert!(
            errors[0].message.contains(name),
            "{name} in {}",
            errors[0].message
        );
    }
    let rows = repo::all_rows(&mut Conn::Db(&t.db)).await.unwrap();
    assert!(!rows.contains_key("new_one"), "all or nothing");
    assert_eq!(head(&t.db).await.unwrap().0, seq);
}
backend_test!(
    declare_cycle,
    a_cycle_is_refused_by_name_and_nothing_is_written
);

async fn unknown_upstreams_and_duplicates_name_their_entries(t: &TestDb) {
    let bad = vec![decl("a", &["nowhere"]), decl("b", &[]), decl("B", &[])];
    let Err(CatalogError::Invalid(errors)) =
        service::declare(&t.db, &Ctx::system(), Source::Api, "test", bad).await
    else {
        panic!("expected errors")
    };
    let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
    assert_eq!(fields, ["components[2].name"]);
    let bad = vec![decl("a", &["nowhere"])];
    let Err(CatalogError::Invalid(errors)) =
        service::declare(&t.db, &Ctx::system(), Source::Api, "test", bad).await
    else {
        panic!("expected errors")
    };
    assert_eq!(errors[0].field, "components[0].upstream[0]");
    assert!(repo::all_rows(&mut Conn::Db(&t.db))
        .await
        .unwrap()
        .is_empty());
}
backend_test!(
    declare_unknown,
    unknown_upstreams_and_duplicates_name_their_entries
);

async fn a_browser_dependency_that_closes_a_cycle_is_refused(t: &TestDb) {
    seed_chain(&t.db).await;
    let raw = id_of(&t.db, "raw").await;
    let err = service::add_dependency(&t.db, &Ctx::system(), raw, "mart")
        .await
        .unwrap_err();
    let CatalogError::Invalid(errors) = err else {
        panic!("expected a validation error")
    };
    assert_eq!(
        errors[0].message,
        "would form a cycle: raw → staged → mart → raw"
    );
    let err = service::add_dependency(&t.db, &Ctx::system(), raw, "raw")
        .await
        .unwrap_err();
    assert!(matches!(err, CatalogError::Invalid(e) if e[0].message.contains("itself")));
    let audit_copy = id_of(&t.db, "audit_copy").await;
    service::add_dependency(&t.db, &Ctx::system(), audit_copy, "staged")
        .await
        .unwrap();
    let c = repo::get(&mut Conn::Db(&t.db), audit_copy).await.unwrap();
    assert_eq!(
        c.upstream
            .iter()
            .map(|u| u.name.as_str())
            .collect::<Vec<_>>(),
        ["raw", "staged"]
    );
    let staged = id_of(&t.db, "staged").await;
    service::remove_dependency(&t.db, &Ctx::system(), audit_copy, staged)
        .await
        .unwrap();
    assert_eq!(
        repo::get(&mut Conn::Db(&t.db), audit_copy)
            .await
            .unwrap()
            .upstream
            .len(),
        1
    );
}
backend_test!(
    browser_edges,
    a_browser_dependency_that_closes_a_cycle_is_refused
);

async fn impact_lists_every_downstream_component_with_distance_and_path(t: &TestDb) {
    seed_chain(&t.db).await;
    let raw = id_of(&t.db, "raw").await;
    let impact = service::impact(&t.db, raw).await.unwrap();
    let rows: Vec<(&str, u32, String)> = impact
        .entries
        .iter()
        .map(|e| (e.component.name.as_str(), e.distance, e.path.join(">")))
        .collect();
    assert_eq!(
        rows,
        [
            ("audit_copy", 1, "raw>audit_copy".to_string()),
            ("staged", 1, "raw>staged".to_string()),
            ("mart", 2, "raw>staged>mart".to_string()),
            ("dashboard", 3, "raw>staged>mart>dashboard".to_string()),
        ]
    );
    let svg = impact.svg.unwrap();
    assert_eq!(svg.matches("<rect").count(), 5);
    let leaf = service::impact(&t.db, id_of(&t.db, "dashboard").await)
        .await
        .unwrap();
    assert!(leaf.entries.is_empty());
}
backend_test!(
    impact,
    impact_lists_every_downstream_component_with_distance_and_path
);

async fn a_browser_component_needs_a_new_name_and_is_audited(t: &TestDb) {
    let seq = head(&t.db).await.unwrap().0;
    let id = service::create(&t.db, &Ctx::system(), decl("orders", &[]))
        .await
        .unwrap();
    assert_eq!(head(&t.db).await.unwrap().0, seq + 1);
    let err = service::create(&t.db, &Ctx::system(), decl("ORDERS", &[]))
        .await
        .unwrap_err();
    assert!(matches!(err, CatalogError::Invalid(e) if e[0].field == "name"));
    let edit = Declaration {
        description: "Cleaned orders".into(),
        tags: vec!["finance".into()],
        ..decl("orders", &[])
    };
    service::update(&t.db, &Ctx::system(), id, edit)
        .await
        .unwrap();
    let c = repo::get(&mut Conn::Db(&t.db), id).await.unwrap();
    assert_eq!(
        (c.description.as_str(), c.tags.clone()),
        ("Cleaned orders", vec!["finance".to_string()])
    );
    assert_eq!(head(&t.db).await.unwrap().0, seq + 2);
    let bound = Declaration {
        connector: Some("nope".into()),
        kind: Some(ComponentKind::Job),
        ..decl("orders", &[])
    };
    let err = service::update(&t.db, &Ctx::system(), id, bound)
        .await
        .unwrap_err();
    assert!(matches!(err, CatalogError::Invalid(e) if e[0].field == "connector"));
}
backend_test!(
    browser_component,
    a_browser_component_needs_a_new_name_and_is_audited
);

/// The manifest `dbt parse` wrote for the fixture project (see server/scripts/dbt-manifest.sh).
fn real_manifest() -> Option<Vec<u8>> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../target/dbt/manifest.json");
    match std::fs::read(path) {
        Ok(bytes) => Some(bytes),
        Err(_) => {
            eprintln!("skipped: run server/scripts/dbt-manifest.sh first (make test does)");
            None
        }
    }
}

async fn a_manifest_from_real_dbt_imports_its_lineage_twice_without_duplicates(t: &TestDb) {
    let Some(bytes) = real_manifest() else { return };
    let first = service::import(&t.db, &Ctx::system(), &bytes)
        .await
        .unwrap();
    assert_eq!(first.format, "dbt");
    // 3 sources, 1 seed, 6 models, 1 snapshot, 1 exposure.
    assert_eq!(first.created, 12);
    assert_eq!(first.edges_added, 12);
    let again = service::import(&t.db, &Ctx::system(), &bytes)
        .await
        .unwrap();
    assert_eq!(
        (
            again.created,
            again.updated,
            again.unchanged,
            again.edges_added
        ),
        (0, 0, 12, 0)
    );
    let raw = id_of(&t.db, "source.rollgate_sample.shop.raw_orders").await;
    let impact = service::impact(&t.db, raw).await.unwrap();
    let dashboard = impact
        .entries
        .iter()
        .find(|e| e.component.name == "exposure.rollgate_sample.finance_dashboard")
        .expect("the dashboard is downstream of raw orders");
    assert_eq!(dashboard.distance, 4);
}
backend_test!(
    dbt_real,
    a_manifest_from_real_dbt_imports_its_lineage_twice_without_duplicates
);
