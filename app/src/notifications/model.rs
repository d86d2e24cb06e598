//! What Rollgate tells people, and how a message travels.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// What a notification is about. Stored as `as_str`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    ApprovalRequested,
    PlanApproved,
    PlanRejected,
    ApprovalsVoided,
    SignedOff,
    ExecutionStarted,
    ExecutionHalted,
    RolledBack,
    ExecutionAborted,
    PostmortemInReview,
    PostmortemPublished,
    ItemAssigned,
}

impl Kind {
    pub const ALL: [Kind; 12] = [
        Self::ApprovalRequested,
        Self::PlanApproved,
        Self::PlanRejected,
        Self::ApprovalsVoided,
        Self::SignedOff,
        Self::ExecutionStarted,
        Self::ExecutionHalted,
        Self::RolledBack,
        Self::ExecutionAborted,
        Self::PostmortemInReview,
        Self::PostmortemPublished,
        Self::ItemAssigned,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::ApprovalRequested => "approval_requested",
            Self::PlanApproved => "plan_approved",
            Self::PlanRejected => "plan_rejected",
            Self::ApprovalsVoided => "approvals_voided",
            Self::SignedOff => "signed_off",
            Self::ExecutionStarted => "execution_started",
            Self::ExecutionHalted => "execution_halted",
            Self::RolledBack => "rolled_back",
            Self::ExecutionAborted => "execution_aborted",
            Self::PostmortemInReview => "postmortem_in_review",
            Self::PostmortemPublished => "postmortem_published",
            Self::ItemAssigned => "item_assigned",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::ApprovalRequested => "Approval requested",
            Self::PlanApproved => "Plan approved",
            Self::PlanRejected => "Plan rejected",
            Self::ApprovalsVoided => "Approvals voided by an edit",
            Self::SignedOff => "Rollback signed off",
            Self::ExecutionStarted => "Rollback started",
            Self::ExecutionHalted => "Rollback halted",
            Self::RolledBack => "Rolled back",
            Self::ExecutionAborted => "Rollback aborted",
            Self::PostmortemInReview => "Postmortem in review",
            Self::PostmortemPublished => "Postmortem published",
            Self::ItemAssigned => "Action item assigned",
        }
    }
}

/// How a delivery travels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    Email,
    Slack,
    Teams,
    Webhook,
}

impl Channel {
    pub const ALL: [Channel; 4] = [Self::Email, Self::Slack, Self::Teams, Self::Webhook];
    /// The kinds a team channel may be.
    pub const TEAM: [Channel; 3] = [Self::Slack, Self::Teams, Self::Webhook];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Email => "email",
            Self::Slack => "slack",
            Self::Teams => "teams",
            Self::Webhook => "webhook",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::Email => "E-mail",
            Self::Slack => "Slack",
            Self::Teams => "Microsoft Teams",
            Self::Webhook => "Signed webhook",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.as_str() == s)
    }
}

/// Where a delivery stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryStatus {
    Pending,
    Sent,
    Failed,
}

impl DeliveryStatus {
    pub const ALL: [DeliveryStatus; 3] = [Self::Pending, Self::Sent, Self::Failed];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Sent => "sent",
            Self::Failed => "failed",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::Pending => "Pending",
            Self::Sent => "Sent",
            Self::Failed => "Failed",
        }
    }
}

/// One notification as its recipient sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Notice {
    pub id: i64,
    pub kind: Kind,
    pub subject: String,
    pub body: String,
    pub link: String,
    pub created_at: DateTime<Utc>,
    /// How its e-mail went (None: no e-mail was sent for it).
    pub email: Option<DeliveryStatus>,
}

/// One page of a person's notifications, newest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct NoticePage {
    pub notices: Vec<Notice>,
    /// The id to pass as `before` for the next page.
    pub next: Option<i64>,
}

/// A delivery as the administrators' list shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Delivery {
    pub id: i64,
    pub channel: Channel,
    pub recipient: String,
    pub destination: String,
    pub subject: String,
    pub status: DeliveryStatus,
    pub attempts: i64,
    pub next_attempt_at: DateTime<Utc>,
    pub last_error: Option<String>,
    pub sent_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct DeliveryPage {
    pub deliveries: Vec<Delivery>,
    pub next: Option<i64>,
}

/// Who was told about one thing (an entity's page shows it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Told {
    pub kind: Kind,
    pub people: Vec<String>,
}

/// "Approval requested: ana, ben; Rolled back: carla".
pub fn told_summary(told: &[Told]) -> String {
    told.iter()
        .map(|t| format!("{} → {}", t.kind.label(), t.people.join(", ")))
        .collect::<Vec<_>>()
        .join("; ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_reads_back_from_its_stored_name() {
        for k in Kind::ALL {
            assert_eq!(Kind::parse(k.as_str()), Some(k));
        }
        assert_eq!(Kind::parse("nope"), None);
    }
}
