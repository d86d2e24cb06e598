use serde::{Deserialize, Serialize};

pub use super::retention::{retention, retention_parts};

use crate::{
    error::{AppError, FieldError},
    validate::{self, Errors},
};

/// What a component is. Datasets hold data; jobs move it; dashboards consume it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ComponentKind {
    Dataset,
    Job,
    Dashboard,
    Other,
}

impl ComponentKind {
    pub const ALL: [ComponentKind; 4] = [Self::Dataset, Self::Job, Self::Dashboard, Self::Other];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Dataset => "dataset",
            Self::Job => "job",
            Self::Dashboard => "dashboard",
            Self::Other => "other",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::Dataset => "Dataset / table",
            Self::Job => "Job / DAG",
            Self::Dashboard => "Dashboard / consumer",
            Self::Other => "Other",
        }
    }
}

/// A component as lists and links show it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ComponentRef {
    pub id: i64,
    pub name: String,
    pub kind: ComponentKind,
}

/// A job component's binding to a pipeline connector.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Binding {
    pub connector_id: i64,
    pub connector_name: String,
    /// The production DAG (paused during a rollback).
    pub dag_id: Option<String>,
    /// The DAG that performs the rollback.
    pub rollback_dag_id: Option<String>,
}

/// A component with everything its page shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Component {
    pub id: i64,
    pub name: String,
    pub kind: ComponentKind,
    pub owner: String,
    pub description: String,
    pub tags: Vec<String>,
    /// How it was last declared: `browser`, `file`, `dbt` or `api`.
    pub source: String,
    pub binding: Option<Binding>,
    /// How long its storage keeps earlier versions (`snowflake 30d`), when declared.
    pub retention: Option<String>,
    pub upstream: Vec<ComponentRef>,
    pub downstream: Vec<ComponentRef>,
    pub updated_at: chrono::DateTime<chrono::Utc>,
}

impl Component {
    pub fn as_ref(&self) -> ComponentRef {
        ComponentRef {
            id: self.id,
            name: self.name.clone(),
            kind: self.kind,
        }
    }
}

pub const NAME_MAX: usize = 200;

/// One component as the browser form, an import file, a dbt manifest or the API declares it.
/// `upstream: Some(list)` replaces the component's upstream dependencies with `list`;
/// `None` leaves them as they are.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Declaration {
    pub name: String,
    pub kind: Option<ComponentKind>,
    pub owner: String,
    pub description: String,
    pub tags: Vec<String>,
    pub upstream: Option<Vec<String>>,
    /// A connector name, with the DAG ids it runs.
    pub connector: Option<String>,
    pub dag_id: Option<String>,
    pub rollback_dag_id: Option<String>,
    /// How long the storage keeps earlier versions: `snowflake 30d`, `bigquery 7d`, `delta`,
    /// `iceberg 5d`, `lakefs 72h`, `custom 48h` (see `retention`).
    #[serde(default)]
    pub retention: Option<String>,
}

