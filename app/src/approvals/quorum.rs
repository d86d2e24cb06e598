//! Who may decide on a plan revision, which group a decision counts for, and whether the
//! required approvals are complete. Pure functions; the database enforces the same rules again.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

/// How many distinct approvers one group must provide.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Requirement {
    pub group_id: i64,
    pub group: String,
    pub count: u32,
    /// The extra approval a break-glass (outside any window) sign-off needs.
    #[serde(default)]
    pub break_glass: bool,
}

/// An approval as the tally sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Approval {
    pub approver_id: i64,
    pub group_id: i64,
    pub content_hash: String,
    pub decided_at: DateTime<Utc>,
    pub voided: bool,
}

/// Why someone may not decide.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    OwnPlan,
    OwnRevision,
    Submitted,
    OwnChange,
    NotInGroup,
}

impl Refusal {
    pub fn message(&self) -> &'static str {
        match self {
            Self::OwnPlan => "You drafted this plan, so you cannot approve or reject it: four eyes means someone else decides.",
            Self::OwnRevision => "You wrote a revision of this plan, so you cannot approve or reject it: four eyes means someone else decides.",
            Self::Submitted => "You submitted this plan for approval, so you cannot approve or reject it: four eyes means someone else decides.",
            Self::OwnChange => "You made the change this plan rolls back, so you cannot approve or reject it: four eyes means someone else decides.",
            Self::NotInGroup => "You are not in any group that must sign off this plan.",
        }
    }
}

/// Everyone who shaped a plan, none of whom may decide on it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Hands {
    pub drafter: i64,
    pub revision_authors: Vec<i64>,
    pub submitters: Vec<i64>,
    pub change_author: i64,
}

/// Four eyes, then membership: who may decide on a plan.
pub fn may_decide(
    user_id: i64,
    user_groups: &HashSet<i64>,
    hands: &Hands,
    required: &[Requirement],
) -> Result<(), Refusal> {
    if user_id == hands.drafter {
        return Err(Refusal::OwnPlan);
    }
    if user_id == hands.change_author {
        return Err(Refusal::OwnChange);
    }
    if hands.revision_authors.contains(&user_id) {
        return Err(Refusal::OwnRevision);
    }
    if hands.submitters.contains(&user_id) {
        return Err(Refusal::Submitted);
    }
    if !required.iter().any(|r| user_groups.contains(&r.group_id)) {
        return Err(Refusal::NotInGroup);
    }
    Ok(())
}

/// Whether an approval still counts for the revision with `current_hash` at `now`.
pub fn counts(a: &Approval, current_hash: &str, expiry: Duration, now: DateTime<Utc>) -> bool {
    !a.voided && a.content_hash == current_hash && a.decided_at + expiry > now
}

/// One group's standing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupTally {
    pub requirement: Requirement,
    pub approvers: Vec<i64>,
}

impl GroupTally {
    pub fn missing(&self) -> u32 {
        self.requirement
            .count
            .saturating_sub(self.approvers.len() as u32)
    }
}

/// Counts the approvals that still count, each person once, for the group their decision names.
pub fn tally(
    required: &[Requirement],
    approvals: &[Approval],
    current_hash: &str,
    expiry: Duration,
    now: DateTime<Utc>,
) -> Vec<GroupTally> {
    let mut counted_people = HashSet::new();
    let mut by_group: HashMap<i64, Vec<i64>> = HashMap::new();
    for a in approvals
        .iter()
        .filter(|a| counts(a, current_hash, expiry, now))
    {
        if counted_people.insert(a.approver_id) {
            by_group.entry(a.group_id).or_default().push(a.approver_id);
        }
    }
    required
        .iter()
        .map(|r| GroupTally {
            requirement: r.clone(),
            approvers: by_group.get(&r.group_id).cloned().unwrap_or_default(),
        })
        .collect()
}

pub fn complete(tallies: &[GroupTally]) -> bool {
    tallies.iter().all(|t| t.missing() == 0)
}

/// The group a new approval counts for: the first required group (in policy order) the approver
/// belongs to that still misses approvals, else the first one they belong to.
pub fn group_for(
    required: &[Requirement],
    tallies: &[GroupTally],
    user_groups: &HashSet<i64>,
) -> Option<i64> {
    let mine = || {
        required
            .iter()
            .filter(|r| user_groups.contains(&r.group_id))
    };
    mine()
        .find(|r| {
            tallies
                .iter()
                .any(|t| t.requirement.group_id == r.group_id && t.missing() > 0)
        })
        .or_else(|| mine().next())
        .map(|r| r.group_id)
}
