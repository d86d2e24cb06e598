//! What the plan page shows: the current revision, the approval standing, the sign-off and what
//! the viewer may do. Built on the server, serialized to the page.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::model::{PlanBody, PlanStatus};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RevisionMeta {
    pub number: i32,
    pub content_hash: String,
    pub author: String,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupStanding {
    pub group: String,
    pub needed: u32,
    pub approvers: Vec<String>,
    pub break_glass: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DecisionView {
    pub approver: String,
    pub approve: bool,
    /// The group the approval counted for.
    pub group: Option<String>,
    pub reason: String,
    pub revision: i32,
    pub decided_at: DateTime<Utc>,
    /// Why it no longer counts: voided by a later revision, or expired.
    pub void_reason: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Approval {
    pub policy: String,
    pub submitted_at: DateTime<Utc>,
    pub expiry_hours: i64,
    pub break_glass_reason: Option<String>,
    pub groups: Vec<GroupStanding>,
    /// The windows as text, and when a sign-off now would start.
    pub windows: String,
    pub next_start: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignOff {
    pub revision: i32,
    pub content_hash: String,
    pub signed_at: DateTime<Utc>,
    pub break_glass: bool,
    pub execution_id: i64,
    pub execution_status: String,
    pub run_after: Option<DateTime<Utc>>,
}

/// What the viewer may do here, decided by the server.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Rights {
    pub edit: bool,
    pub submit: bool,
    /// The viewer may withdraw the plan (it is not signed off).
    pub withdraw: bool,
    pub decide: bool,
    /// Why the viewer may not decide, when they are an approver who cannot.
    pub decide_refusal: Option<String>,
    /// The viewer's approval of this revision expired: deciding again renews it.
    pub renew: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanPage {
    pub id: i64,
    pub change_id: i64,
    pub change_title: String,
    pub status: PlanStatus,
    pub author: String,
    pub revision: RevisionMeta,
    pub body: PlanBody,
    pub revisions: Vec<RevisionMeta>,
    pub approval: Option<Approval>,
    pub decisions: Vec<DecisionView>,
    pub sign_off: Option<SignOff>,
    pub rights: Rights,
    /// A fresh idempotency key for the decision form.
    pub request_key: String,
    /// Rows whose catalog binding changed since this revision was saved.
    pub drift: Vec<Drift>,
    /// Why the plan was withdrawn.
    pub end_reason: Option<String>,
    /// Earlier data versions of the plan's components (the editor's suggestions).
    pub versions: Vec<VersionOption>,
}

/// A row whose connector or DAG ids in the catalog differ from the revision's snapshot.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Drift {
    /// `stage N row M`.
    pub at: String,
    pub component: String,
    /// What changed, e.g. "rollback DAG `a` → `b`".
    pub what: String,
}

/// A data version a component had before the change, as the editor offers it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VersionOption {
    pub component_id: i64,
    pub version: String,
    /// The version with when and by which change it was produced.
    pub label: String,
}

/// One plan waiting for the viewer's decision.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InboxItem {
    pub plan_id: i64,
    pub change_id: i64,
    pub change_title: String,
    pub revision: i32,
    pub submitted_at: DateTime<Utc>,
    /// The viewer's groups this plan needs.
    pub groups: Vec<String>,
    /// The viewer decided on an earlier revision; an edit voided that decision.
    pub revised: bool,
    /// The viewer's approval of this revision expired before the sign-off.
    pub renew: bool,
}

/// One plan in a change's history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanOfChange {
    pub id: i64,
    pub status: PlanStatus,
    pub created_at: DateTime<Utc>,
    /// Why it was withdrawn.
    pub end_reason: Option<String>,
}
