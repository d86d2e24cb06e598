use std::time::Instant;

use app::{
    audit::repo::Ctx,
    catalog::{
        model::{ComponentKind, Declaration},
        repo::refs_by_names,
        service,
    },
    db::Conn,
};
use rollgate::{configuration::DatabaseSettings, startup::connect_and_migrate};
use serde_json::{json, Map, Value};

/// A manifest shaped like dbt's: `n` models in layers, each reading 1–3 earlier ones.
fn manifest(n: usize) -> Vec<u8> {
    let mut nodes = Map::new();
    for i in 0..n {
        let deps: Vec<String> = (1..=3)
            .filter(|k| i >= k * 7 && (i + k) % 2 == 0 || *k == 1 && i > 0)
            .map(|k| format!("model.bench.m{}", (i - 1) / (k + 1)))
            .collect();
        nodes.insert(
            format!("model.bench.m{i}"),
            json!({ "resource_type": "model", "description": format!("Model {i}"), "tags": ["bench"],
                    "config": { "meta": { "owner": "data-platform" } }, "depends_on": { "nodes": deps, "macros": [] } }),
        );
    }
    let doc = json!({ "metadata": { "dbt_schema_version": "https://schemas.getdbt.com/dbt/manifest/v12.json", "project_name": "bench" },
                      "nodes": Value::Object(nodes), "sources": {}, "exposures": {} });
    serde_json::to_vec(&doc).unwrap_or_default()
}

async fn fresh(dir: &std::path::Path, name: &str) -> anyhow::Result<app::db::Db> {
    let url = format!("sqlite://{}/{name}.db", dir.display());
    connect_and_migrate(&DatabaseSettings {
        url: url.into(),
        max_connections: 4,
        migrate_on_start: true,
    })
    .await
}

pub async fn run(dir: &std::path::Path) -> anyhow::Result<()> {
    let bytes = manifest(5_000);
    let db = fresh(dir, "import").await?;
    let t = Instant::now();
    let first = service::import(&db, &Ctx::system(), &bytes)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let cold = t.elapsed().as_secs_f64() * 1000.0;
    let t = Instant::now();
    let again = service::import(&db, &Ctx::system(), &bytes)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let warm = t.elapsed().as_secs_f64() * 1000.0;
    println!(
        "dbt manifest of 5 000 models ({:.1} MB, {} edges): first import {cold:.0} ms, re-import (nothing changes, {} unchanged) {warm:.0} ms",
        bytes.len() as f64 / 1_048_576.0, first.edges_added, again.unchanged
    );
    db.close().await;

    let db = fresh(dir, "impact").await?;
    let n = 10_000;
    let decls: Vec<Declaration> = (0..n)
        .map(|i| Declaration {
            name: format!("n{i}"),
            kind: Some(ComponentKind::Dataset),
            upstream: Some(match i {
                0 => vec![],
                i if i % 3 == 0 => vec![format!("n{}", (i - 1) / 2), format!("n{}", i / 3)],
                i => vec![format!("n{}", (i - 1) / 2)],
            }),
            ..Default::default()
        })
        .collect();
    service::declare(&db, &Ctx::system(), service::Source::Api, "bench", decls)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    for name in ["n0", "n1", "n40"] {
        let id = refs_by_names(&mut Conn::Db(&db), &[name.to_string()]).await?[0].id;
        let mut times = Vec::new();
        let mut reached = 0;
        for _ in 0..20 {
            let t = Instant::now();
            let impact = service::impact(&db, id)
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            times.push(t.elapsed().as_secs_f64() * 1000.0);
            reached = impact.entries.len();
        }
        times.sort_by(|a, b| a.total_cmp(b));
        println!(
            "impact on a 10 000-node graph from {name}: {reached} downstream, median {:.1} ms, max {:.1} ms",
            times[times.len() / 2], times[times.len() - 1]
        );
    }
    db.close().await;
    Ok(())
}