impl Declaration {
    /// Checks and normalises one declaration; error fields are prefixed with `path`
    /// (`components[3].name`, or plain `name` for a form).
    pub fn normalise(mut self, path: &str) -> Result<Self, Vec<FieldError>> {
        let at = |field: &str| join_path(path, field);
        let mut errors = Errors::default();
        self.name = errors.check(component_name(&at("name"), &self.name));
        if self.kind.is_none() {
            errors.push(
                &at("kind"),
                "is required: one of dataset, job, dashboard, other",
            );
        }
        self.owner = errors.check(validate::text(&at("owner"), &self.owner, 120, false, false));
        self.description = errors.check(validate::text(
            &at("description"),
            &self.description,
            2000,
            false,
            true,
        ));
        self.tags = errors.check(tags(&at("tags"), &self.tags));
        if let Some(upstream) = self.upstream.take() {
            let mut names = Vec::new();
            for (i, name) in upstream.iter().enumerate() {
                let field = at(&format!("upstream[{i}]"));
                let name = errors.check(component_name(&field, name));
                if name.eq_ignore_ascii_case(&self.name) && !name.is_empty() {
                    errors.push(&field, "a component cannot depend on itself");
                } else if !name.is_empty()
                    && !names.iter().any(|n: &String| n.eq_ignore_ascii_case(&name))
                {
                    names.push(name);
                }
            }
            self.upstream = Some(names);
        }
        self.connector = errors.check(opt(&at("connector"), self.connector.as_deref(), 60));
        self.dag_id = errors.check(dag_id(&at("dag_id"), self.dag_id.as_deref()));
        self.rollback_dag_id = errors.check(dag_id(
            &at("rollback_dag_id"),
            self.rollback_dag_id.as_deref(),
        ));
        // None keeps the stored retention; an empty value clears it.
        self.retention = match self.retention.take() {
            None => None,
            Some(v) if v.trim().is_empty() => Some(String::new()),
            Some(v) => errors.check(retention(&at("retention"), Some(&v))),
        };
        if self.dag_id.is_some() && self.dag_id == self.rollback_dag_id {
            errors.push(
                &at("rollback_dag_id"),
                "must differ from the production DAG id: a rollback that re-runs the production DAG is “clear and re-run”",
            );
        }
        if self.connector.is_none() && (self.dag_id.is_some() || self.rollback_dag_id.is_some()) {
            errors.push(&at("connector"), "is required when a DAG id is given");
        }
        if self.connector.is_some() && self.kind != Some(ComponentKind::Job) {
            errors.push(&at("connector"), "only job components run on a connector");
        }
        if errors.0.is_empty() {
            Ok(self)
        } else {
            Err(errors.0)
        }
    }
}

pub fn join_path(path: &str, field: &str) -> String {
    if path.is_empty() {
        field.to_string()
    } else {
        format!("{path}.{field}")
    }
}

/// A component name: 1–200 printable characters (dbt unique ids such as
/// `model.shop.orders.v2` fit).
pub fn component_name(field: &str, name: &str) -> Result<String, FieldError> {
    validate::text(field, name, NAME_MAX, true, false)
}

fn opt(field: &str, value: Option<&str>, max: usize) -> Result<Option<String>, FieldError> {
    validate::optional(field, value.unwrap_or(""), max)
}

/// Airflow DAG ids: letters, digits, `_`, `-`, `.`; at most 250 characters.
pub fn dag_id(field: &str, value: Option<&str>) -> Result<Option<String>, FieldError> {
    let Some(value) = opt(field, value, 250)? else {
        return Ok(None);
    };
    if value
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
    {
        Ok(Some(value))
    } else {
        Err(FieldError::new(
            field,
            "may contain only letters, digits, underscores, dashes and dots (an Airflow DAG id)",
        ))
    }
}

/// Tags: lower-case words of letters, digits, `_`, `-`, `:`; duplicates dropped.
fn tags(field: &str, tags: &[String]) -> Result<Vec<String>, FieldError> {
    let mut out: Vec<String> = Vec::new();
    for tag in tags.iter().flat_map(|t| t.split(',')) {
        let tag = tag.trim().to_lowercase();
        if tag.is_empty() {
            continue;
        }
        if tag.len() > 40
            || !tag
                .chars()
                .all(|c| c.is_alphanumeric() || matches!(c, '_' | '-' | ':'))
        {
            return Err(FieldError::new(
                field,
                format!("`{tag}` is not a tag: use up to 40 letters, digits, _, - or :"),
            ));
        }
        if !out.contains(&tag) {
            out.push(tag);
        }
    }
    if out.len() > 20 {
        return Err(FieldError::new(field, "at most 20 tags"));
    }
    out.sort();
    Ok(out)
}

/// The result of declaring a batch of components.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeclareSummary {
    pub created: Vec<String>,
    pub updated: Vec<String>,
    pub unchanged: usize,
    pub edges_added: usize,
    pub edges_removed: usize,
}

