//! The API's request and response bodies: a stable contract, separate from the UI's models,
//! described in the OpenAPI document.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use app::{
    catalog::model::{Declaration, DeclareSummary},
    changes::model::{Change, ChangeInput, ChangeSummary, ChangesPage, Link},
};

// Text constraints as the server enforces them (after trimming): no control characters, and
// a required field holds at least one visible character.

/// A change to record. Beyond what the schema states, the server answers 422 when a component
/// is not in the catalog or is listed twice, or when `deployed_at` is in the future.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewChangeBody {
    #[schema(
        min_length = 1,
        max_length = 200,
        pattern = r"^[^\u0000-\u001f\u007f-\u009f]*[^\s\u0000-\u001f\u007f-\u009f][^\u0000-\u001f\u007f-\u009f]*$"
    )]
    pub title: String,
    #[schema(value_type = ChangeKindName)]
    pub kind: String,
    #[schema(
        min_length = 1,
        max_length = 5000,
        pattern = r"^[^\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f]*[^\s\u0000-\u001f\u007f-\u009f][^\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f]*$"
    )]
    pub why: String,
    /// RFC 3339, not in the future; defaults to now.
    #[serde(default)]
    #[schema(format = DateTime)]
    pub deployed_at: Option<String>,
    /// 7–40 hex digits (64 for SHA-256 repositories).
    #[serde(default)]
    #[schema(pattern = r"^\s*([0-9a-fA-F]{7,40}|[0-9a-fA-F]{64})?\s*$")]
    pub git_sha: Option<String>,
    /// The commit this change replaced (what a rollback restores), 7–40 hex digits.
    #[serde(default)]
    #[schema(pattern = r"^\s*([0-9a-fA-F]{7,40}|[0-9a-fA-F]{64})?\s*$")]
    pub git_sha_before: Option<String>,
    #[serde(default)]
    #[schema(max_length = 500, pattern = r"^[^\u0000-\u001f\u007f-\u009f]*$")]
    pub artifact_ref: Option<String>,
    #[serde(default)]
    #[schema(max_items = 20)]
    pub links: Vec<LinkBody>,
    /// Catalog components the change touched (at least one, each once).
    #[schema(min_items = 1, max_items = 200)]
    pub components: Vec<AffectedBody>,
}

/// What kind of change.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ChangeKindName {
    Transform,
    SchemaMigration,
    Config,
    Backfill,
    Other,
}

/// Where a change stands.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ChangeStatusName {
    Recorded,
    RollbackPlanned,
    RollingBack,
    RolledBack,
    RollbackFailed,
    Closed,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LinkBody {
    /// `pr`, `ticket` or `other` (empty means other).
    #[schema(pattern = r"^(pr|ticket|other)?$")]
    pub kind: String,
    /// An absolute http(s) address; a link with an empty one is left out.
    #[schema(
        max_length = 2000,
        pattern = r"^(https?://[^\s/\u0000-\u001f\u007f-\u009f][^\s\u0000-\u001f\u007f-\u009f]*)?$"
    )]
    pub url: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AffectedBody {
    /// The component's name in the catalog.
    #[schema(
        min_length = 1,
        max_length = 200,
        pattern = r"^[^\u0000-\u001f\u007f-\u009f]*[^\s\u0000-\u001f\u007f-\u009f][^\u0000-\u001f\u007f-\u009f]*$"
    )]
    pub name: String,
    /// The data version the change produced there (snapshot or time-travel id), if known.
    #[serde(default)]
    #[schema(max_length = 300, pattern = r"^[^\u0000-\u001f\u007f-\u009f]*$")]
    pub data_version: String,
    /// The data version it had before the change (what a rollback restores), if known; without
    /// it Rollgate takes the version the previous change produced.
    #[serde(default)]
    #[schema(max_length = 300, pattern = r"^[^\u0000-\u001f\u007f-\u009f]*$")]
    pub data_version_before: String,
}

impl NewChangeBody {
    /// What the API refuses that the page's form allows: an empty `deployed_at` (the form's
    /// "now"); the API's "now" is leaving it out.
    pub fn check(&self) -> Result<(), app::error::AppError> {
        if self
            .deployed_at
            .as_deref()
            .is_some_and(|d| d.trim().is_empty())
        {
            return Err(app::error::AppError::field(
                "deployed_at",
                "is empty: leave it out (or null) to mean now",
            ));
        }
        Ok(())
    }

    pub fn input(self) -> ChangeInput {
        ChangeInput {
            title: self.title,
            kind: self.kind,
            why: self.why,
            deployed_at: self.deployed_at.unwrap_or_default(),
            git_sha: self.git_sha.unwrap_or_default(),
            git_sha_before: self.git_sha_before.unwrap_or_default(),
            artifact_ref: self.artifact_ref.unwrap_or_default(),
            links: self
                .links
                .into_iter()
                .map(|l| Link {
                    kind: l.kind,
                    url: l.url,
                })
                .collect(),
            versions_before: self
                .components
                .iter()
                .map(|c| (c.name.clone(), c.data_version_before.clone()))
                .collect(),
            components: self
                .components
                .into_iter()
                .map(|c| (c.name, c.data_version))
                .collect(),
        }
    }
}

