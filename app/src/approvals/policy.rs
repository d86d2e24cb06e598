//! Approval policies: which groups sign off and how many from each, how long an approval lasts,
//! when rollbacks may start, and who approves a break-glass start outside those windows.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use super::{quorum::Requirement, windows::Window};
use crate::error::FieldError;

/// Which plans a policy governs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "value", rename_all = "snake_case")]
pub enum Scope {
    /// Plans no other policy governs.
    Default,
    /// Plans with a row on a component carrying this tag.
    Tag(String),
    /// Plans with a row on this pipeline (job component, by name).
    Pipeline(String),
}

impl Scope {
    pub fn describe(&self) -> String {
        match self {
            Self::Default => "Every plan no other policy covers".into(),
            Self::Tag(t) => format!("Plans touching components tagged `{t}`"),
            Self::Pipeline(p) => format!("Plans touching the pipeline `{p}`"),
        }
    }

    /// Most specific first: a pipeline policy beats a tag policy beats the default.
    pub fn rank(&self) -> u8 {
        match self {
            Self::Pipeline(_) => 0,
            Self::Tag(_) => 1,
            Self::Default => 2,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Policy {
    pub id: i64,
    pub name: String,
    pub scope: Scope,
    pub requirements: Vec<Requirement>,
    pub expiry_hours: i64,
    pub windows: Vec<Window>,
    /// The group whose extra approval lets a rollback start outside the windows.
    pub break_glass: Option<(i64, String)>,
    pub version: i64,
}

impl Policy {
    /// The requirements of a submission: the policy's, plus one approval from the break-glass
    /// group when the requester asked to start outside the windows.
    pub fn requirements_for(&self, break_glass: bool) -> Vec<Requirement> {
        let mut out = self.requirements.clone();
        if let (true, Some((id, name))) = (break_glass, &self.break_glass) {
            match out.iter_mut().find(|r| r.group_id == *id) {
                Some(r) => {
                    r.count += 1;
                    r.break_glass = true;
                }
                None => out.push(Requirement {
                    group_id: *id,
                    group: name.clone(),
                    count: 1,
                    break_glass: true,
                }),
            }
        }
        out
    }
}

/// The policy that governs a plan: the most specific match, the oldest among equals.
pub fn choose<'a>(
    policies: &'a [Policy],
    tags: &[String],
    pipelines: &[String],
) -> Option<&'a Policy> {
    policies
        .iter()
        .filter(|p| match &p.scope {
            Scope::Default => true,
            Scope::Tag(t) => tags.iter().any(|x| x.eq_ignore_ascii_case(t)),
            Scope::Pipeline(n) => pipelines.iter().any(|x| x.eq_ignore_ascii_case(n)),
        })
        .min_by_key(|p| (p.scope.rank(), p.id))
}

/// Parses a time zone name, naming the field when it does not exist.
#[cfg(feature = "ssr")]
pub fn time_zone(field: &str, name: &str) -> Result<chrono_tz::Tz, FieldError> {
    name.trim().parse::<chrono_tz::Tz>().map_err(|_| {
        FieldError::new(
            field,
            format!("`{}` is not a time zone: use an IANA name such as Europe/Berlin, America/New_York or UTC.", name.trim()),
        )
    })
}

#[cfg(feature = "ssr")]
fn weekday(s: &str) -> Option<chrono::Weekday> {
    use chrono::Weekday;
    let s = s.to_ascii_lowercase();
    [
        Weekday::Mon,
        Weekday::Tue,
        Weekday::Wed,
        Weekday::Thu,
        Weekday::Fri,
        Weekday::Sat,
        Weekday::Sun,
    ]
    .into_iter()
    .find(|d| d.to_string().to_ascii_lowercase() == s.get(..3).unwrap_or(""))
}

#[cfg(feature = "ssr")]
fn local(s: &str) -> Option<chrono::NaiveDateTime> {
    chrono::NaiveDateTime::parse_from_str(s.trim(), "%Y-%m-%d %H:%M").ok()
}

/// Windows as an admin types them, one per line:
///
/// ```text
/// weekly Sat 02:00-06:00 Europe/Berlin
/// once 2026-12-24 22:00 to 2026-12-25 04:00 Europe/Berlin
/// blackout 2026-12-31 00:00 to 2027-01-02 00:00 UTC
/// ```
#[cfg(feature = "ssr")]
pub fn parse_windows(text: &str) -> Result<Vec<Window>, FieldError> {
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let at = |m: String| FieldError::new("windows", format!("Line {}: {m}", i + 1));
        let words: Vec<&str> = line.split_whitespace().collect();
        let (kind, rest) = words.split_first().ok_or_else(|| at("is empty".into()))?;
        let (tz, middle) = rest
            .split_last()
            .ok_or_else(|| at("needs times and a time zone".into()))?;
        time_zone("windows", tz).map_err(|e| at(e.message))?;
        let tz = tz.to_string();
        match kind.to_ascii_lowercase().as_str() {
            "weekly" => {
                let [day, span] = middle else {
                    return Err(at(
                        "write it like `weekly Sat 02:00-06:00 Europe/Berlin`".into()
                    ));
                };
                let day = weekday(day)
                    .ok_or_else(|| at(format!("`{day}` is not a weekday (Mon … Sun)")))?;
                let (s, e) = span
                    .split_once('-')
                    .ok_or_else(|| at("the times are written `02:00-06:00`".into()))?;
                let time = |t: &str| {
                    chrono::NaiveTime::parse_from_str(t, "%H:%M")
                        .map_err(|_| at(format!("`{t}` is not a time (HH:MM)")))
                };
                let (start, end) = (time(s)?, time(e)?);
                if start == end {
                    return Err(at("the window ends when it starts: give it a length".into()));
                }
                out.push(Window::Weekly {
                    day,
                    start,
                    end,
                    tz,
                });
            }
            "once" | "blackout" => {
                let joined = middle.join(" ");
                let (s, e) = joined.split_once(" to ").ok_or_else(|| {
                    at(format!(
                        "write it like `{kind} 2026-12-24 22:00 to 2026-12-25 04:00 UTC`"
                    ))
                })?;
                let start = local(s).ok_or_else(|| {
                    at(format!("`{s}` is not a date and time (YYYY-MM-DD HH:MM)"))
                })?;
                let end = local(e).ok_or_else(|| {
                    at(format!("`{e}` is not a date and time (YYYY-MM-DD HH:MM)"))
                })?;
                if end <= start {
                    return Err(at(format!("the window ends ({e}) before it starts ({s})")));
                }
                out.push(if kind.eq_ignore_ascii_case("once") {
                    Window::Once { start, end, tz }
                } else {
                    Window::Blackout { start, end, tz }
                });
            }
            other => {
                return Err(at(format!(
                    "`{other}` is not a kind of window: use weekly, once or blackout"
                )))
            }
        }
    }
    Ok(out)
}

