use chrono::{DateTime, NaiveDate, NaiveDateTime, SubsecRound, Utc};
use serde::{Deserialize, Serialize};

use crate::{
    audit::Actor,
    catalog::model::{component_name, ComponentRef},
    error::{AppError, FieldError},
    validate::{self, Errors},
};

/// What kind of change was deployed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChangeKind {
    Transform,
    SchemaMigration,
    Config,
    Backfill,
    Other,
}

impl ChangeKind {
    pub const ALL: [ChangeKind; 5] = [
        Self::Transform,
        Self::SchemaMigration,
        Self::Config,
        Self::Backfill,
        Self::Other,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Transform => "transform",
            Self::SchemaMigration => "schema_migration",
            Self::Config => "config",
            Self::Backfill => "backfill",
            Self::Other => "other",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::Transform => "Transform / DAG version",
            Self::SchemaMigration => "Schema migration",
            Self::Config => "Configuration",
            Self::Backfill => "Data backfill",
            Self::Other => "Other",
        }
    }
}

/// Where a change is in its life: later issues add the rollback transitions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChangeStatus {
    Recorded,
    RollbackPlanned,
    RollingBack,
    RolledBack,
    RollbackFailed,
    Closed,
}

impl ChangeStatus {
    pub const ALL: [ChangeStatus; 6] = [
        Self::Recorded,
        Self::RollbackPlanned,
        Self::RollingBack,
        Self::RolledBack,
        Self::RollbackFailed,
        Self::Closed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Recorded => "recorded",
            Self::RollbackPlanned => "rollback_planned",
            Self::RollingBack => "rolling_back",
            Self::RolledBack => "rolled_back",
            Self::RollbackFailed => "rollback_failed",
            Self::Closed => "closed",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::Recorded => "Recorded",
            Self::RollbackPlanned => "Rollback planned",
            Self::RollingBack => "Rolling back",
            Self::RolledBack => "Rolled back",
            Self::RollbackFailed => "Rollback failed",
            Self::Closed => "Closed",
        }
    }
}

/// A link to where the change is discussed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Link {
    /// `pr`, `ticket` or `other`.
    pub kind: String,
    pub url: String,
}

/// A component the change touched, with the data version it produced there (if known).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Affected {
    pub component: ComponentRef,
    /// The data version the change produced.
    pub data_version: String,
    /// The version the component had before the change, when recorded (empty otherwise).
    #[serde(default)]
    pub data_version_before: String,
}

/// A change with everything its page shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Change {
    pub id: i64,
    pub title: String,
    pub kind: ChangeKind,
    pub why: String,
    pub author: Actor,
    pub deployed_at: DateTime<Utc>,
    pub git_sha: Option<String>,
    /// The code version the change replaced, when recorded.
    pub git_sha_before: Option<String>,
    pub artifact_ref: Option<String>,
    pub links: Vec<Link>,
    pub status: ChangeStatus,
    pub version: i64,
    pub components: Vec<Affected>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// Set when the change was closed without a rollback.
    pub closed: Option<Closure>,
}

/// Why a change was closed without a rollback, and where the forward fix is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Closure {
    pub reason: String,
    pub link: Option<String>,
}

/// One row of the change list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChangeSummary {
    pub id: i64,
    pub title: String,
    pub kind: ChangeKind,
    pub status: ChangeStatus,
    pub author: String,
    pub deployed_at: DateTime<Utc>,
    pub components: i64,
}

/// A validated change, ready to store; components are still names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewChange {
    pub title: String,
    pub kind: ChangeKind,
    pub why: String,
    pub deployed_at: DateTime<Utc>,
    pub git_sha: Option<String>,
    pub git_sha_before: Option<String>,
    pub artifact_ref: Option<String>,
    pub links: Vec<Link>,
    /// (component name, data version produced)
    pub components: Vec<(String, String)>,
    /// (component name, data version before the change), for the components that record one.
    pub versions_before: Vec<(String, String)>,
}

/// The raw fields of a change, as the form or the API sends them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChangeInput {
    pub title: String,
    pub kind: String,
    pub why: String,
    /// `YYYY-MM-DDTHH:MM` (UTC, from the form) or RFC 3339; empty means now.
    pub deployed_at: String,
    pub git_sha: String,
    /// The commit the change replaced (what a rollback restores), when known.
    #[serde(default)]
    pub git_sha_before: String,
    pub artifact_ref: String,
    pub links: Vec<Link>,
    pub components: Vec<(String, String)>,
    /// (component name, data version before the change).
    #[serde(default)]
    pub versions_before: Vec<(String, String)>,
}

pub const MAX_COMPONENTS: usize = 200;

