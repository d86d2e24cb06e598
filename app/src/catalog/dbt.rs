//! dbt `manifest.json` → catalog declarations: models, seeds, snapshots and sources become
//! datasets, exposures become dashboards/consumers, and `depends_on.nodes` become upstream
//! dependencies. Tests, analyses, macros and semantic-layer objects are not components.

use std::collections::{HashMap, HashSet};

use serde::Deserialize;

use super::model::{ComponentKind, Declaration};
use crate::error::FieldError;

#[derive(Debug, Deserialize)]
struct Manifest {
    metadata: Metadata,
    #[serde(default)]
    nodes: HashMap<String, Node>,
    #[serde(default)]
    sources: HashMap<String, Node>,
    #[serde(default)]
    exposures: HashMap<String, Exposure>,
    /// Every other unique id a dependency may legitimately name (skipped, not an error).
    #[serde(default)]
    metrics: HashMap<String, serde::de::IgnoredAny>,
    #[serde(default)]
    semantic_models: HashMap<String, serde::de::IgnoredAny>,
    #[serde(default)]
    saved_queries: HashMap<String, serde::de::IgnoredAny>,
}

#[derive(Debug, Deserialize)]
struct Metadata {
    #[serde(default)]
    dbt_schema_version: String,
    #[serde(default)]
    project_name: Option<String>,
}

#[derive(Debug, Deserialize)]
struct Node {
    resource_type: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    tags: Vec<String>,
    #[serde(default)]
    meta: HashMap<String, serde_json::Value>,
    #[serde(default)]
    config: Config,
    #[serde(default)]
    depends_on: DependsOn,
}

#[derive(Debug, Default, Deserialize)]
struct Config {
    #[serde(default)]
    meta: HashMap<String, serde_json::Value>,
}

#[derive(Debug, Default, Deserialize)]
struct DependsOn {
    #[serde(default)]
    nodes: Vec<String>,
}

#[derive(Debug, Deserialize)]
struct Exposure {
    #[serde(default)]
    description: String,
    #[serde(default)]
    tags: Vec<String>,
    #[serde(default)]
    owner: ExposureOwner,
    #[serde(default)]
    depends_on: DependsOn,
}

#[derive(Debug, Default, Deserialize)]
struct ExposureOwner {
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    email: Option<String>,
}

const DATASETS: [&str; 4] = ["model", "seed", "snapshot", "source"];

/// Cheap check before a full parse: is this JSON a dbt manifest?
pub fn looks_like_manifest(text: &str) -> bool {
    let head: String = text.chars().take(4096).collect();
    head.contains("\"dbt_schema_version\"") || head.contains("schemas.getdbt.com/dbt/manifest")
}

/// The project name and one declaration per component. Every dependency must resolve to
/// something the manifest defines; errors name the node and the path inside it.
pub fn parse(bytes: &[u8]) -> Result<(String, Vec<Declaration>), Vec<FieldError>> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let manifest: Manifest = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let inner = e.inner();
        let what = if inner.is_eof() || inner.is_syntax() {
            "is not valid JSON".to_string()
        } else {
            format!("does not look like a dbt manifest at {}", e.path())
        };
        let message = inner.to_string();
        let message = message
            .split(" at line ")
            .next()
            .unwrap_or(&message)
            .to_string();
        vec![FieldError::new(
            "file",
            format!(
                "{what}: {message} (line {}, column {})",
                inner.line(),
                inner.column()
            ),
        )]
    })?;
    if !manifest.metadata.dbt_schema_version.contains("manifest") {
        return Err(vec![FieldError::new(
            "file",
            "is not a dbt manifest: metadata.dbt_schema_version is missing",
        )]);
    }
    let project = manifest
        .metadata
        .project_name
        .clone()
        .unwrap_or_else(|| "dbt".into());
    let components: HashMap<&str, (&Node, ComponentKind)> = manifest
        .nodes
        .iter()
        .chain(manifest.sources.iter())
        .filter(|(_, n)| DATASETS.contains(&n.resource_type.as_str()))
        .map(|(id, n)| (id.as_str(), (n, ComponentKind::Dataset)))
        .collect();
    let skipped: HashSet<&str> = manifest
        .nodes
        .keys()
        .chain(manifest.metrics.keys())
        .chain(manifest.semantic_models.keys())
        .chain(manifest.saved_queries.keys())
        .map(String::as_str)
        .filter(|id| !components.contains_key(id))
        .collect();
    let mut errors = Vec::new();
    let mut upstream_of = |owner: &str, section: &str, deps: &DependsOn| -> Vec<String> {
        let mut ups = Vec::new();
        for (i, dep) in deps.nodes.iter().enumerate() {
            if components.contains_key(dep.as_str()) {
                ups.push(dep.clone());
            } else if !skipped.contains(dep.as_str()) {
                errors.push(FieldError::new(
                    &format!("{section}[\"{owner}\"].depends_on.nodes[{i}]"),
                    format!("refers to `{dep}`, which the manifest does not define"),
                ));
            }
        }
        ups
    };
    let mut decls = Vec::new();
    let mut ids: Vec<&&str> = components.keys().collect();
    ids.sort();
    for id in ids {
        let (node, kind) = components[*id];
        let section = if node.resource_type == "source" {
            "sources"
        } else {
            "nodes"
        };
        decls.push(Declaration {
            name: id.to_string(),
            kind: Some(kind),
            owner: owner(node),
            description: first_line(&node.description),
            tags: node.tags.clone(),
            upstream: Some(upstream_of(id, section, &node.depends_on)),
            ..Default::default()
        });
    }
    let mut exposures: Vec<(&String, &Exposure)> = manifest.exposures.iter().collect();
    exposures.sort_by_key(|(id, _)| id.as_str());
    for (id, e) in exposures {
        decls.push(Declaration {
            name: id.clone(),
            kind: Some(ComponentKind::Dashboard),
            owner: e
                .owner
                .name
                .clone()
                .or_else(|| e.owner.email.clone())
                .unwrap_or_default(),
            description: first_line(&e.description),
            tags: e.tags.clone(),
            upstream: Some(upstream_of(id, "exposures", &e.depends_on)),
            ..Default::default()
        });
    }
    if errors.is_empty() {
        Ok((project, decls))
    } else {
        Err(errors)
    }
}

