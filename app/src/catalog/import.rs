//! The catalog import file (YAML or JSON, same shape) and format detection for uploads.
//!
//! ```yaml
//! components:
//!   - name: orders            # required, unique (any case)
//!     kind: dataset           # dataset | job | dashboard | other
//!     owner: data-platform    # a user or team, free text
//!     description: Cleaned orders
//!     tags: [finance]
//!     upstream: [raw_orders]  # replaces this component's upstream dependencies
//!   - name: orders_daily
//!     kind: job
//!     connector: airflow-prod # a connector's name
//!     dag_id: orders_daily
//!     rollback_dag_id: orders_rollback
//! ```

use serde::Deserialize;

use super::{
    dbt,
    model::{ComponentKind, Declaration},
};
use crate::error::FieldError;

/// The largest upload accepted (import file or dbt manifest).
pub const MAX_BYTES: usize = 25 * 1024 * 1024;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    components: Vec<Entry>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Entry {
    name: String,
    kind: ComponentKind,
    #[serde(default)]
    owner: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    tags: Vec<String>,
    #[serde(default)]
    upstream: Option<Vec<String>>,
    #[serde(default)]
    connector: Option<String>,
    #[serde(default)]
    dag_id: Option<String>,
    #[serde(default)]
    rollback_dag_id: Option<String>,
    #[serde(default)]
    retention: Option<String>,
}

impl From<Entry> for Declaration {
    fn from(e: Entry) -> Self {
        Declaration {
            name: e.name,
            kind: Some(e.kind),
            owner: e.owner,
            description: e.description,
            tags: e.tags,
            upstream: e.upstream,
            connector: e.connector,
            dag_id: e.dag_id,
            rollback_dag_id: e.rollback_dag_id,
            retention: e.retention,
        }
    }
}

/// What an upload turned out to be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Parsed {
    File(Vec<Declaration>),
    /// A dbt manifest, with its project name.
    Dbt {
        project: String,
        declarations: Vec<Declaration>,
    },
}

/// Parses an upload: a dbt `manifest.json` (recognised by its `metadata.dbt_schema_version`), a
/// JSON import file, or a YAML import file. Errors name the line and the path.
pub fn parse_upload(bytes: &[u8]) -> Result<Parsed, Vec<FieldError>> {
    if bytes.len() > MAX_BYTES {
        return Err(vec![too_large(bytes.len())]);
    }
    let text = std::str::from_utf8(bytes).map_err(|_| {
        vec![FieldError::new(
            "file",
            "is not UTF-8 text: upload a YAML or JSON file",
        )]
    })?;
    let trimmed = text.trim_start();
    if trimmed.is_empty() {
        return Err(vec![FieldError::new("file", "is empty")]);
    }
    if trimmed.starts_with('{') && dbt::looks_like_manifest(text) {
        let (project, declarations) = dbt::parse(bytes)?;
        return Ok(Parsed::Dbt {
            project,
            declarations,
        });
    }
    let file = if trimmed.starts_with('{') {
        parse_json(text)
    } else {
        parse_yaml(text)
    }
    .map_err(|e| vec![e])?;
    Ok(Parsed::File(
        file.components.into_iter().map(Declaration::from).collect(),
    ))
}

pub fn too_large(len: usize) -> FieldError {
    FieldError::new(
        "file",
        format!(
            "is {:.1} MB; the largest file accepted is {} MB",
            len as f64 / 1_048_576.0,
            MAX_BYTES / 1_048_576
        ),
    )
}

fn parse_json(text: &str) -> Result<File, FieldError> {
    let mut de = serde_json::Deserializer::from_str(text);
    serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let line = e.inner().line();
        located(line, &e.path().to_string(), &e.inner().to_string())
    })
}

fn parse_yaml(text: &str) -> Result<File, FieldError> {
    let de = serde_norway::Deserializer::from_str(text);
    serde_path_to_error::deserialize(de).map_err(|e| {
        let line = e.inner().location().map(|l| l.line()).unwrap_or(0);
        located(line, &e.path().to_string(), &e.inner().to_string())
    })
}

/// "line 7, components[1].kind: unknown variant `tabel`, expected one of …".
fn located(line: usize, path: &str, message: &str) -> FieldError {
    // serde's message repeats the position at its end; the prefix says it already.
    let message = message.split(" at line ").next().unwrap_or(message);
    let message = message
        .strip_prefix(&format!("{path}: "))
        .unwrap_or(message);
    let field = if path.is_empty() || path == "." {
        "file".to_string()
    } else {
        path.to_string()
    };
    let at = if line > 0 {
        format!("line {line}: ")
    } else {
        String::new()
    };
    FieldError::new(&field, format!("{at}{message}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_yaml_file_becomes_declarations() {
        let yaml = "components:\n  - name: raw_orders\n    kind: dataset\n  - name: orders\n    kind: dataset\n    upstream: [raw_orders]\n";
        let Parsed::File(decls) = parse_upload(yaml.as_bytes()).unwrap() else {
            panic!("not a file")
        };
        assert_eq!(decls.len(), 2);
        assert_eq!(
            decls[1].upstream.as_deref(),
            Some(&["raw_orders".to_string()][..])
        );
    }

    #[test]
    fn a_bad_kind_names_its_line_and_path() {
        let yaml = "components:\n  - name: a\n    kind: dataset\n  - name: b\n    kind: tabel\n";
        let err = &parse_upload(yaml.as_bytes()).unwrap_err()[0];
        assert_eq!(err.field, "components[1].kind");
        assert!(
            err.message.starts_with("line 5: unknown variant `tabel`"),
            "{}",
            err.message
        );
    }

    #[test]
    fn an_unknown_key_is_refused_with_its_path() {
        let json = r#"{"components": [{"name": "a", "kind": "job", "dagid": "x"}]}"#;
        let err = &parse_upload(json.as_bytes()).unwrap_err()[0];
        assert_eq!(err.field, "components[0].dagid");
        assert!(
            err.message.contains("unknown field `dagid`"),
            "{}",
            err.message
        );
    }

    #[test]
    fn malformed_json_names_the_line() {
        let err = &parse_upload(b"{\"components\": [\n  {\"name\": \"a\",\n").unwrap_err()[0];
        assert!(err.message.starts_with("line 3"), "{}", err.message);
    }

    #[test]
    fn oversized_uploads_are_refused_before_parsing() {
        let big = vec![b' '; MAX_BYTES + 1];
        let err = &parse_upload(&big).unwrap_err()[0];
        assert_eq!(err.field, "file");
        assert!(err.message.contains("largest file accepted is 25 MB"));
    }
}