/// A recorded change.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ChangeBody {
    pub id: i64,
    pub title: String,
    pub kind: String,
    pub why: String,
    /// `recorded`, `rollback_planned`, `rolling_back`, `rolled_back`, `rollback_failed`, `closed`.
    pub status: String,
    /// The username of the author (a token acts as its owner).
    pub author: String,
    pub deployed_at: DateTime<Utc>,
    pub git_sha: Option<String>,
    pub git_sha_before: Option<String>,
    pub artifact_ref: Option<String>,
    pub links: Vec<LinkBody>,
    pub components: Vec<AffectedBody>,
    /// Bumped by every edit.
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// The change's page in Rollgate.
    pub url: String,
}

impl From<Change> for ChangeBody {
    fn from(c: Change) -> Self {
        Self {
            url: format!("/changes/{}", c.id),
            id: c.id,
            title: c.title,
            kind: c.kind.as_str().into(),
            why: c.why,
            status: c.status.as_str().into(),
            author: c.author.username,
            deployed_at: c.deployed_at,
            git_sha: c.git_sha,
            git_sha_before: c.git_sha_before,
            artifact_ref: c.artifact_ref,
            links: c
                .links
                .into_iter()
                .map(|l| LinkBody {
                    kind: l.kind,
                    url: l.url,
                })
                .collect(),
            components: c
                .components
                .into_iter()
                .map(|a| AffectedBody {
                    name: a.component.name,
                    data_version: a.data_version,
                    data_version_before: a.data_version_before,
                })
                .collect(),
            version: c.version,
            created_at: c.created_at,
            updated_at: c.updated_at,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ChangeSummaryBody {
    pub id: i64,
    pub title: String,
    pub kind: String,
    pub status: String,
    pub author: String,
    pub deployed_at: DateTime<Utc>,
    /// How many components it touched.
    pub components: i64,
}

impl From<ChangeSummary> for ChangeSummaryBody {
    fn from(c: ChangeSummary) -> Self {
        Self {
            id: c.id,
            title: c.title,
            kind: c.kind.as_str().into(),
            status: c.status.as_str().into(),
            author: c.author,
            deployed_at: c.deployed_at,
            components: c.components,
        }
    }
}

/// A page of changes, newest deployment first.
#[derive(Debug, Serialize, ToSchema)]
pub struct ChangeListBody {
    pub changes: Vec<ChangeSummaryBody>,
    /// Pass as `after` for the next page; absent on the last page.
    pub next: Option<String>,
}

impl From<ChangesPage> for ChangeListBody {
    fn from(p: ChangesPage) -> Self {
        Self {
            changes: p.changes.into_iter().map(Into::into).collect(),
            next: p.next,
        }
    }
}

/// Components to declare. Each is created or updated by name; `upstream`, when present,
/// replaces that component's upstream dependencies.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DeclareBody {
    #[schema(max_items = 5000)]
    pub components: Vec<ComponentBody>,
}

/// One component. Beyond the schema the server answers 422 when a named connector or upstream
/// component does not exist, a non-job names a connector, a DAG id comes without a connector,
/// a component lists itself upstream, or the upstream would make a cycle.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ComponentBody {
    #[schema(
        min_length = 1,
        max_length = 200,
        pattern = r"^[^\u0000-\u001f\u007f-\u009f]*[^\s\u0000-\u001f\u007f-\u009f][^\u0000-\u001f\u007f-\u009f]*$"
    )]
    pub name: String,
    pub kind: KindBody,
    #[serde(default)]
    #[schema(max_length = 120, pattern = r"^[^\u0000-\u001f\u007f-\u009f]*$")]
    pub owner: String,
    #[serde(default)]
    #[schema(
        max_length = 2000,
        pattern = r"^[^\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f]*$"
    )]
    pub description: String,
    #[serde(default)]
    #[schema(max_items = 50)]
    pub tags: Vec<TagName>,
    #[serde(default)]
    #[schema(max_items = 500)]
    pub upstream: Option<Vec<ComponentName>>,
    /// A connector's name (jobs only).
    #[serde(default)]
    #[schema(max_length = 60, pattern = r"^[^\u0000-\u001f\u007f-\u009f]*$")]
    pub connector: Option<String>,
    #[serde(default)]
    #[schema(max_length = 250, pattern = r"^\s*[A-Za-z0-9_.-]*\s*$")]
    pub dag_id: Option<String>,
    #[serde(default)]
    #[schema(max_length = 250, pattern = r"^\s*[A-Za-z0-9_.-]*\s*$")]
    pub rollback_dag_id: Option<String>,
    /// How long its storage keeps earlier versions, e.g. `snowflake 30d`, `bigquery 7d`,
    /// `lakefs 72h`; absent keeps the stored one, empty clears it. Each engine has bounds
    /// (snowflake 1–90 days, bigquery 2–7 days): a period outside them is answered 422.
    #[serde(default)]
    #[schema(
        pattern = r"^\s*((snowflake|bigquery|delta|iceberg|lakefs|custom)(\s+[1-9][0-9]{0,5}[dh])?)?\s*$"
    )]
    pub retention: Option<String>,
}