impl NewChange {
    /// Checks every field; each error names its field (`components[2]`, `links[0].url`).
    pub fn parse(input: &ChangeInput, now: DateTime<Utc>) -> Result<Self, AppError> {
        let mut e = Errors::default();
        let title = e.check(validate::text("title", &input.title, 200, true, false));
        let kind = ChangeKind::parse(input.kind.trim());
        if kind.is_none() {
            e.push("kind", "choose what kind of change this is: transform, schema_migration, config, backfill or other");
        }
        let why = e.check(validate::text("why", &input.why, 5000, true, true));
        let deployed_at = e.check(deployed_at(&input.deployed_at, now));
        let git_sha_before = e.check(
            git_sha(&input.git_sha_before)
                .map_err(|f| FieldError::new("git_sha_before", f.message)),
        );
        let git_sha = e.check(git_sha(&input.git_sha));
        let artifact_ref = e.check(validate::optional("artifact_ref", &input.artifact_ref, 500));
        let links = e.check(links(&input.links));
        let components = e.check(components(&input.components));
        let versions_before = e.check(versions_before(&input.versions_before, &components));
        e.finish(Self {
            title,
            kind: kind.unwrap_or(ChangeKind::Other),
            why,
            deployed_at: deployed_at.unwrap_or(now).trunc_subsecs(0),
            git_sha,
            git_sha_before,
            artifact_ref,
            links,
            components,
            versions_before,
        })
    }
}

/// A git commit id: 7 to 40 hexadecimal digits (64 for SHA-256 repositories), stored lower-case.
pub fn git_sha(value: &str) -> Result<Option<String>, FieldError> {
    let v = value.trim().to_lowercase();
    if v.is_empty() {
        return Ok(None);
    }
    let hex = v.chars().all(|c| c.is_ascii_hexdigit());
    if hex && ((7..=40).contains(&v.len()) || v.len() == 64) {
        Ok(Some(v))
    } else {
        Err(FieldError::new(
            "git_sha",
            format!(
                "`{}` is not a git commit id: use 7 to 40 hexadecimal digits (0-9, a-f)",
                value.trim()
            ),
        ))
    }
}

/// A form's `2026-11-23T14:05` (read as UTC) or an API's RFC 3339 time; not in the future.
pub fn deployed_at(value: &str, now: DateTime<Utc>) -> Result<Option<DateTime<Utc>>, FieldError> {
    let v = value.trim();
    if v.is_empty() {
        return Ok(None);
    }
    let at = DateTime::parse_from_rfc3339(v)
        .map(|t| t.with_timezone(&Utc))
        .or_else(|_| NaiveDateTime::parse_from_str(v, "%Y-%m-%dT%H:%M").map(|t| t.and_utc()))
        .or_else(|_| NaiveDateTime::parse_from_str(v, "%Y-%m-%dT%H:%M:%S").map(|t| t.and_utc()))
        .map_err(|_| {
            FieldError::new(
                "deployed_at",
                "must be a date and time such as 2026-11-23T14:05 (UTC) or RFC 3339",
            )
        })?;
    if at > now + chrono::Duration::minutes(5) {
        return Err(FieldError::new(
            "deployed_at",
            "is in the future: record a change once it is deployed",
        ));
    }
    Ok(Some(at))
}

fn links(links: &[Link]) -> Result<Vec<Link>, FieldError> {
    if links.len() > 20 {
        return Err(FieldError::new("links", "at most 20 links"));
    }
    let mut out = Vec::new();
    for (i, l) in links.iter().enumerate() {
        let kind = match l.kind.trim() {
            "pr" | "ticket" | "other" => l.kind.trim().to_string(),
            "" => "other".to_string(),
            k => {
                return Err(FieldError::new(
                    &format!("links[{i}].kind"),
                    format!("`{k}` is not a link kind: use pr, ticket or other"),
                ))
            }
        };
        if l.url.trim().is_empty() {
            continue;
        }
        let field = match kind.as_str() {
            "pr" => "pr_url".to_string(),
            "ticket" => "ticket_url".to_string(),
            _ => format!("links[{i}].url"),
        };
        let url = validate::url(&field, &l.url)?;
        out.push(Link { kind, url });
    }
    Ok(out)
}

fn components(list: &[(String, String)]) -> Result<Vec<(String, String)>, FieldError> {
    let mut out: Vec<(String, String)> = Vec::new();
    for (i, (name, version)) in list.iter().enumerate() {
        let name = component_name(&format!("components[{i}]"), name)?;
        let version = validate::text(&format!("components[{i}]"), version, 300, false, false)?;
        if out.iter().any(|(n, _)| n.eq_ignore_ascii_case(&name)) {
            return Err(FieldError::new(
                "components",
                format!("`{name}` is listed twice"),
            ));
        }
        out.push((name, version));
    }
    if out.is_empty() {
        return Err(FieldError::new(
            "components",
            "name at least one affected component from the catalog",
        ));
    }
    if out.len() > MAX_COMPONENTS {
        return Err(FieldError::new(
            "components",
            format!("at most {MAX_COMPONENTS} components per change"),
        ));
    }
    Ok(out)
}