/// What an import did, shown on the import page after the redirect.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportResult {
    /// `dbt` or `file`.
    pub format: String,
    pub created: usize,
    pub updated: usize,
    pub unchanged: usize,
    pub edges_added: usize,
    pub edges_removed: usize,
}

impl ImportResult {
    pub fn new(format: &str, s: &DeclareSummary) -> Self {
        Self {
            format: format.to_string(),
            created: s.created.len(),
            updated: s.updated.len(),
            unchanged: s.unchanged,
            edges_added: s.edges_added,
            edges_removed: s.edges_removed,
        }
    }

    pub fn query(&self) -> String {
        format!(
            "format={}&created={}&updated={}&unchanged={}&edges_added={}&edges_removed={}",
            self.format,
            self.created,
            self.updated,
            self.unchanged,
            self.edges_added,
            self.edges_removed
        )
    }
}

/// Turns a list of errors into the validation error of a form or import.
pub fn invalid(fields: Vec<FieldError>) -> AppError {
    AppError::Validation { fields }
}

/// A downstream component reached from the one whose impact is asked for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImpactEntry {
    pub component: ComponentRef,
    /// Edges on the shortest path from the root.
    pub distance: u32,
    /// Names along that path, root first, this component last.
    pub path: Vec<String>,
}

/// Everything downstream of a component, ready for the table and the picture.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Impact {
    pub root: ComponentRef,
    pub entries: Vec<ImpactEntry>,
    /// The picture (server-rendered SVG), or `None` when the graph is too large to draw.
    pub svg: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decl(name: &str) -> Declaration {
        Declaration {
            name: name.into(),
            kind: Some(ComponentKind::Dataset),
            ..Default::default()
        }
    }

    #[test]
    fn a_declaration_names_each_bad_field_with_its_path() {
        let bad = Declaration {
            name: " ".into(),
            kind: None,
            tags: vec!["no spaces please".into()],
            ..Default::default()
        };
        let errors = bad.normalise("components[2]").unwrap_err();
        let fields: Vec<_> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(
            fields,
            [
                "components[2].name",
                "components[2].kind",
                "components[2].tags"
            ]
        );
    }

    #[test]
    fn a_component_cannot_depend_on_itself() {
        let d = Declaration {
            upstream: Some(vec!["Orders".into()]),
            ..decl("orders")
        };
        let errors = d.normalise("").unwrap_err();
        assert_eq!(errors[0].field, "upstream[0]");
        assert!(errors[0].message.contains("itself"));
    }

    #[test]
    fn upstream_duplicates_and_tags_are_normalised() {
        let d = Declaration {
            upstream: Some(vec!["a".into(), "A".into(), "b".into()]),
            tags: vec!["Finance, pii".into(), "finance".into()],
            ..decl("orders")
        };
        let d = d.normalise("").unwrap();
        assert_eq!(d.upstream.unwrap(), ["a", "b"]);
        assert_eq!(d.tags, ["finance", "pii"]);
    }

    #[test]
    fn dag_ids_need_a_connector_on_a_job() {
        let d = Declaration {
            dag_id: Some("orders_daily".into()),
            ..decl("orders_dag")
        };
        assert_eq!(d.normalise("").unwrap_err()[0].field, "connector");
        let d = Declaration {
            connector: Some("airflow".into()),
            dag_id: Some("orders daily".into()),
            kind: Some(ComponentKind::Job),
            ..decl("orders_dag")
        };
        assert_eq!(d.normalise("").unwrap_err()[0].field, "dag_id");
    }

    #[test]
    fn a_rollback_dag_must_not_be_the_production_dag() {
        let d = Declaration {
            connector: Some("airflow".into()),
            dag_id: Some("orders_etl".into()),
            rollback_dag_id: Some("orders_etl".into()),
            kind: Some(ComponentKind::Job),
            ..decl("orders_dag")
        };
        let errors = d.normalise("").unwrap_err();
        assert_eq!(errors[0].field, "rollback_dag_id");
        assert!(errors[0].message.contains("differ"));
    }
}