impl ComponentBody {
    pub fn declaration(self) -> Declaration {
        Declaration {
            kind: Some(self.kind.into()),
            name: self.name,
            owner: self.owner,
            description: self.description,
            tags: self.tags.into_iter().map(|t| t.0).collect(),
            upstream: self
                .upstream
                .map(|names| names.into_iter().map(|n| n.0).collect()),
            connector: self.connector,
            dag_id: self.dag_id,
            rollback_dag_id: self.rollback_dag_id,
            retention: self.retention,
        }
    }
}

/// A tag: up to 40 letters, digits, `_`, `-` or `:`.
#[derive(Debug, Deserialize)]
#[serde(transparent)]
pub struct TagName(pub String);

/// A component's name as the catalog knows it.
#[derive(Debug, Deserialize)]
#[serde(transparent)]
pub struct ComponentName(pub String);

fn text_schema(
    min: Option<usize>,
    max: usize,
    pattern: &str,
) -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
    use utoipa::openapi::{schema::Type, ObjectBuilder};
    ObjectBuilder::new()
        .schema_type(Type::String)
        .min_length(min)
        .max_length(Some(max))
        .pattern(Some(pattern))
        .into()
}

impl utoipa::PartialSchema for TagName {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        text_schema(None, 40, r"^[A-Za-z0-9_:-]*$")
    }
}
impl ToSchema for TagName {}

impl utoipa::PartialSchema for ComponentName {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        text_schema(
            Some(1),
            200,
            r"^[^\u0000-\u001f\u007f-\u009f]*[^\s\u0000-\u001f\u007f-\u009f][^\u0000-\u001f\u007f-\u009f]*$",
        )
    }
}
impl ToSchema for ComponentName {}

/// What kind of component.
#[derive(Debug, Clone, Copy, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum KindBody {
    Dataset,
    Job,
    Dashboard,
    Other,
}

impl From<KindBody> for app::catalog::model::ComponentKind {
    fn from(k: KindBody) -> Self {
        use app::catalog::model::ComponentKind as K;
        match k {
            KindBody::Dataset => K::Dataset,
            KindBody::Job => K::Job,
            KindBody::Dashboard => K::Dashboard,
            KindBody::Other => K::Other,
        }
    }
}

/// What a declaration changed.
#[derive(Debug, Serialize, ToSchema)]
pub struct DeclaredBody {
    pub created: Vec<String>,
    pub updated: Vec<String>,
    pub unchanged: usize,
    pub edges_added: usize,
    pub edges_removed: usize,
}

impl From<DeclareSummary> for DeclaredBody {
    fn from(s: DeclareSummary) -> Self {
        Self {
            created: s.created,
            updated: s.updated,
            unchanged: s.unchanged,
            edges_added: s.edges_added,
            edges_removed: s.edges_removed,
        }
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use serde_json::{json, Value};

    use super::{DeclareBody, NewChangeBody};
    use crate::rest::error::parse_json;

    /// A valid change body with one field replaced by `value`.
    fn change_with(field: usize, value: Value) -> Vec<u8> {
        let mut body = json!({
            "title": "t", "kind": "config", "why": "w", "deployed_at": "2026-01-01T00:00:00Z",
            "git_sha": "abcdef1", "links": [{"kind": "pr", "url": "https://x.example/1"}],
            "components": [{"name": "orders", "data_version": "v1"}],
        });
        let keys = [
            "title",
            "kind",
            "why",
            "deployed_at",
            "git_sha",
            "links",
            "components",
            "extra",
        ];
        body[keys[field % keys.len()]] = value;
        serde_json::to_vec(&body).unwrap_or_default()
    }

    fn any_json() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(Value::from),
            any::<String>().prop_map(Value::String),
        ];
        leaf.prop_recursive(3, 24, 6, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
                prop::collection::btree_map(any::<String>(), inner, 0..6)
                    .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn a_rest_body_of_any_bytes_is_an_error_not_a_panic(bytes in prop::collection::vec(any::<u8>(), 0..256)) {
            let _ = parse_json::<NewChangeBody>(&bytes);
            let _ = parse_json::<DeclareBody>(&bytes);
        }

        #[test]
        fn a_change_body_with_a_hostile_field_is_decoded_or_refused_never_a_panic(
            field in 0usize..8, value in any_json(),
        ) {
            if let Ok(body) = parse_json::<NewChangeBody>(&change_with(field, value)) {
                let _ = app::changes::model::NewChange::parse(&body.input(), chrono::Utc::now());
            }
        }
    }
}