/// (component name, data version).
pub type NamedVersion = (String, String);

/// Versions before the change, for components the change lists; a blank one records nothing.
fn versions_before(
    list: &[(String, String)],
    components: &[(String, String)],
) -> Result<Vec<(String, String)>, FieldError> {
    let mut out = Vec::new();
    for (i, (name, version)) in list.iter().enumerate() {
        let version = validate::text(&format!("versions_before[{i}]"), version, 300, false, false)?;
        if version.is_empty() {
            continue;
        }
        let listed = components
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name.trim()));
        match listed {
            Some((n, produced)) if *produced == version => {
                return Err(FieldError::new(
                    "components",
                    format!("`{n}`: the version before the change cannot be the one it produced ({version})"),
                ))
            }
            Some((n, _)) => out.push((n.clone(), version)),
            None => {
                return Err(FieldError::new(
                    "components",
                    format!("`{}` has a version before but is not among the components", name.trim()),
                ))
            }
        }
    }
    Ok(out)
}

/// The form's "one component per line: `name`, `name | produced` or
/// `name | produced | before`" text: (name, produced) and (name, before).
pub fn parse_component_lines(text: &str) -> (Vec<NamedVersion>, Vec<NamedVersion>) {
    let mut components = Vec::new();
    let mut before = Vec::new();
    for line in text.lines().map(str::trim).filter(|l| !l.is_empty()) {
        let mut parts = line.splitn(3, '|').map(str::trim);
        let name = parts.next().unwrap_or_default().to_string();
        components.push((name.clone(), parts.next().unwrap_or_default().to_string()));
        if let Some(b) = parts.next().filter(|b| !b.is_empty()) {
            before.push((name, b.to_string()));
        }
    }
    (components, before)
}

/// The inverse of `parse_component_lines`, for the edit form.
pub fn component_lines(list: &[Affected]) -> String {
    list.iter()
        .map(
            |a| match (a.data_version.is_empty(), a.data_version_before.is_empty()) {
                (_, false) => format!(
                    "{} | {} | {}",
                    a.component.name, a.data_version, a.data_version_before
                ),
                (false, true) => format!("{} | {}", a.component.name, a.data_version),
                (true, true) => a.component.name.clone(),
            },
        )
        .collect::<Vec<_>>()
        .join("\n")
}

/// The list filters as typed (all text, all optional).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChangeQuery {
    #[serde(default)]
    pub q: String,
    #[serde(default)]
    pub status: String,
    #[serde(default)]
    pub kind: String,
    #[serde(default)]
    pub component: String,
    #[serde(default)]
    pub author: String,
    #[serde(default)]
    pub from: String,
    #[serde(default)]
    pub to: String,
    /// Keyset cursor from the previous page.
    #[serde(default)]
    pub after: String,
}

/// Keyset position: the (deployed_at, id) of the last row shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cursor {
    pub deployed_at: DateTime<Utc>,
    pub id: i64,
}

impl Cursor {
    pub fn encode(&self) -> String {
        format!("{}_{}", self.deployed_at.timestamp(), self.id)
    }

    pub fn decode(s: &str) -> Option<Self> {
        let (t, id) = s.split_once('_')?;
        Some(Self {
            deployed_at: DateTime::from_timestamp(t.parse().ok()?, 0)?,
            id: id.parse().ok()?,
        })
    }
}

/// A validated filter.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ChangeFilter {
    pub q: Option<String>,
    pub status: Option<ChangeStatus>,
    pub kind: Option<ChangeKind>,
    pub component: Option<String>,
    pub author: Option<String>,
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
    pub after: Option<Cursor>,
}

impl ChangeQuery {
    pub fn parse(&self) -> Result<ChangeFilter, AppError> {
        let mut e = Errors::default();
        let opt = |s: &str| Some(s.trim().to_string()).filter(|s| !s.is_empty());
        let status = match self.status.trim() {
            "" => None,
            s => ChangeStatus::parse(s).or_else(|| {
                e.push("status", format!("`{s}` is not a status"));
                None
            }),
        };
        let kind = match self.kind.trim() {
            "" => None,
            s => ChangeKind::parse(s).or_else(|| {
                e.push("kind", format!("`{s}` is not a kind of change"));
                None
            }),
        };
        let mut date = |field: &str, s: &str| match s.trim() {
            "" => None,
            s => NaiveDate::parse_from_str(s, "%Y-%m-%d").ok().or_else(|| {
                e.push(field, "must be a date such as 2026-11-23");
                None
            }),
        };
        let from = date("from", &self.from);
        let to = date("to", &self.to);
        if let (Some(f), Some(t)) = (from, to) {
            if t < f {
                e.push("to", "is before the start of the range");
            }
        }
        let after = match self.after.trim() {
            "" => None,
            s => Cursor::decode(s).or_else(|| {
                e.push("after", "is not a page position from this list");
                None
            }),
        };
        e.finish(ChangeFilter {
            q: opt(&self.q),
            status,
            kind,
            component: opt(&self.component),
            author: opt(&self.author).map(|a| a.to_lowercase()),
            from,
            to,
            after,
        })
    }
}