/// The windows written back as the admin types them.
pub fn format_windows(windows: &[Window]) -> String {
    windows
        .iter()
        .map(|w| match w {
            Window::Weekly {
                day,
                start,
                end,
                tz,
            } => {
                format!(
                    "weekly {day} {}-{} {tz}",
                    start.format("%H:%M"),
                    end.format("%H:%M")
                )
            }
            Window::Once { start, end, tz } => {
                format!(
                    "once {} to {} {tz}",
                    start.format("%Y-%m-%d %H:%M"),
                    end.format("%Y-%m-%d %H:%M")
                )
            }
            Window::Blackout { start, end, tz } => {
                format!(
                    "blackout {} to {} {tz}",
                    start.format("%Y-%m-%d %H:%M"),
                    end.format("%Y-%m-%d %H:%M")
                )
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Group requirements as typed: `Product: 1` per line, names matched without case.
pub fn parse_requirements(
    text: &str,
    groups: &HashMap<String, (i64, String)>,
) -> Result<Vec<Requirement>, FieldError> {
    let mut out: Vec<Requirement> = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        let at = |m: String| FieldError::new("requirements", format!("Line {}: {m}", i + 1));
        let (name, count) = line
            .rsplit_once(':')
            .ok_or_else(|| at("write it like `Product: 1`".into()))?;
        let (id, group) = groups
            .get(&name.trim().to_lowercase())
            .cloned()
            .ok_or_else(|| at(format!("there is no group named `{}`", name.trim())))?;
        let count: u32 = count
            .trim()
            .parse()
            .ok()
            .filter(|n| (1..=20).contains(n))
            .ok_or_else(|| {
                at(format!(
                    "`{}` is not a number of approvals from 1 to 20",
                    count.trim()
                ))
            })?;
        if out.iter().any(|r| r.group_id == id) {
            return Err(at(format!("`{group}` is listed twice")));
        }
        out.push(Requirement {
            group_id: id,
            group,
            count,
            break_glass: false,
        });
    }
    if out.is_empty() {
        return Err(FieldError::new(
            "requirements",
            "A policy needs at least one group that signs off.",
        ));
    }
    Ok(out)
}
