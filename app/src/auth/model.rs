use serde::{Deserialize, Serialize};

use crate::audit::Actor;

/// What a user may do. A user may hold several roles; groups are data, roles are code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Requester,
    Approver,
    PostmortemAuthor,
    Auditor,
    Admin,
}

impl Role {
    pub const ALL: [Role; 5] = [
        Role::Requester,
        Role::Approver,
        Role::PostmortemAuthor,
        Role::Auditor,
        Role::Admin,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Requester => "requester",
            Role::Approver => "approver",
            Role::PostmortemAuthor => "postmortem_author",
            Role::Auditor => "auditor",
            Role::Admin => "admin",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == s)
    }

    /// The name shown to people.
    pub fn label(self) -> &'static str {
        match self {
            Role::Requester => "Requester (data engineer)",
            Role::Approver => "Approver",
            Role::PostmortemAuthor => "Postmortem author",
            Role::Auditor => "Auditor (read-only)",
            Role::Admin => "Administrator",
        }
    }
}

/// Things a page or server function may require.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Permission {
    /// Create users, change their roles and groups, deactivate them, add groups.
    ManageUsers,
    /// Read the users and groups lists.
    ViewUsers,
    /// Read the audit log.
    ViewAudit,
    /// Read changes and the catalog (everyone signed in).
    Read,
    /// Declare components and dependencies, import lineage.
    EditCatalog,
    /// Record and edit changes.
    RecordChanges,
    /// Add and edit pipeline connectors.
    ManageConnectors,
    /// Create and revoke one's own API tokens.
    ManageOwnTokens,
    /// Create API tokens for any user (service users) and revoke anyone's.
    ManageAllTokens,
    /// Draft, revise and submit rollback plans.
    PlanRollbacks,
    /// Approve or reject submitted plans (group membership decides which).
    DecidePlans,
    ManagePolicies,
    /// Retry or skip a halted step, abort a rollback, mark a manual step done.
    OperateRollbacks,
    /// Open and write postmortems, add and edit their action items.
    WritePostmortems,
    /// Review and publish someone else's postmortem.
    ReviewPostmortems,
    /// Set up e-mail, read every delivery and retry failed ones.
    ManageNotifications,
}

impl Permission {
    /// The roles that grant this permission (any one suffices).
    pub fn roles(self) -> &'static [Role] {
        match self {
            Permission::ManageUsers => &[Role::Admin],
            Permission::ViewUsers => &[Role::Admin, Role::Auditor],
            Permission::ViewAudit => &[Role::Auditor, Role::Admin],
            Permission::Read => &Role::ALL,
            Permission::EditCatalog => &[Role::Requester, Role::Admin],
            Permission::RecordChanges => &[Role::Requester],
            Permission::ManageConnectors => &[Role::Admin],
            Permission::ManageOwnTokens => &[Role::Requester, Role::Admin],
            Permission::ManageAllTokens => &[Role::Admin],
            Permission::PlanRollbacks => &[Role::Requester],
            Permission::DecidePlans => &[Role::Approver],
            Permission::ManagePolicies => &[Role::Admin],
            Permission::OperateRollbacks => &[Role::Requester, Role::Admin],
            Permission::WritePostmortems => &[Role::PostmortemAuthor, Role::Requester],
            Permission::ReviewPostmortems => &[Role::PostmortemAuthor, Role::Admin],
            Permission::ManageNotifications => &[Role::Admin],
        }
    }
}

/// An approval group as a user's membership shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupRef {
    pub id: i64,
    pub name: String,
}

/// The signed-in user, as every page and server function sees them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CurrentUser {
    pub id: i64,
    pub username: String,
    pub display_name: String,
    pub roles: Vec<Role>,
    pub groups: Vec<GroupRef>,
}

impl CurrentUser {
    pub fn has_role(&self, role: Role) -> bool {
        self.roles.contains(&role)
    }

    pub fn can(&self, permission: Permission) -> bool {
        permission.roles().iter().any(|r| self.has_role(*r))
    }

    pub fn actor(&self) -> Actor {
        Actor {
            id: self.id,
            username: self.username.clone(),
        }
    }
}

/// "Requester (data engineer), Auditor (read-only)": roles as people read them.
pub fn roles_label(roles: &[Role]) -> String {
    roles
        .iter()
        .map(|r| r.label())
        .collect::<Vec<_>>()
        .join(", ")
}

/// "Product, Engineering", or "—" for none.
pub fn groups_label(groups: &[GroupRef]) -> String {
    if groups.is_empty() {
        return "—".to_string();
    }
    groups
        .iter()
        .map(|g| g.name.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user_with(roles: &[Role]) -> CurrentUser {
        CurrentUser {
            id: 1,
            username: "u".into(),
            display_name: "U".into(),
            roles: roles.to_vec(),
            groups: vec![],
        }
    }

    #[test]
    fn only_admins_manage_users() {
        assert!(user_with(&[Role::Admin]).can(Permission::ManageUsers));
        for role in [
            Role::Requester,
            Role::Approver,
            Role::PostmortemAuthor,
            Role::Auditor,
        ] {
            assert!(!user_with(&[role]).can(Permission::ManageUsers), "{role:?}");
        }
    }

    #[test]
    fn auditors_read_the_audit_log_and_users_but_change_nothing() {
        let auditor = user_with(&[Role::Auditor]);
        assert!(auditor.can(Permission::ViewAudit));
        assert!(auditor.can(Permission::ViewUsers));
        assert!(!auditor.can(Permission::ManageUsers));
    }

    #[test]
    fn several_roles_combine() {
        let u = user_with(&[Role::Requester, Role::Auditor]);
        assert!(u.can(Permission::ViewAudit) && u.has_role(Role::Requester));
    }

    #[test]
    fn roles_round_trip_through_their_names() {
        for role in Role::ALL {
            assert_eq!(Role::parse(role.as_str()), Some(role));
        }
        assert_eq!(Role::parse("root"), None);
    }
}