/// A page of changes, newest deployment first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChangesPage {
    pub changes: Vec<ChangeSummary>,
    /// The cursor of the next page, when there is one.
    pub next: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input() -> ChangeInput {
        ChangeInput {
            title: "Orders v2 transform".into(),
            kind: "transform".into(),
            why: "Dedupe orders".into(),
            deployed_at: "2026-11-20T10:30".into(),
            git_sha: "ABCDEF1".into(),
            components: vec![("orders".into(), "snap-1".into())],
            ..Default::default()
        }
    }

    fn now() -> DateTime<Utc> {
        "2026-11-23T12:00:00Z".parse().unwrap()
    }

    #[test]
    fn a_valid_change_is_normalised() {
        let c = NewChange::parse(&input(), now()).unwrap();
        assert_eq!(c.git_sha.as_deref(), Some("abcdef1"));
        assert_eq!(c.deployed_at.to_rfc3339(), "2026-11-20T10:30:00+00:00");
    }

    #[test]
    fn an_invalid_sha_is_refused_with_its_field() {
        for bad in ["xyz1234", "abc", &"a".repeat(41)] {
            let err = NewChange::parse(
                &ChangeInput {
                    git_sha: bad.into(),
                    ..input()
                },
                now(),
            )
            .unwrap_err();
            assert!(
                err.field_message("git_sha")
                    .unwrap()
                    .contains("not a git commit id"),
                "{bad}"
            );
        }
        assert!(NewChange::parse(
            &ChangeInput {
                git_sha: "a".repeat(64),
                ..input()
            },
            now()
        )
        .is_ok());
    }

    #[test]
    fn a_change_needs_a_component_a_title_and_a_reason() {
        let err = NewChange::parse(
            &ChangeInput {
                title: " ".into(),
                why: "".into(),
                components: vec![],
                ..input()
            },
            now(),
        )
        .unwrap_err();
        for f in ["title", "why", "components"] {
            assert!(err.field_message(f).is_some(), "{f}");
        }
    }

    #[test]
    fn a_future_deployment_and_bad_links_are_refused() {
        let err = NewChange::parse(
            &ChangeInput {
                deployed_at: "2027-01-01T00:00".into(),
                ..input()
            },
            now(),
        )
        .unwrap_err();
        assert!(err.field_message("deployed_at").unwrap().contains("future"));
        let links = vec![Link {
            kind: "pr".into(),
            url: "github.com/x".into(),
        }];
        let err = NewChange::parse(&ChangeInput { links, ..input() }, now()).unwrap_err();
        assert!(err.field_message("pr_url").is_some());
    }

    #[test]
    fn component_lines_round_trip() {
        let (parsed, before) = parse_component_lines("orders | snap-9 | snap-8\n\n  customers  \n");
        assert_eq!(
            parsed,
            [
                ("orders".to_string(), "snap-9".to_string()),
                ("customers".to_string(), String::new())
            ]
        );
        assert_eq!(before, [("orders".to_string(), "snap-8".to_string())]);
    }

    #[test]
    fn a_version_before_must_belong_to_a_listed_component_and_differ_from_the_produced_one() {
        let with = |before: Vec<(String, String)>| ChangeInput {
            versions_before: before,
            ..input()
        };
        let same = with(vec![("orders".into(), "snap-1".into())]);
        let err = NewChange::parse(&same, now()).unwrap_err();
        assert!(err
            .field_message("components")
            .unwrap()
            .contains("cannot be the one it produced"));
        let stray = with(vec![("other".into(), "snap-0".into())]);
        let err = NewChange::parse(&stray, now()).unwrap_err();
        assert!(err
            .field_message("components")
            .unwrap()
            .contains("not among the components"));
        let ok = NewChange::parse(&with(vec![("orders".into(), "snap-0".into())]), now()).unwrap();
        assert_eq!(
            ok.versions_before,
            [("orders".to_string(), "snap-0".to_string())]
        );
    }

    #[test]
    fn cursors_round_trip_and_garbage_is_refused() {
        let c = Cursor {
            deployed_at: now(),
            id: 42,
        };
        assert_eq!(Cursor::decode(&c.encode()), Some(c));
        let q = ChangeQuery {
            after: "nope".into(),
            ..Default::default()
        };
        assert!(q.parse().unwrap_err().field_message("after").is_some());
    }
}
