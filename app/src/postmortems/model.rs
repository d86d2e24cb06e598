//! Postmortems: what happened, learned from the tamper-evident record itself.

use serde::{Deserialize, Serialize};

use crate::{
    error::{AppError, FieldError},
    validate::{self, Errors},
};

/// draft → in review → published; editing a published postmortem starts a new draft version.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PostmortemStatus {
    Draft,
    InReview,
    Published,
}

impl PostmortemStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Draft => "draft",
            Self::InReview => "in_review",
            Self::Published => "published",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [Self::Draft, Self::InReview, Self::Published]
            .into_iter()
            .find(|v| v.as_str() == s)
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::Draft => "Draft",
            Self::InReview => "In review",
            Self::Published => "Published",
        }
    }
}

/// One section of the document: its field, heading, the guidance shown under it, and whether
/// publishing needs it.
pub struct Section {
    pub field: &'static str,
    pub heading: &'static str,
    pub guidance: &'static str,
    pub required: bool,
}

pub const SECTIONS: [Section; 11] = [
    Section { field: "summary", heading: "Summary", guidance: "Two or three sentences a reader outside the team understands: what broke, for whom, for how long, how it was fixed.", required: true },
    Section { field: "impact", heading: "Impact", guidance: "Who and what was affected: components, consumers and dashboards, the window of missing or wrong data, how long it lasted. Rollgate fills in what it knows.", required: true },
    Section { field: "trigger", heading: "Trigger", guidance: "The change or event that set it off.", required: true },
    Section { field: "detection", heading: "Detection", guidance: "How and when it was noticed, and by whom or what. Could we have noticed sooner?", required: true },
    Section { field: "root_cause", heading: "Root cause", guidance: "Why it happened: keep asking why until the answer is about the system, not a person.", required: true },
    Section { field: "contributing_factors", heading: "Contributing factors", guidance: "One per line: conditions that made it worse or more likely.", required: false },
    Section { field: "resolution", heading: "Resolution", guidance: "What was done to restore service, and whether anything is still pending.", required: true },
    Section { field: "went_well", heading: "What went well", guidance: "Practices and tools worth keeping.", required: false },
    Section { field: "went_wrong", heading: "What went wrong", guidance: "Where the response was slow, confused or blocked.", required: false },
    Section { field: "got_lucky", heading: "Where we got lucky", guidance: "What could have made this much worse, and did not by chance.", required: false },
    Section { field: "lessons", heading: "Lessons", guidance: "What we now know that we did not before.", required: true },
];

/// A section may hold this many characters.
pub const SECTION_MAX: usize = 10_000;

/// The sections as typed, by field name (missing ones are empty).
pub type Sections = std::collections::BTreeMap<String, String>;

/// Checks the sections a draft may be saved with: known fields, each at most `SECTION_MAX`
/// characters without control characters (newlines allowed). Empty sections are fine in a draft.
pub fn check_sections(input: &Sections) -> Result<Sections, AppError> {
    let mut e = Errors::default();
    let mut out = Sections::new();
    for (field, text) in input {
        if !SECTIONS.iter().any(|s| s.field == field) {
            e.push(field, "is not a section of a postmortem");
            continue;
        }
        let text = e.check(validate::text(field, text, SECTION_MAX, false, true));
        if !text.is_empty() {
            out.insert(field.clone(), text);
        }
    }
    e.finish(out)
}

/// What publishing needs that a draft does not: every required section written, and an action
/// item or the author's reason for having none.
pub fn publish_problems(
    sections: &Sections,
    items: usize,
    no_actions_reason: Option<&str>,
) -> Vec<FieldError> {
    let mut problems: Vec<FieldError> = SECTIONS
        .iter()
        .filter(|s| s.required && sections.get(s.field).is_none_or(|t| t.trim().is_empty()))
        .map(|s| {
            FieldError::new(
                s.field,
                format!("“{}” must be written before publishing", s.heading),
            )
        })
        .collect();
    if items == 0 && no_actions_reason.is_none_or(|r| r.trim().is_empty()) {
        problems.push(FieldError::new(
            "no_actions_reason",
            "add an action item, or say why this incident needs none",
        ));
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sections(pairs: &[(&str, &str)]) -> Sections {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn a_draft_may_be_empty_but_not_oversized_or_unknown() {
        assert!(check_sections(&Sections::new()).unwrap().is_empty());
        let long = "x".repeat(20_000);
        let err = check_sections(&sections(&[("summary", &long), ("gossip", "x")])).unwrap_err();
        assert!(err.field_message("summary").unwrap().contains("20000"));
        assert!(err.field_message("gossip").is_some());
        let kept = check_sections(&sections(&[
            ("summary", "  Orders were late.\n"),
            ("lessons", ""),
        ]))
        .unwrap();
        assert_eq!(
            kept.get("summary").map(String::as_str),
            Some("Orders were late.")
        );
        assert!(!kept.contains_key("lessons"));
    }

    #[test]
    fn publishing_names_every_missing_section_and_the_missing_action_items() {
        let problems = publish_problems(&sections(&[("summary", "s")]), 0, None);
        let fields: Vec<&str> = problems.iter().map(|p| p.field.as_str()).collect();
        assert_eq!(
            fields,
            [
                "impact",
                "trigger",
                "detection",
                "root_cause",
                "resolution",
                "lessons",
                "no_actions_reason"
            ]
        );
        let all: Vec<(&str, &str)> = SECTIONS.iter().map(|s| (s.field, "written")).collect();
        assert!(publish_problems(&sections(&all), 1, None).is_empty());
        assert!(publish_problems(&sections(&all), 0, Some("A one-off vendor outage")).is_empty());
    }
}