/// `meta.owner` (node or config), else empty.
fn owner(node: &Node) -> String {
    node.config
        .meta
        .get("owner")
        .or_else(|| node.meta.get("owner"))
        .and_then(|v| v.as_str())
        .map(|s| s.chars().take(120).collect())
        .unwrap_or_default()
}

/// Descriptions are often long Markdown; the catalog keeps a bounded summary.
fn first_line(text: &str) -> String {
    let line = text.trim().lines().next().unwrap_or("");
    line.chars().take(2000).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const MANIFEST: &str = r#"{
      "metadata": {"dbt_schema_version": "https://schemas.getdbt.com/dbt/manifest/v12.json", "project_name": "shop"},
      "nodes": {
        "model.shop.orders": {"resource_type": "model", "description": "Orders\nmore", "tags": ["finance"],
          "config": {"meta": {"owner": "data-platform"}}, "depends_on": {"nodes": ["source.shop.raw.orders", "seed.shop.codes"]}},
        "seed.shop.codes": {"resource_type": "seed", "depends_on": {"macros": []}},
        "test.shop.unique_orders": {"resource_type": "test", "depends_on": {"nodes": ["model.shop.orders"]}}
      },
      "sources": {"source.shop.raw.orders": {"resource_type": "source"}},
      "exposures": {"exposure.shop.finance": {"owner": {"name": "Finance"}, "depends_on": {"nodes": ["model.shop.orders", "metric.shop.revenue"]}}},
      "metrics": {"metric.shop.revenue": {}}
    }"#;

    #[test]
    fn models_sources_seeds_and_exposures_become_components() {
        let (project, decls) = parse(MANIFEST.as_bytes()).unwrap();
        assert_eq!(project, "shop");
        let names: Vec<&str> = decls.iter().map(|d| d.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "model.shop.orders",
                "seed.shop.codes",
                "source.shop.raw.orders",
                "exposure.shop.finance"
            ]
        );
        let orders = &decls[0];
        assert_eq!(orders.owner, "data-platform");
        assert_eq!(orders.description, "Orders");
        assert_eq!(
            orders.upstream.as_deref().unwrap(),
            ["source.shop.raw.orders", "seed.shop.codes"]
        );
        assert_eq!(decls[3].kind, Some(ComponentKind::Dashboard));
        assert_eq!(decls[3].upstream.as_deref().unwrap(), ["model.shop.orders"]);
    }

    #[test]
    fn a_dangling_dependency_names_the_node_and_the_path() {
        let broken = MANIFEST.replace("seed.shop.codes\"]", "seed.shop.refunds\"]");
        let errors = parse(broken.as_bytes()).unwrap_err();
        assert_eq!(
            errors[0].field,
            "nodes[\"model.shop.orders\"].depends_on.nodes[1]"
        );
        assert!(errors[0].message.contains("`seed.shop.refunds`"));
    }

    #[test]
    fn truncated_json_is_reported_as_invalid_json_with_its_position() {
        let errors = parse(&MANIFEST.as_bytes()[..200]).unwrap_err();
        assert!(
            errors[0].message.starts_with("is not valid JSON"),
            "{}",
            errors[0].message
        );
        assert!(errors[0].message.contains("line"));
    }
}
